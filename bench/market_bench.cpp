// market_bench.cpp — market.list and market.search latency with N posts in the marketplace
// view (issue #13 §2: p95 ≤ 10 ms at 100k), measured as the handlers do the work: the view's
// SQLite query plus turning each post into its wire JSON. The baseline, in the same run on
// the same database, is a point lookup of one post by event id (the floor of any query).
//   list            limit 50, no filter (the UI's first page)
//   list_category   category = request (a quarter of the posts)
//   list_tag        one tag (1/40 of the posts)
//   list_500        limit 500 (the contract's maximum)
//   search_1 / _3   FTS5 BM25 over one / three words of a 2,000-word vocabulary, k = 50 (the
//                   handler's lexical candidates)
// Prints one JSON line: {"bench":"market","posts":N,"fill_s":…,"<query>_p50_ms":…,
// "<query>_p95_ms":…,"<query>_vs_lookup":… (p95 / the lookup's p95)}.
//
// Usage: hn_bench_market [posts (default 100000)] [queries per kind (default 300)]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "services/market/market_view.h"

namespace {

using namespace hn;
using namespace hn::services::market;
using SteadyClock = std::chrono::steady_clock;

constexpr std::int64_t NOW_MS = 1'780'000'000'000;

std::string word(std::size_t i) {
  static const char* syllables[] = {"ka",  "ni",   "ster", "was",  "ser",   "rad", "lei",
                                    "ter", "bo",   "hr",   "ma",   "schi",  "ne",  "gar",
                                    "ten", "zelt", "topf", "holz", "tisch", "lam"};
  std::string w = syllables[i % 20];
  w += syllables[(i / 20) % 20];
  w += syllables[(i / 400) % 5];
  return w;
}

events::Event post_event(std::size_t i, std::mt19937& rng) {
  std::uniform_int_distribution<std::size_t> vocab(0, 1999);
  std::string body;
  for (int w = 0; w < 20; ++w) body += word(vocab(rng)) + " ";
  static const char* categories[] = {"offer", "request", "info", "emergency"};
  char id[32];
  std::snprintf(id, sizeof id, "01HXR%021zu", i);
  events::Event e;
  e.event_id = EventId(id);
  e.lamport = static_cast<Lamport>(i + 1);
  e.wall_clock = "2026-05-26T08:14:22Z";
  e.author = NodeId("ed25519:bench-author-" + std::to_string(i % 50));
  e.event_type = events::EventType::market_post_created;
  e.data = Json{{"client_id", "c" + std::to_string(i)},
                {"category", categories[i % 4]},
                {"title", word(vocab(rng)) + " " + word(vocab(rng))},
                {"body", body},
                {"tags", Json::array({"tag" + std::to_string(i % 40)})},
                {"ttl_seconds", 366 * 86400}};
  return e;
}

struct Stats {
  double p50 = 0, p95 = 0;
};

template <typename F>
Stats measure(int n, F&& f) {
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    const auto t0 = SteadyClock::now();
    f(i);
    ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return Stats{ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 95 / 100)]};
}

std::size_t sink = 0;
void consume(const std::vector<Post>& posts) {
  Json out = Json::array();
  for (const auto& p : posts) out.push_back(p.to_json());
  sink += out.dump().size();
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
  const int q = argc > 2 ? std::atoi(argv[2]) : 300;
  auto view = MarketView::open(nullptr).value();
  std::mt19937 rng(42);
  const auto fill0 = SteadyClock::now();
  for (std::size_t i = 0; i < n; ++i) view->apply(post_event(i, rng));
  const double fill_s = std::chrono::duration<double>(SteadyClock::now() - fill0).count();
  // The view is only fast if every post landed: check.
  if (view->counts(NOW_MS)["active"].get<std::size_t>() != n) {
    std::fprintf(stderr, "market bench: the view holds %s\n", view->counts(NOW_MS).dump().c_str());
    return 1;
  }

  std::uniform_int_distribution<std::size_t> pick(0, n - 1);
  std::uniform_int_distribution<std::size_t> vocab(0, 1999);
  Json out{{"bench", "market"}, {"posts", n}, {"fill_s", fill_s}};
  const Stats lookup = measure(q, [&](int) {
    char id[32];
    std::snprintf(id, sizeof id, "01HXR%021zu", pick(rng));
    auto p = view->get(EventId(id)).value();
    if (p) consume({*p});
  });
  out["lookup_p50_ms"] = lookup.p50;
  out["lookup_p95_ms"] = lookup.p95;
  auto record = [&](const char* name, const Stats& s) {
    out[std::string(name) + "_p50_ms"] = s.p50;
    out[std::string(name) + "_p95_ms"] = s.p95;
    out[std::string(name) + "_vs_lookup"] = s.p95 / std::max(lookup.p95, 1e-6);
  };
  record("list", measure(q, [&](int) { consume(view->list(ListQuery{}, NOW_MS).value().posts); }));
  record("list_category", measure(q, [&](int) {
           ListQuery lq;
           lq.category = hn::services::market::Category::request;
           consume(view->list(lq, NOW_MS).value().posts);
         }));
  record("list_tag", measure(q, [&](int i) {
           ListQuery lq;
           lq.tags = {"tag" + std::to_string(i % 40)};
           consume(view->list(lq, NOW_MS).value().posts);
         }));
  record("list_500", measure(q, [&](int) {
           ListQuery lq;
           lq.limit = 500;
           consume(view->list(lq, NOW_MS).value().posts);
         }));
  auto search = [&](int words) {
    return measure(q, [&](int) {
      std::vector<std::string> w;
      for (int k = 0; k < words; ++k) w.push_back(word(vocab(rng)));
      std::vector<Post> posts;
      auto hits = view->search(w, 50, NOW_MS).value();
      for (auto& h : hits) posts.push_back(std::move(h.post));
      consume(posts);
    });
  };
  record("search_1", search(1));
  record("search_3", search(3));
  std::printf("%s\n", out.dump().c_str());
  return sink == 0 ? 1 : 0;
}
