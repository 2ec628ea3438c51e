// llm_test.cpp — the llm service across real `hearthnet` processes, with its backends
// served by a local server that speaks the vendors' protocols (tests/services/llm/
// fake_llm_server.h): a second node asks for a model only the first has and gets the
// stream; `hearthnet models` lists the mesh's models; a backend that dies mid-stream ends
// the stream with an error, its provider is quarantined and the traffic moves to the other
// node; a bad backend entry is named in the service's health and the node still serves.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>

#include <fstream>
#include <memory>

#include "core/json.h"
#include "services/llm/fake_llm_server.h"
#include "support/node_fixture.h"
#include "support/test_node.h"
#include "support/test_support.h"

namespace hn {
namespace {

using test::eventually;
using test::FakeLlmServer;
using test::join;
using test::node_id_of;
using test::NodeProcess;

std::string backend_toml(const std::string& name, const std::string& kind, const std::string& url,
                         const std::string& model, const std::string& extra = "") {
  return "\n[[llm.backends]]\nname = \"" + name + "\"\nkind = \"" + kind + "\"\nurl = \"" + url +
         "\"\nmodel = \"" + model + "\"\n" + extra;
}

void append_config(const NodeProcess& n, const std::string& text) {
  std::ofstream(n.home() / "config.toml", std::ios::app) << text;
}

bool lists_model_on(const NodeProcess& n, const std::string& model, const std::string& node_id) {
  auto r = n.cli({"models", "--json"});
  if (r.exit_code != 0) return false;
  auto j = parse_json(r.out);
  if (!j || !j->is_array()) return false;
  for (const auto& m : *j) {
    if (m.value("model", "") != model) continue;
    for (const auto& p : m.value("providers", Json::array())) {
      if (p.value("node_id", "") == node_id) return true;
    }
  }
  return false;
}

class LlmMesh : public ::testing::Test {
 protected:
  // a: founder with `a_backends`; b: member (static peer a) with `b_backends`.
  void start_pair(const std::string& a_backends, const std::string& b_backends) {
    std::string error;
    a = std::make_unique<NodeProcess>(test::NodeOptions{.name = "llm-a"});
    append_config(*a, a_backends);
    a->add_env("HEARTHNET_SYNC_INTERVAL_SECONDS=2");
    ASSERT_TRUE(a->start(&error)) << error;
    b = std::make_unique<NodeProcess>(test::NodeOptions{
        .name = "llm-b",
        .discovery = std::string(test::NO_DISCOVERY) + "bootstrap_peers = [\"127.0.0.1:" +
                     std::to_string(a->port()) + "\"]\n",
        .found_community = false});
    b->add_env("HEARTHNET_SYNC_INTERVAL_SECONDS=2");
    b->add_env("HEARTHNET_STATIC_PEER_INTERVAL_SECONDS=1");
    ASSERT_TRUE(join(*a, *b));
    append_config(*b, b_backends);
    ASSERT_TRUE(b->start(&error)) << error;
    id_a = node_id_of(*a);
    id_b = node_id_of(*b);
  }
  FakeLlmServer server_a, server_b;
  std::unique_ptr<NodeProcess> a, b;
  std::string id_a, id_b;
};

TEST_F(LlmMesh, ASecondNodeAsksForAModelOnlyTheFirstHasAndGetsTheStream) {
  ASSERT_NO_FATAL_FAILURE(
      start_pair(backend_toml("kitchen", "llama_server", server_a.url(), "kitchen-model"), ""));
  ASSERT_TRUE(eventually([&] { return lists_model_on(*b, "kitchen-model", id_a); }));

  auto plain = b->cli({"ask", "Hi there?", "--model", "kitchen-model"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out, "Hello from kitchen-model\n");

  auto json = b->cli({"ask", "Hi there?", "--model", "kitchen-model", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto j = parse_json(json.out);
  ASSERT_TRUE(j) << json.out;
  EXPECT_EQ((*j)["text"], "Hello from kitchen-model");
  EXPECT_EQ((*j)["done"]["backend"], "kitchen");
  EXPECT_EQ((*j)["done"]["tokens_out"], 3);
  EXPECT_EQ((*j)["done"]["stop_reason"], "end");

  // Frame by frame through the generic call, llm.complete as well.
  auto frames = b->cli({"call", "llm.complete@1.0", "--stream", "--body",
                        R"({"params":{"model":"kitchen-model"},"input":{"prompt":"x","max_tokens":2}})"});
  ASSERT_EQ(frames.exit_code, 0) << frames.err;
  EXPECT_NE(frames.out.find(R"("event":"token")"), std::string::npos) << frames.out;
  EXPECT_NE(frames.out.find(R"("stop_reason":"max_tokens")"), std::string::npos) << frames.out;

  // A model nobody has: a clear error, not a hang.
  auto none = b->cli({"ask", "Hi?", "--model", "no-such-model"});
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.err.find("not_found"), std::string::npos) << none.err;
  // The requests really reached the vendor's API on A's side.
  EXPECT_GE(server_a.requests().size(), 3u);
  EXPECT_EQ(server_a.requests().front().target, "/v1/chat/completions");
}

TEST_F(LlmMesh, ABackendDyingMidStreamIsQuarantinedAndTheNextCallsGoToTheOtherNode) {
  ASSERT_NO_FATAL_FAILURE(
      start_pair(backend_toml("a-ollama", "ollama", server_a.url(), "shared-model"),
                 backend_toml("b-vllm", "vllm", server_b.url(), "shared-model")));
  ASSERT_TRUE(eventually([&] { return lists_model_on(*b, "shared-model", id_a); }));
  server_b.set_mode(FakeLlmServer::Mode::die_mid_stream);

  int errors = 0;
  std::string answered_by;
  for (int i = 0; i < 12 && answered_by.empty(); ++i) {
    auto r = b->cli({"ask", "Hi?", "--model", "shared-model", "--json"});
    if (r.exit_code != 0) {
      ++errors;
      EXPECT_NE(r.err.find("internal_error"), std::string::npos) << r.err;
      continue;
    }
    auto j = parse_json(r.out);
    ASSERT_TRUE(j) << r.out;
    answered_by = (*j)["done"].value("backend", "");
  }
  EXPECT_EQ(answered_by, "a-ollama") << errors << " errors first";
  EXPECT_GE(errors, 1);
  // Quarantined: the following calls go to A at once.
  for (int i = 0; i < 2; ++i) {
    auto r = b->cli({"ask", "Hi?", "--model", "shared-model", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ((*parse_json(r.out))["done"]["backend"], "a-ollama");
  }
  // B's own service says which backend failed and why.
  auto s = test::status_of(*b);
  const Json& backends = s["services"]["llm"]["health"]["backends"];
  ASSERT_EQ(backends.size(), 1u) << s.dump();
  EXPECT_EQ(backends[0]["ok"], false);
  EXPECT_EQ(backends[0]["name"], "b-vllm");
  EXPECT_NE(backends[0]["last_error"].get<std::string>().find(std::to_string(server_b.port())),
            std::string::npos) << s.dump();  // names the backend's URL
}

TEST(LlmNode, ABadBackendIsNamedAndTheOthersStillServe) {
  FakeLlmServer server;
  std::string error;
  NodeProcess n(test::NodeOptions{.name = "llm-bad"});
  append_config(n, backend_toml("hosted", "anthropic_api", "https://api.anthropic.com", "claude",
                                "api_key_env = \"HN_TEST_SURELY_UNSET_KEY\"\n") +
                       backend_toml("good", "ollama", server.url(), "good-model"));
  ASSERT_TRUE(n.start(&error)) << error;
  auto s = test::status_of(n);
  const Json& health = s["services"]["llm"]["health"];
  ASSERT_EQ(health["backends_failed"].size(), 1u) << s.dump();
  EXPECT_NE(health["backends_failed"][0]["error"].get<std::string>().find("HN_TEST_SURELY_UNSET_KEY"),
            std::string::npos);
  auto r = n.cli({"ask", "Hi?"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Hello from good-model\n");
  auto models = n.cli({"models"});
  ASSERT_EQ(models.exit_code, 0) << models.err;
  EXPECT_NE(models.out.find("good-model"), std::string::npos) << models.out;
  EXPECT_EQ(models.out.find("claude"), std::string::npos) << models.out;
  // doctor's llm_backend_reachable (X03 §6.2) names the bad one and counts the good one.
  auto doctor = n.cli({"doctor", "--check", "llm_backend_reachable"});
  EXPECT_EQ(doctor.exit_code, 0) << doctor.out;
  EXPECT_NE(doctor.out.find("1 backend(s) respond"), std::string::npos) << doctor.out;
  EXPECT_NE(doctor.out.find("HN_TEST_SURELY_UNSET_KEY"), std::string::npos) << doctor.out;
}

// The value of one series in a /metrics scrape (`name{labels}` as rendered), 0 when absent.
double series(const NodeProcess& n, const std::string& name) {
  std::string text;
  if (test::https_get(n.port(), "/metrics", &text, 5000) != 200) return -1;
  const auto at = text.find("\n" + name + " ");
  return at == std::string::npos ? 0 : std::stod(text.substr(at + name.size() + 2));
}

// X03 §4.2's llm pair moves with a generation: while a stream runs the model's
// hearthnet_llm_concurrent is 1 and its tokens counter grows; afterwards the gauge is back at
// 0 and the counter holds exactly the tokens the done frame reported.
TEST(LlmNode, TheLlmMetricsMoveDuringAndAfterAStream) {
  FakeLlmServer server;
  server.set_mode(FakeLlmServer::Mode::slow);  // 200 tokens, one every 20 ms
  std::string error;
  NodeProcess n(test::NodeOptions{.name = "llm-metrics"});
  append_config(n, backend_toml("porch", "llama_server", server.url(), "porch-model"));
  ASSERT_TRUE(n.start(&error)) << error;
  const std::string concurrent = R"(hearthnet_llm_concurrent{model="porch-model"})";
  const std::string tokens =
      R"(hearthnet_llm_tokens_generated_total{model="porch-model",backend="porch"})";
  EXPECT_EQ(series(n, concurrent), 0);
  EXPECT_EQ(series(n, tokens), 0);

  test::TempDir dir;
  const pid_t ask = test::spawn_process(
      n.command({"ask", "Count for me", "--model", "porch-model", "--json"}), n.env(),
      dir / "ask.out");
  ASSERT_GT(ask, 0);
  EXPECT_TRUE(eventually([&] { return series(n, concurrent) == 1 && series(n, tokens) > 0; }))
      << test::read_text(dir / "ask.out");
  int st = 0;
  ASSERT_EQ(::waitpid(ask, &st, 0), ask);
  ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << test::read_text(dir / "ask.out");
  auto answer = parse_json(test::read_text(dir / "ask.out"));
  ASSERT_TRUE(answer) << test::read_text(dir / "ask.out");
  EXPECT_EQ((*answer)["done"]["tokens_out"], 200);
  EXPECT_EQ(series(n, concurrent), 0);
  EXPECT_EQ(series(n, tokens), 200);
}

// The official `openai` npm client, unchanged, against a running node's OpenAI API
// (scripts/setup-test-npm installs it; without node the test skips).
TEST(LlmNode, TheOpenAiNpmClientTalksToANode) {
  const auto npm = test::source_dir() / "build" / "npm";
  if (test::find_program("node").empty() || !std::filesystem::exists(npm / "node_modules" / "openai")) {
    GTEST_SKIP() << "node or the openai package is missing (scripts/setup-test-npm installs it)";
  }
  FakeLlmServer server;
  std::string error;
  NodeProcess n(test::NodeOptions{.name = "llm-openai"});
  append_config(n, backend_toml("ollama", "ollama", server.url(), "house-model"));
  ASSERT_TRUE(n.start(&error)) << error;
  const std::string port = test::trim(test::read_text(n.home() / "run" / "openai.port"));
  ASSERT_FALSE(port.empty());
  auto r = test::run_process({test::find_program("node"),
                              (test::source_dir() / "tests" / "node" / "openai_client.mjs").string(),
                              "http://127.0.0.1:" + port + "/v1", "house-model", "-"},
                             {"HN_NPM_DIR=" + npm.string()}, "", 60);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto out = parse_json(r.out);
  ASSERT_TRUE(out) << r.out;
  // The chat model, beside any embedding model the node's embed.text serves.
  const Json models = (*out)["models"];
  EXPECT_TRUE(std::find(models.begin(), models.end(), Json("house-model")) != models.end()) << models;
  EXPECT_EQ((*out)["chat"]["content"], "Hello from house-model");
  EXPECT_EQ((*out)["stream"], Json::array({"Hello", " from", " house-model"}));
  EXPECT_EQ((*out)["completion"]["finish"], "length");
  EXPECT_EQ((*out)["missing"]["status"], 404);
}

}  // namespace
}  // namespace hn
