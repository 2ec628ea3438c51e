// runtime_test.cpp — llamacpp::init_once: llama.cpp's errors arrive in our log as whole
// lines under the logger "llama_cpp"; its load chatter does not; calling it again changes
// nothing.
#include "llamacpp/runtime.h"

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "core/json.h"
#include "llama.h"
#include "observability/logging.h"

namespace hn::llamacpp {
namespace {

using observability::LogLevel;
using observability::LogOptions;

class LlamaRuntime : public ::testing::Test {
 protected:
  void SetUp() override {
    LogOptions opts;
    opts.level = LogLevel::debug;
    opts.line_callback = [this](std::string_view line) {
      std::lock_guard lock(m_mutex);
      m_lines.emplace_back(line);
    };
    ASSERT_TRUE(observability::init_logging(opts));
  }
  void TearDown() override { observability::shutdown_logging(); }

  std::vector<Json> llama_lines() {
    observability::flush_logging();
    std::lock_guard lock(m_mutex);
    std::vector<Json> out;
    for (const auto& l : m_lines) {
      auto j = parse_json(l);
      EXPECT_TRUE(j) << l;
      if (j && j->value("logger", "") == "llama_cpp") out.push_back(*j);
    }
    return out;
  }

  std::mutex m_mutex;
  std::vector<std::string> m_lines;
};

TEST_F(LlamaRuntime, AFailedLoadIsLoggedAsWholeErrorLinesOnce) {
  init_once();
  init_once();  // idempotent: still one callback, one backend
  llama_model_params params = llama_model_default_params();
  llama_model* model = llama_model_load_from_file("/nonexistent/hearthnet-test.gguf", params);
  ASSERT_EQ(model, nullptr);
  const auto lines = llama_lines();
  ASSERT_FALSE(lines.empty()) << "llama.cpp's error did not reach our log";
  for (const auto& j : lines) {
    EXPECT_EQ(j.value("level", ""), "error") << j.dump();  // warnings and errors only
    const std::string msg = j.value("msg", "");
    EXPECT_FALSE(msg.empty());
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;  // joined, newline dropped
  }
  bool names_the_file = false;
  for (const auto& j : lines) {
    if (j.value("msg", "").find("hearthnet-test.gguf") != std::string::npos) names_the_file = true;
  }
  EXPECT_TRUE(names_the_file);
}

}  // namespace
}  // namespace hn::llamacpp
