// files_put_progress_test.cpp — PutProgress: the chunks a put under way still lacks, struck
// out batch by batch (every index of a repeated chunk at once), forgotten when finished or
// when more puts than its bound are under way.
#include "services/files/put_progress.h"

#include <gtest/gtest.h>

namespace hn::services::files {
namespace {

using Indices = std::vector<std::int64_t>;

blobs::ChunkRef ref(std::int64_t index, std::string cid) { return blobs::ChunkRef{index, std::move(cid), 10}; }

TEST(FilesPutProgress, BatchesStrikeOutWhatTheyStored) {
  PutProgress p;
  p.start("m1", {ref(0, "a"), ref(1, "b"), ref(2, "c"), ref(3, "a")});  // "a" twice
  EXPECT_EQ(p.stored("m1", {"b"}), Indices({0, 2, 3}));
  EXPECT_EQ(p.stored("m1", {"a"}), Indices({2}));  // both places of a repeated chunk
  EXPECT_EQ(p.stored("m1", {"zzz"}), Indices({2}));  // a CID the put did not lack
  EXPECT_EQ(p.stored("m1", {"c"}), Indices{});
  p.finish("m1");
  EXPECT_EQ(p.stored("m1", {"c"}), std::nullopt);  // finished: no longer tracked
  EXPECT_EQ(p.tracked(), 0u);
}

TEST(FilesPutProgress, AnUntrackedPutIsNulloptAndStartAgainReplaces) {
  PutProgress p;
  EXPECT_EQ(p.stored("never", {"a"}), std::nullopt);
  p.start("m", {ref(0, "a"), ref(1, "b")});
  p.start("m", {ref(1, "b")});  // the store was asked again: its answer wins
  EXPECT_EQ(p.stored("m", {}), Indices({1}));
  EXPECT_EQ(p.tracked(), 1u);
}

TEST(FilesPutProgress, TheOldestPutIsForgottenPastTheBound) {
  PutProgress p(2);
  p.start("m1", {ref(0, "a")});
  p.start("m2", {ref(0, "b")});
  p.start("m3", {ref(0, "c")});
  EXPECT_EQ(p.tracked(), 2u);
  EXPECT_EQ(p.stored("m1", {}), std::nullopt);
  EXPECT_EQ(p.stored("m2", {}), Indices({0}));
  EXPECT_EQ(p.stored("m3", {}), Indices({0}));
}

}  // namespace
}  // namespace hn::services::files
