// embed_test.cpp — embed.text@1.0 in real `hearthnet` processes: a node whose
// `[embedding] model` is the tiny BERT GGUF (tests/models) answers `hearthnet call`, refuses
// the contract's limits with bad_request, and a second node of the community that has no
// model gets its embeddings from the first over the mesh. A node with the default config
// starts and offers no embed.text.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/json.h"
#include "support/node_fixture.h"
#include "support/test_node.h"

namespace hn {
namespace {

using test::NodeProcess;

const std::string BERT = std::string(HN_TEST_MODELS_DIR) + "/tiny-bert.gguf";

// Points a stopped node's [embedding] model at `model` (init wrote the default).
void set_embedding_model(const NodeProcess& n, const std::string& model) {
  const auto path = n.home() / "config.toml";
  std::string text = test::read_text(path);
  const std::string from = "\"BAAI/bge-small-en-v1.5\"";
  const auto at = text.find(from);
  ASSERT_NE(at, std::string::npos) << text;
  text.replace(at, from.size(), "\"" + model + "\"");
  std::ofstream(path, std::ios::trunc) << text;
}

std::string peers_line(int port) {
  return std::string(test::NO_DISCOVERY) +
         "bootstrap_peers = [\"127.0.0.1:" + std::to_string(port) + "\"]\n";
}

std::string body(const Json& texts) {
  return Json{{"params", {{"model", "tiny-bert"}}}, {"input", {{"texts", texts}}}}.dump();
}

bool lists_remote(const NodeProcess& n, const std::string& provider) {
  auto r = n.cli({"caps", "--remote-only", "--json", "--name", "embed.text"});
  auto j = parse_json(r.out);
  if (r.exit_code != 0 || !j || !j->is_array()) return false;
  for (const auto& e : *j) {
    if (e.value("node_id", "") == provider) return true;
  }
  return false;
}

TEST(EmbedNode, ServesEmbedTextFromAGgufAndAcrossTheMesh) {
  std::string error;
  NodeProcess a(test::NodeOptions{.name = "embed-a"});
  a.add_env("HEARTHNET_LLAMA_THREADS=1");
  a.add_env("HEARTHNET_SYNC_INTERVAL_SECONDS=2");
  ASSERT_NO_FATAL_FAILURE(set_embedding_model(a, BERT));
  ASSERT_TRUE(a.start(&error)) << error;

  auto r = a.cli({"call", "embed.text@1.0", "--node", "self", "--body", body({"hello", "mesh"})});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = parse_json(r.out);
  ASSERT_TRUE(j) << r.out;
  EXPECT_EQ((*j)["output"]["dim"], 64);
  ASSERT_EQ((*j)["output"]["embeddings"].size(), 2U);
  EXPECT_EQ((*j)["meta"]["model"], "tiny-bert");

  Json many = Json::array();
  for (int i = 0; i < 257; ++i) many.push_back("x");
  auto refused = a.cli({"call", "embed.text@1.0", "--node", "self", "--body", body(many)});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE((refused.out + refused.err).find("bad_request"), std::string::npos)
      << refused.out << refused.err;

  // B has no model (the default config): it starts, offers no embed.text, and its call
  // goes to A.
  NodeProcess b(test::NodeOptions{
      .name = "embed-b", .discovery = peers_line(a.port()), .found_community = false});
  b.add_env("HEARTHNET_SYNC_INTERVAL_SECONDS=2");
  ASSERT_TRUE(test::join(a, b));
  ASSERT_TRUE(b.start(&error)) << error;
  const std::string id_a = test::node_id_of(a);
  ASSERT_TRUE(test::eventually([&] { return lists_remote(b, id_a); }));
  auto local_caps = b.cli({"caps", "--json", "--name", "embed.text"});
  auto lc = parse_json(local_caps.out);
  ASSERT_TRUE(lc && lc->is_array()) << local_caps.out;
  for (const auto& e : *lc) EXPECT_NE(e.value("node_id", ""), test::node_id_of(b));
  auto remote = b.cli({"call", "embed.text@1.0", "--body", body({"from b"})});
  ASSERT_EQ(remote.exit_code, 0) << remote.out << remote.err;
  auto rj = parse_json(remote.out);
  ASSERT_TRUE(rj) << remote.out;
  EXPECT_EQ((*rj)["output"]["embeddings"].size(), 1U);
  EXPECT_EQ((*rj)["output"]["dim"], 64);
}

}  // namespace
}  // namespace hn
