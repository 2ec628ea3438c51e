// node_fixture.h — GoogleTest pieces over NodeProcess (support/test_node.h): joining a
// community as an assertion, and suites whose tests share one running node.
//
// Thread-safety: as NodeProcess; a SharedNodeTest suite's node belongs to the test thread.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "support/test_node.h"

namespace hn::test {

// joiner (not running) joins inviter's (running) community by invite; fails naming the step.
inline ::testing::AssertionResult join(const NodeProcess& inviter, const NodeProcess& joiner) {
  const std::string error = join_community(inviter, joiner);
  if (!error.empty()) return ::testing::AssertionFailure() << error;
  return ::testing::AssertionSuccess();
}

// A suite whose tests share one running node, named Suite::NODE_NAME: started before the
// first test, killed after the last; each test fails at once when it did not start.
template <typename Suite>
class SharedNodeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_node = std::make_unique<NodeProcess>(NodeOptions{.name = Suite::NODE_NAME});
    s_started = s_node->start(&s_error);
  }
  static void TearDownTestSuite() { s_node.reset(); }
  void SetUp() override { ASSERT_TRUE(s_started) << s_error; }

  static inline std::unique_ptr<NodeProcess> s_node;
  static inline bool s_started = false;
  static inline std::string s_error;
};

}  // namespace hn::test
