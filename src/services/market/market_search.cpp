// market_search.cpp — market.search@1.0 (CONTRACT §4.14, M06 §5): FTS5 BM25 over title,
// tags and body; when an embed.text provider answers on the bus, the candidates' cosine
// similarity to the query is blended in (doc/design/market.md "Search").
#include <algorithm>
#include <cmath>

#include "core/hash.h"
#include "services/market/market_service.h"

namespace hn::services::market {
namespace {

constexpr int LEXICAL_CANDIDATES = 50;    // BM25 hits considered (at least k)
constexpr int RECENT_CANDIDATES = 100;    // newest posts added when embeddings are there
constexpr double LEXICAL_WEIGHT = 0.4;    // blended = 0.4 · bm25 / best bm25 + 0.6 · cosine
constexpr std::size_t EMBED_BATCH = 256;  // CONTRACT §4.3: 1..256 texts per call
constexpr std::size_t EMBED_TEXT_MAX = 8192;

Error bad(std::string message) { return make_error(ErrorCode::bad_request, std::move(message)); }

std::string embed_text_of(const Post& p) {
  std::string t = p.title + "\n" + p.body;
  if (t.size() > EMBED_TEXT_MAX) {
    t.resize(EMBED_TEXT_MAX);
    while (!t.empty() && (static_cast<unsigned char>(t.back()) & 0xC0) == 0x80) t.pop_back();
    if (!t.empty() && static_cast<unsigned char>(t.back()) >= 0xC0) t.pop_back();
  }
  return t;
}

std::optional<std::vector<float>> as_vector(const Json& j) {
  if (!j.is_array() || j.empty()) return std::nullopt;
  std::vector<float> v;
  v.reserve(j.size());
  for (const auto& x : j) {
    if (!x.is_number()) return std::nullopt;
    v.push_back(x.get<float>());
  }
  return v;
}

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size() || a.empty()) return 0;
  double dot = 0, na = 0, nb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    dot += double(a[i]) * b[i];
    na += double(a[i]) * a[i];
    nb += double(b[i]) * b[i];
  }
  if (na <= 0 || nb <= 0) return 0;
  return dot / (std::sqrt(na) * std::sqrt(nb));
}

}  // namespace

Result<std::vector<std::vector<float>>> MarketService::embed_texts(
    const std::vector<std::string>& texts) {
  bus::CallOptions options;
  options.timeout_seconds = 10;
  HN_TRY_ASSIGN(auto r, m_bus.call("embed.text", Version{1, 0},
                                   Json{{"input", {{"texts", texts}}}}, options));
  const Json vectors = r.contains("output") ? r["output"].value("embeddings", Json()) : Json();
  if (!vectors.is_array() || vectors.size() != texts.size()) {
    return make_error(ErrorCode::internal_error,
                      "embed.text answered without one embedding per text");
  }
  std::vector<std::vector<float>> out;
  for (const auto& v : vectors) {
    auto vec = as_vector(v);
    if (!vec)
      return make_error(ErrorCode::internal_error, "embed.text answered a non-numeric embedding");
    out.push_back(std::move(*vec));
  }
  return out;
}

std::optional<std::vector<float>> MarketService::embed_query(const std::string& query,
                                                             std::string* error) {
  auto q = embed_texts({query.size() > EMBED_TEXT_MAX ? query.substr(0, EMBED_TEXT_MAX) : query});
  if (!q) {
    if (q.error().code != ErrorCode::not_found && error != nullptr) *error = q.error().to_string();
    return std::nullopt;
  }
  return std::move(q->front());
}

std::optional<std::vector<double>> MarketService::similarities(const std::vector<float>& query_vec,
                                                               const std::vector<Post>& posts,
                                                               std::string* error) {
  // M06 §4.3: per-post vectors cached by (event_id, hash(title + body)).
  std::vector<std::string> keys(posts.size());
  std::vector<std::optional<std::vector<float>>> vecs(posts.size());
  std::vector<std::size_t> missing;
  {
    std::lock_guard lock(m_cache_mutex);
    for (std::size_t i = 0; i < posts.size(); ++i) {
      keys[i] = posts[i].event_id.str() + "|" + blake3_cid(embed_text_of(posts[i])).substr(7, 16);
      if (auto it = m_embeddings.find(keys[i]); it != m_embeddings.end())
        vecs[i] = it->second;
      else
        missing.push_back(i);
    }
  }
  for (std::size_t start = 0; start < missing.size(); start += EMBED_BATCH) {
    std::vector<std::string> texts;
    const std::size_t end = std::min(missing.size(), start + EMBED_BATCH);
    for (std::size_t j = start; j < end; ++j) texts.push_back(embed_text_of(posts[missing[j]]));
    auto got = embed_texts(texts);
    if (!got) {
      if (error != nullptr) *error = got.error().to_string();
      return std::nullopt;
    }
    std::lock_guard lock(m_cache_mutex);
    for (std::size_t j = start; j < end; ++j) {
      const std::size_t i = missing[j];
      vecs[i] = (*got)[j - start];
      if (m_embeddings.emplace(keys[i], *vecs[i]).second) m_embedding_order.push_back(keys[i]);
      while (m_embedding_order.size() > EMBEDDING_CACHE_SIZE) {
        m_embeddings.erase(m_embedding_order.front());
        m_embedding_order.pop_front();
      }
    }
  }
  std::vector<double> out(posts.size());
  for (std::size_t i = 0; i < posts.size(); ++i)
    out[i] = vecs[i] ? cosine(query_vec, *vecs[i]) : 0.0;
  return out;
}

Result<Json> MarketService::handle_search(const bus::CallContext&, const Json& body) {
  const Json& in = body["input"];
  for (const auto& [key, v] : in.items()) {
    if (key != "query" && key != "k") return bad("unknown field \"" + key + "\"");
  }
  if (!in.contains("query") || !in["query"].is_string() ||
      in["query"].get_ref<const std::string&>().empty() ||
      in["query"].get_ref<const std::string&>().size() > 1000) {
    return bad("query must be a string of 1..1000 characters");
  }
  const std::string query = in["query"].get<std::string>();
  int k = MARKET_SEARCH_DEFAULT_K;
  if (in.contains("k")) {
    if (!in["k"].is_number_integer() || in["k"].get<std::int64_t>() < 1 ||
        in["k"].get<std::int64_t>() > MARKET_SEARCH_MAX_K) {
      return bad("k must be 1.." + std::to_string(MARKET_SEARCH_MAX_K));
    }
    k = in["k"].get<int>();
  }
  const auto words = query_words(query);
  if (words.empty()) return bad("query holds no word to search for");
  const std::int64_t now = m_clock.now_ms();
  const auto hidden = revoked_authors();
  HN_TRY_ASSIGN(auto hits, m_view->search(words, std::max(k, LEXICAL_CANDIDATES), now, hidden));
  const double best = hits.empty() ? 1.0 : std::max(hits.front().score, 1e-9);

  struct Scored {
    Post post;
    double lexical = 0;
    double score = 0;
  };
  std::vector<Scored> scored;
  for (auto& h : hits) scored.push_back(Scored{std::move(h.post), h.score / best, h.score / best});

  // Semantic ranking only when an embed.text provider answers for the query; only then are
  // the newest posts read as candidates beside the lexical hits (a post may match in meaning
  // with no word in common). Without a provider the search costs the lexical query alone.
  std::string embed_error;
  std::string ranking = "bm25";
  std::optional<std::vector<double>> sims;
  if (auto query_vec = embed_query(query, &embed_error)) {
    std::vector<Post> candidates;
    for (const auto& s : scored) candidates.push_back(s.post);
    if (auto recent = m_view->newest(RECENT_CANDIDATES, now)) {
      for (auto& p : *recent) {
        const bool seen = std::any_of(scored.begin(), scored.end(), [&](const Scored& s) {
          return s.post.event_id == p.event_id;
        });
        const bool hide = std::find(hidden.begin(), hidden.end(), p.author.str()) != hidden.end();
        if (!seen && !hide) {
          candidates.push_back(p);
          scored.push_back(Scored{std::move(p), 0, 0});
        }
      }
    }
    sims = similarities(*query_vec, candidates, &embed_error);
  }
  if (sims) {
    ranking = "bm25+embedding";
    for (std::size_t i = 0; i < scored.size(); ++i) {
      scored[i].score =
          LEXICAL_WEIGHT * scored[i].lexical + (1 - LEXICAL_WEIGHT) * std::max(0.0, (*sims)[i]);
    }
  } else {
    // Lexical alone: only posts that share a word with the query.
    std::erase_if(scored, [](const Scored& s) { return s.lexical <= 0; });
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const Scored& a, const Scored& b) { return a.score > b.score; });
  if (scored.size() > static_cast<std::size_t>(k)) scored.resize(static_cast<std::size_t>(k));
  Json posts = Json::array();
  for (const auto& s : scored) {
    Json p = s.post.to_json();
    p["score"] = std::round(s.score * 1e6) / 1e6;
    posts.push_back(std::move(p));
  }
  Json meta{{"ranking", ranking}};
  if (!embed_error.empty()) meta["embedding_error"] = embed_error;
  return Json{{"output", {{"posts", std::move(posts)}, {"max_lamport", m_view->max_lamport()}}},
              {"meta", meta}};
}

}  // namespace hn::services::market
