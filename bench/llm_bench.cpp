// llm_bench.cpp — the in-process llama.cpp paths against llama-server (the same build of
// llama.cpp, the same tiny GGUF, the same thread count) in one run:
//   generation: tokens/s of LlamaEngine vs llama-server /completion, with 1 and 4
//               concurrent streams (targets ≥ 100 %; issue #14), each with two samplings:
//               top_p 0.95 → temperature 0.7 → dist (each side's own code for each step),
//               and greedy (llama-server: top_k 1), which leaves decoding and scheduling;
//   embeddings: texts/s of the embed service's handler (embed.text, 256 texts a call) vs
//               llama-server /v1/embeddings with the same texts (target ≥ 100 %).
// Prints one JSON line; ratios = in-process / llama-server. Rounds alternate the two sides
// and the best round of each counts (the machine is shared).
//
// Usage: hn_bench_llm [tokens per stream (default 256)] [rounds (default 3)] [threads (default 2)]
//                     [all | gen | embed (default all)] [embed tokens per decode (default 256)]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/json.h"
#include "llama_server_proc.h"
#include "services/embed/embed_service.h"
#include "services/embed/llama_embedder.h"
#include "services/llm/llama_engine.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using hn::Json;

const fs::path MODELS = HN_TEST_MODELS_DIR;

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

using hn::bench::post;
using Server = hn::bench::LlamaServerProcess;

constexpr const char* PROMPT = "The neighbours met in the hall to talk about the water supply";

// Generation: `streams` concurrent generations of `tokens` each; total tokens / wall time.
// Sampling: top_p 0.95 → temperature 0.7 → dist (each side's own top_p code), or greedy
// (the argmax; llama-server as top_k 1), which leaves the decode and the scheduling alone.
enum class Sampling { top_p, greedy };

double inproc_tokens_s(hn::services::llm::LlamaEngine& e, int streams, int tokens,
                       Sampling sampling) {
  std::vector<std::thread> t;
  std::vector<int> out(static_cast<std::size_t>(streams), 0);
  const auto t0 = Clock::now();
  for (int i = 0; i < streams; ++i) {
    t.emplace_back([&, i] {
      hn::services::llm::EngineSampling s;
      s.max_tokens = tokens;
      s.seed = static_cast<std::uint32_t>(i + 1);
      if (sampling == Sampling::greedy) s.temperature = 0;
      auto r = e.generate(PROMPT, false, s, [](std::string_view) { return true; }, {});
      if (r) out[static_cast<std::size_t>(i)] = r->tokens_out;
    });
  }
  for (auto& th : t) th.join();
  int total = 0;
  for (int n : out) total += n;
  return total / since(t0);
}

double server_tokens_s(int port, int streams, int tokens, Sampling sampling) {
  std::vector<std::thread> t;
  std::vector<int> out(static_cast<std::size_t>(streams), 0);
  const auto t0 = Clock::now();
  for (int i = 0; i < streams; ++i) {
    t.emplace_back([&, i] {
      // The same sampler chain as LlamaEngine: top_p → temperature → dist.
      Json req{{"prompt", PROMPT},
               {"n_predict", tokens},
               {"seed", i + 1},
               {"temperature", 0.7},
               {"top_p", 0.95},
               {"stream", false},
               {"samplers", {"top_p", "temperature"}},
               {"cache_prompt", false}};
      if (sampling == Sampling::greedy) {
        req["samplers"] = {"top_k"};
        req["top_k"] = 1;
      }
      std::string body;
      if (post(port, "/completion", req.dump(), &body) == 200) {
        Json j = Json::parse(body, nullptr, false);
        if (!j.is_discarded()) out[static_cast<std::size_t>(i)] = j.value("tokens_predicted", 0);
      }
    });
  }
  for (auto& th : t) th.join();
  int total = 0;
  for (int n : out) total += n;
  return total / since(t0);
}

std::vector<std::string> texts(int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) {
    v.push_back("Notice " + std::to_string(i) + ": the community garden needs volunteers on " +
                "Saturday morning to repair the fence and water the beds.");
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  const int tokens = argc > 1 ? std::atoi(argv[1]) : 256;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 2;
  const std::string what = argc > 4 ? argv[4] : "all";            // all | gen | embed
  const int decode_tokens = argc > 5 ? std::atoi(argv[5]) : 256;  // LlamaEmbedder's packing
  if (std::string(HN_LLAMA_SERVER).empty() || !fs::exists(HN_LLAMA_SERVER)) {
    std::printf("{\"bench\":\"llm\",\"skipped\":\"no llama-server in this build\"}\n");
    return 0;
  }
  const std::string llama = (MODELS / "tiny-llama.gguf").string();
  const std::string bert = (MODELS / "tiny-bert.gguf").string();
  Json result{
      {"bench", "llm"}, {"tokens_per_stream", tokens}, {"threads", threads}, {"rounds", rounds}};

  // Generation, 1 and 4 streams.
  Json gen = Json::array();
  for (int streams : {1, 4}) {
    if (what == "embed") break;
    auto engine = hn::services::llm::LlamaEngine::open(
        {.model_path = llama, .slots = streams, .ctx_per_slot = 1024, .threads = threads});
    if (!engine) {
      std::fprintf(stderr, "%s\n", engine.error().message.c_str());
      return 1;
    }
    Server server(HN_LLAMA_SERVER, {"-m", llama, "-t", std::to_string(threads), "-tb", std::to_string(threads),
                   "-np", std::to_string(streams), "-c", std::to_string(1024 * streams),
                   "--no-warmup"});
    for (Sampling sampling : {Sampling::top_p, Sampling::greedy}) {
      double best_in = 0;
      double best_srv = 0;
      for (int r = 0; r < rounds; ++r) {
        best_srv = std::max(best_srv, server_tokens_s(server.port(), streams, tokens, sampling));
        best_in = std::max(best_in, inproc_tokens_s(**engine, streams, tokens, sampling));
      }
      gen.push_back(
          Json{{"streams", streams},
               {"sampling", sampling == Sampling::top_p ? "top_p" : "greedy"},
               {"inproc_tokens_s", std::round(best_in)},
               {"server_tokens_s", std::round(best_srv)},
               {"ratio", best_srv > 0 ? std::round(1000 * best_in / best_srv) / 1000 : 0}});
    }
  }
  result["generation"] = gen;

  // Embeddings: 256 texts a call.
  if (what != "gen") {
    const auto batch = texts(256);
    hn::services::embed::EmbedService svc(
        std::make_unique<hn::services::embed::LlamaEmbedder>(
            hn::services::embed::LlamaEmbedderOptions{
                .model_path = bert, .threads = threads, .decode_tokens = decode_tokens}),
        bert);
    (void)svc.start();
    hn::bus::CallContext ctx;
    const Json body{{"params", {{"model", "tiny-bert"}}}, {"input", {{"texts", batch}}}};
    Server server(HN_LLAMA_SERVER, {"-m", bert, "--embeddings", "-t", std::to_string(threads), "-tb",
                   std::to_string(threads), "-c", "2048", "-b", "2048", "-ub", "2048",
                   "--no-warmup"});
    const std::string req = Json{{"model", "tiny-bert"}, {"input", batch}}.dump();
    double best_in = 0;
    double best_srv = 0;
    for (int r = 0; r < rounds; ++r) {
      auto t0 = Clock::now();
      std::string out;
      if (post(server.port(), "/v1/embeddings", req, &out) == 200)
        best_srv = std::max(best_srv, 256 / since(t0));
      t0 = Clock::now();
      auto ans = svc.handle(ctx, body);
      if (ans) best_in = std::max(best_in, 256 / since(t0));
    }
    result["embeddings"] =
        Json{{"texts_per_call", 256},
             {"inproc_texts_s", std::round(best_in)},
             {"server_texts_s", std::round(best_srv)},
             {"ratio", best_srv > 0 ? std::round(1000 * best_in / best_srv) / 1000 : 0}};
  }
  std::printf("%s\n", result.dump().c_str());
  return 0;
}
