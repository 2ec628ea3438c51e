// llama_node_test.cpp — a node whose [[llm.backends]] entry is `llama_cpp` with the tiny
// llama GGUF (tests/models) streams llm.chat through the bus in a real `hearthnet` process:
// token frames, then one done frame with the exact usage; the same seed, the same text.
#include <gtest/gtest.h>

#include <fstream>

#include "core/json.h"
#include "support/node_fixture.h"
#include "support/test_node.h"

namespace hn {
namespace {

using test::NodeProcess;

const std::string LLAMA = std::string(HN_TEST_MODELS_DIR) + "/tiny-llama.gguf";

std::string chat_body(int seed) {
  return Json{{"params", {{"model", "tiny-llama"}}},
              {"input",
               {{"messages", {{{"role", "user"}, {"content", "hello"}}}},
                {"max_tokens", 9},
                {"seed", seed},
                {"stream", true}}}}
      .dump();
}

TEST(LlamaNode, StreamsLlmChatFromAnInProcessGguf) {
  NodeProcess a(test::NodeOptions{.name = "llama-a"});
  a.add_env("HEARTHNET_LLAMA_THREADS=1");
  std::ofstream(a.home() / "config.toml", std::ios::app)
      << "\n[[llm.backends]]\nname = \"llama_cpp\"\nurl = \"" << LLAMA
      << "\"\nmax_concurrent = 2\nctx = 512\n";
  std::string error;
  ASSERT_TRUE(a.start(&error)) << error << a.output();
  auto r = a.cli({"call", "llm.chat@1.0", "--stream", "--node", "self", "--body", chat_body(4)});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("token"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"tokens_out\":9"), std::string::npos) << r.out;
  auto again =
      a.cli({"call", "llm.chat@1.0", "--stream", "--node", "self", "--body", chat_body(4)});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  auto strip_ms = [](std::string s) {  // the done frame's "ms" differs between runs
    const auto at = s.find("\"ms\":");
    return at == std::string::npos ? s : s.substr(0, at);
  };
  EXPECT_EQ(strip_ms(again.out), strip_ms(r.out));
}

}  // namespace
}  // namespace hn
