// robustness_test.cpp — "never crash on any input bytes": deterministic mutations of a valid
// config.toml either parse (and then re-serialise to an equal Config) or fail with
// config_error. The libFuzzer target fuzz/config_parse_fuzz.cpp explores the same property.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

#include "config/config.h"

namespace hn::config {
namespace {

constexpr std::string_view SEED = R"([node]
display_name = "garage-pc"
profile = "anchor"

[transport]
host = "0.0.0.0"
port = 7080

[discovery]
bootstrap_peers = ["10.0.0.2:7080"]

[bus]
local_load_threshold = 0.8

[[llm.backends]]
name = "ollama"
url = "http://127.0.0.1:11434"
model = "qwen2.5"

[file]
gc_threshold = 0.8
gc_target = 0.7

[emergency]
probe_targets = ["1.1.1.1", "quad9.net"]
)";

void check_one(const std::string& text) {
  auto r = parse_config_text(text, Env());
  if (!r.has_value()) {
    EXPECT_EQ(r.error().code, ErrorCode::config_error);
    EXPECT_FALSE(r.error().message.empty());
    EXPECT_NO_THROW((void)r.error().to_json().dump());
    return;
  }
  auto again = parse_config_text(serialize_config(*r), Env());
  ASSERT_TRUE(again.has_value()) << again.error().message << "\nfrom input:\n" << text;
  EXPECT_EQ(*again, *r) << text;
}

TEST(ConfigRobustness, SeedParses) {
  auto r = parse_config_text(SEED, Env());
  ASSERT_TRUE(r.has_value()) << r.error().message;
}

TEST(ConfigRobustness, MutatedInputsNeverCrash) {
  std::mt19937 rng(20260526);
  const std::string alphabet = "[]{}=\"'.,#\n\\ $0123456789abcdefxyz_-+:\t\x00\xff\xc3\xa9";
  for (int iter = 0; iter < 3000; ++iter) {
    std::string text(SEED);
    int edits = 1 + static_cast<int>(rng() % 6);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      std::size_t pos = rng() % text.size();
      switch (rng() % 4) {
        case 0: text.erase(pos, 1 + rng() % 8); break;
        case 1: text.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
        case 2: text[pos] = static_cast<char>(rng() % 256); break;
        default: text.insert(pos, text.substr(rng() % text.size(), rng() % 16)); break;
      }
    }
    check_one(text);
  }
}

TEST(ConfigRobustness, PathologicalInputs) {
  check_one(std::string(100000, '['));
  check_one("a = " + std::string(5000, '[') + std::string(5000, ']'));
  check_one("x = {" + std::string(3000, '{'));
  check_one(std::string("\0\0\0", 3));
  check_one("\xef\xbb\xbf[ui]\nport = 1\n");  // BOM
  check_one("[ui]\nport = 9223372036854775808\n");
  check_one("[ui]\nport = -9223372036854775808\n");
  check_one("[bus]\nlocal_load_threshold = inf\n");
  check_one("[bus]\nlocal_load_threshold = 1e400\n");
  check_one("[[llm.backends]]\n[[llm.backends]]\n");
  check_one("llm = { backends = [1, 2] }\n");
  check_one("[llm]\nbackends = [[]]\n");
  check_one("[\"\"]\n");
}

}  // namespace
}  // namespace hn::config
