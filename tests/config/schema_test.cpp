// schema_test.cpp — the key tables of detail/schema.h drive parse and save: every key they
// list is read (a wrong type is refused naming the key), every section refuses a key it
// does not list, and save writes every key that is set.
#include "config/detail/schema.h"

#include <gtest/gtest.h>
#include <toml++/toml.h>

#include <string>

#include "config/config.h"

namespace hn::config {
namespace {

using detail::for_each_section;
using detail::is_array_of_tables;
using detail::LLM_BACKEND_FIELDS;

// A value of a type no key accepts (a TOML date).
constexpr std::string_view WRONG = "1979-05-27";

void expect_wrong_type(const std::string& toml, const std::string& field) {
  auto r = parse_config_text(toml, Env());
  ASSERT_FALSE(r.has_value()) << toml;
  EXPECT_EQ(r.error().code, ErrorCode::config_error);
  EXPECT_EQ(r.error().message.rfind(field + ": expected ", 0), 0u) << r.error().message;
  EXPECT_EQ(r.error().detail["field"], field);
  EXPECT_EQ(r.error().detail["problem"], "wrong_type");
}

TEST(ConfigSchema, EveryKeyRefusesAWrongType) {
  int keys = 0;
  for_each_section([&](const auto& section) {
    for (const auto& f : section.fields) {
      std::string name = std::string(section.name) + "." + std::string(f.key);
      expect_wrong_type("[" + std::string(section.name) + "]\n" + std::string(f.key) + " = " +
                            std::string(WRONG) + "\n",
                        name);
      ++keys;
    }
  });
  for (const auto& f : LLM_BACKEND_FIELDS) {
    std::string text = "[[llm.backends]]\n";
    if (f.key != "name") text += "name = \"ollama\"\n";
    expect_wrong_type(text + std::string(f.key) + " = " + std::string(WRONG) + "\n",
                      "llm.backends[0]." + std::string(f.key));
    ++keys;
  }
  EXPECT_GE(keys, 50);
}

TEST(ConfigSchema, UnknownKeysAreRefusedInEverySection) {
  for_each_section([&](const auto& section) {
    auto r = parse_config_text("[" + std::string(section.name) + "]\nnot_a_key = 1\n", Env());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().message, std::string(section.name) + ".not_a_key: unknown key (line 2)");
  });
  auto r = parse_config_text("[[llm.backends]]\nname = \"ollama\"\nnot_a_key = 1\n", Env());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "llm.backends[0].not_a_key: unknown key (line 3)");
}

// Save writes every key of the tables once it is set (paths non-empty, optionals set).
TEST(ConfigSchema, SaveWritesEveryKeySet) {
  Config c = default_config();
  c.node.data_dir = "/d";
  c.identity.keys_dir = "/k";
  c.community.community_id = "ed25519:" + std::string(43, 'A');
  c.community.state_dir = "/s";
  c.transport.tls_cert = fs::path("/c");
  c.transport.tls_key = fs::path("/k");
  c.llm.backends = {{"kitchen", "http://h:1", "m", "KEY", "ollama"}};
  c.rag.corpora_dir = "/r";
  c.file.blobs_dir = "/b";
  c.observability.log_dir = "/l";
  c.openai_api.token_env = "HN_TOKEN";
  c.observability.otlp_endpoint = "http://o";
  c.observability.trackio_project = "p";
  c.observability.trackio_space = "s";
  c.events.db_path = "/e";
  c.events.snapshots_dir = "/n";
  ASSERT_TRUE(validate(c).has_value()) << validate(c).error().message;
  toml::table written = toml::parse(serialize_config(c));
  for_each_section([&](const auto& section) {
    for (const auto& f : section.fields) {
      std::string path = std::string(section.name) + "." + std::string(f.key);
      EXPECT_NE(written.at_path(path).node(), nullptr) << path;
      if (is_array_of_tables(f)) {
        for (const auto& g : LLM_BACKEND_FIELDS) {
          std::string item = path + "[0]." + std::string(g.key);
          EXPECT_NE(written.at_path(item).node(), nullptr) << item;
        }
      }
    }
  });
  auto back = parse_config_text(serialize_config(c), Env());
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(*back, c);
}

}  // namespace
}  // namespace hn::config
