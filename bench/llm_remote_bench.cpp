// llm_remote_bench.cpp — what the mesh costs a generation (issue #14 "Benchmarks"): one
// llama-server read directly (POST /v1/chat/completions, streamed, the body the node's
// OpenAI-compatible backend sends) against the same server through a REMOTE node's
// llm.chat: this client → node B (signed stream, B's own key) → node A (B relays, A is
// the only provider) → A's `llama_server` backend → llama-server. Same messages, seed,
// sampling and max_tokens both ways, so both generate the same tokens; rounds alternate
// the two paths (the machine is shared) and medians count.
//   TTFT     request sent → first token piece received (target: mesh ≤ direct + 5 ms)
//   tokens/s (pieces − 1) / (last piece − first piece): the decode rate as the client sees
//            it (target: mesh ≥ 98 % of direct)
//   one hop the same stream asked of node A itself (client → A → llama-server): splits the
//            mesh's TTFT into what each hop adds
// Needs a model big enough that tokens/s means something (random weights are fine): without
// MODEL it writes /tmp/hearthnet-bench-llama.gguf once (tests/models' generator,
// `--llama 512 8 1536`: 8 layers 512 wide, ~230 MB of f32; never committed).
// threads: llama-server's -t/-tb. Leave a core for the two nodes: on the 2-core VM, -t 2
// makes ggml's spinning threads wait for each other whenever a node (or anything else) takes
// a core for a moment, and the tokens/s swing 5–200 on either path (bench/RESULTS.md "LLM").
// Usage: hn_bench_llm_remote [MODEL.gguf|-] [tokens=64] [rounds=9] [threads=1]
// Prints one JSON line (progress on stderr).
#include <algorithm>
#include <utility>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "core/json.h"
#include "httpc/client.h"
#include "identity/keys.h"
#include "llama_server_proc.h"
#include "support/test_node.h"
#include "support/test_support.h"
#include "transport/client.h"
#include "transport/pinned_certs.h"

namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace hn;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// When each token piece of one generation arrived.
struct Run {
  Clock::time_point sent;
  std::vector<Clock::time_point> pieces;
  std::string error;
  double ttft_ms() const { return pieces.empty() ? 0 : ms_between(sent, pieces.front()); }
  double tokens_s() const {
    if (pieces.size() < 2) return 0;
    return static_cast<double>(pieces.size() - 1) * 1000.0 / ms_between(pieces.front(), pieces.back());
  }
};

const Json MESSAGES = Json::array(
    {{{"role", "user"}, {"content", "The neighbours met in the hall to talk about the water supply."}}});

// The body OpenAiBackend sends for llm.chat (services/llm/http/openai_backend.cpp).
Run direct(int port, int tokens, int seed) {
  Json body{{"model", "bench"},     {"messages", MESSAGES}, {"max_tokens", tokens},
            {"temperature", 0.7},   {"top_p", 0.95},        {"seed", seed},
            {"stream", true},       {"stream_options", {{"include_usage", true}}}};
  httpc::Request req;
  req.url = httpc::Url{.tls = false, .host = "127.0.0.1", .port = static_cast<std::uint16_t>(port),
                       .path = "/v1/chat/completions"};
  req.headers = {{"Content-Type", "application/json"}, {"Accept", "text/event-stream"}};
  req.body = body.dump();
  Run run;
  std::string pending;
  httpc::ResponseHandler h;
  h.on_body = [&](std::string_view piece) -> Status {
    const auto now = Clock::now();
    pending.append(piece);
    for (auto end = pending.find("\n\n"); end != std::string::npos; end = pending.find("\n\n")) {
      const std::string event = pending.substr(0, end);
      pending.erase(0, end + 2);
      if (!event.starts_with("data: ")) continue;
      const Json j = Json::parse(event.substr(6), nullptr, false);
      if (!j.is_object() || !j.contains("choices") || j["choices"].empty()) continue;
      const Json& delta = j["choices"][0].value("delta", Json::object());
      if (delta.is_object() && delta.contains("content") && delta["content"].is_string() &&
          !delta["content"].get_ref<const std::string&>().empty()) {
        run.pieces.push_back(now);
      }
    }
    return {};
  };
  run.sent = Clock::now();
  if (auto s = httpc::exchange(req, h, CancelToken()); !s) run.error = s.error().to_string();
  return run;
}

// The same generation as a signed llm.chat stream through node B.
Run through_mesh(asio::io_context& io, transport::Client& client, const transport::Endpoint& b,
                 int tokens, int seed) {
  Json body{{"params", {{"model", "bench"}}},
            {"input",
             {{"messages", MESSAGES},
              {"max_tokens", tokens},
              {"temperature", 0.7},
              {"top_p", 0.95},
              {"seed", seed},
              {"stream", true}}}};
  Run run;
  const transport::CallOptions options{.timeout = std::chrono::milliseconds(600000)};
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto on_frame = [&](transport::Frame& f) {
          if (f.event == "token") run.pieces.push_back(Clock::now());
          return true;
        };
        run.sent = Clock::now();
        auto op = client.async_stream(b, "llm.chat", Version{1, 0}, body, on_frame, options);
        auto r = co_await std::move(op);
        if (!r) run.error = r.error().to_string();
      },
      asio::detached);
  io.restart();
  io.run();
  return run;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

fs::path keys_dir_of(const fs::path& home) {
  for (const auto& e : fs::recursive_directory_iterator(home)) {
    if (e.path().filename() == identity::SIGNING_KEY_FILE) return e.path().parent_path();
  }
  return {};
}

}  // namespace

// The default benchmark model, written by the tiny models' generator when missing.
static std::string default_model() {
  const std::string path = "/tmp/hearthnet-bench-llama.gguf";
  if (!fs::exists(path)) {
    auto r = test::run_process({HN_MAKE_TEST_MODELS, "--llama", "512", "8", "1536",
                                HN_LLAMA_VOCAB_DIR, path},
                               {}, "", 600);
    if (r.exit_code != 0) std::cerr << "model generator: " << r.out << r.err << "\n";
  }
  return path;
}

int main(int argc, char** argv) {
  const std::string model =
      argc > 1 && std::string(argv[1]) != "-" ? std::string(argv[1]) : default_model();
  const int tokens = argc > 2 ? std::atoi(argv[2]) : 64;
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 9;
  const int threads = argc > 4 ? std::atoi(argv[4]) : 1;
  if (std::string(HN_LLAMA_SERVER).empty() || !fs::exists(HN_LLAMA_SERVER) || !fs::exists(model)) {
    std::printf("{\"bench\":\"llm_remote\",\"skipped\":\"no llama-server or no model\"}\n");
    return 0;
  }
  bench::LlamaServerProcess server(HN_LLAMA_SERVER, {"-m", model, "-t", std::to_string(threads),
                                                     "-tb", std::to_string(threads), "-np", "1",
                                                     "-c", "2048", "--no-warmup"});
  if (!server.ready()) {
    std::cerr << "llama-server did not come up\n";
    return 1;
  }
  // A: founder, llama-server as its backend. B: member, no backend, A its static peer.
  std::string err;
  test::NodeProcess a({.name = "bench-llm-a"});
  std::ofstream(a.home() / "config.toml", std::ios::app)
      << "\n[[llm.backends]]\nname = \"house\"\nkind = \"llama_server\"\nurl = \"http://127.0.0.1:"
      << server.port() << "\"\nmodel = \"bench\"\n";
  if (!a.start(&err)) {
    std::cerr << "node a: " << err << "\n";
    return 1;
  }
  test::NodeProcess b({.name = "bench-llm-b",
                       .discovery = std::string(test::NO_DISCOVERY) + "bootstrap_peers = [\"127.0.0.1:" +
                                    std::to_string(a.port()) + "\"]\n",
                       .found_community = false});
  b.add_env("HEARTHNET_STATIC_PEER_INTERVAL_SECONDS=1");
  if (const std::string e = test::join_community(a, b); !e.empty() || !b.start(&err)) {
    std::cerr << "node b: " << e << err << "\n";
    return 1;
  }
  const Json bst = test::status_of(b);
  auto keys = identity::load_keys(keys_dir_of(b.home()));
  if (!keys) {
    std::cerr << "node b's keys: " << keys.error().to_string() << "\n";
    return 1;
  }
  asio::io_context io;
  auto pins = transport::PinnedCerts::open(":memory:");
  if (!pins) return 1;
  transport::ClientOptions co;
  co.community = CommunityId(bst["community"].value("community_id", ""));
  transport::Client client(io.get_executor(), *keys, **pins, co);
  const transport::Endpoint ep{"127.0.0.1", static_cast<std::uint16_t>(b.port()),
                               NodeId(bst["node"].value("node_id", ""))};
  // The provider's own node, for the one-hop figure (client → A → llama-server).
  const Json ast = test::status_of(a);
  const transport::Endpoint ep_a{"127.0.0.1", static_cast<std::uint16_t>(a.port()),
                                 NodeId(ast["node"].value("node_id", ""))};
  // B learns A's llm.chat (its manifest) within a few static-peer rounds.
  Run probe;
  for (int i = 0; i < 120; ++i) {
    probe = through_mesh(io, client, ep, 2, 1);
    if (probe.error.empty() && !probe.pieces.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  if (!probe.error.empty()) {
    std::cerr << "no llm.chat through b: " << probe.error << "\n";
    return 1;
  }
  // Warm both paths (llama-server's prompt cache, the node's connections), then alternate.
  (void)direct(server.port(), tokens, 7);
  (void)through_mesh(io, client, ep, tokens, 7);
  (void)through_mesh(io, client, ep_a, tokens, 7);
  std::vector<double> d_ttft, m_ttft, d_tps, m_tps, a_ttft, a_tps;
  std::size_t d_pieces = 0, m_pieces = 0;
  for (int r = 0; r < rounds; ++r) {
    const Run d = direct(server.port(), tokens, 7);
    const Run m = through_mesh(io, client, ep, tokens, 7);
    const Run one = through_mesh(io, client, ep_a, tokens, 7);
    if (!d.error.empty() || !m.error.empty() || !one.error.empty()) {
      std::cerr << "round " << r << ": " << d.error << " " << m.error << " " << one.error << "\n";
      continue;
    }
    a_ttft.push_back(one.ttft_ms());
    a_tps.push_back(one.tokens_s());
    d_ttft.push_back(d.ttft_ms());
    m_ttft.push_back(m.ttft_ms());
    d_tps.push_back(d.tokens_s());
    m_tps.push_back(m.tokens_s());
    d_pieces = d.pieces.size();
    m_pieces = m.pieces.size();
    std::cerr << "round " << r << " direct " << d.tokens_s() << " tok/s ttft " << d.ttft_ms()
              << " ms; mesh " << m.tokens_s() << " tok/s ttft " << m.ttft_ms() << " ms; one hop "
              << one.tokens_s() << " tok/s ttft " << one.ttft_ms() << " ms\n";
  }
  const double dt = median(d_tps), mt = median(m_tps);
  const double df = median(d_ttft), mf = median(m_ttft);
  Json out{{"bench", "llm_remote"},
           {"model", fs::path(model).filename().string()},
           {"model_mib", static_cast<long>(fs::file_size(model) >> 20)},
           {"tokens", tokens},
           {"threads", threads},
           {"rounds", static_cast<int>(d_tps.size())},
           {"pieces", {{"direct", d_pieces}, {"mesh", m_pieces}}},
           {"direct", {{"tokens_s", dt}, {"ttft_ms", df}}},
           {"mesh", {{"tokens_s", mt}, {"ttft_ms", mf}}},
           {"one_hop", {{"tokens_s", median(a_tps)}, {"ttft_ms", median(a_ttft)}}},
           {"tokens_s_ratio", dt > 0 ? mt / dt : 0},
           {"ttft_added_ms", mf - df},
           {"runs",
            {{"direct_tokens_s", d_tps},
             {"mesh_tokens_s", m_tps},
             {"direct_ttft_ms", d_ttft},
             {"mesh_ttft_ms", m_ttft},
             {"one_hop_tokens_s", a_tps},
             {"one_hop_ttft_ms", a_ttft}}}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
