// files_test.cpp — the file service across real `hearthnet` processes (issue #12, M07,
// CONTRACT §4.7–4.10): put on one node, get on another from every holder in parallel,
// resume after SIGKILL, a source serving corrupted chunks, GC and capacity, trust, and the
// CLI's refusals. Every joiner enters by invite and knows the others as static peers.
//
// Test hooks: HEARTHNET_FILE_CORRUPT_READS=1 (a node serves chunks with a flipped byte),
// HEARTHNET_FILE_KILL_AFTER_CHUNKS=N (a fetching node SIGKILLs itself after N chunks).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <random>
#include <regex>
#include <sstream>

#include "blobs/chunker.h"
#include "core/encoding.h"
#include "core/json.h"
#include "support/node_fixture.h"
#include "support/test_node.h"
#include "support/test_support.h"

namespace hn {
namespace {

using test::eventually;
using test::join;
using test::node_id_of;
using test::NodeProcess;

constexpr std::int64_t MIB = 1024 * 1024;

std::string static_peers(const std::vector<int>& ports, const std::string& extra = "") {
  std::string list = "bootstrap_peers = [";
  for (std::size_t i = 0; i < ports.size(); ++i) {
    list += (i ? ", " : "") + std::string("\"127.0.0.1:") + std::to_string(ports[i]) + "\"";
  }
  return test::NO_DISCOVERY + list + "]\n" + extra;
}

// A file of n pseudo-random bytes (seeded) at path.
void write_random(const std::filesystem::path& path, std::int64_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::ofstream out(path, std::ios::binary);
  std::vector<std::uint64_t> block(8192);
  for (std::int64_t left = n; left > 0;) {
    for (auto& w : block) w = rng();
    const auto take = std::min<std::int64_t>(left, static_cast<std::int64_t>(block.size() * 8));
    out.write(reinterpret_cast<const char*>(block.data()), take);
    left -= take;
  }
}

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Whether n lists `capability` from provider among its remote capabilities.
bool lists_remote(const NodeProcess& n, const std::string& capability, const std::string& provider) {
  auto r = n.cli({"caps", "--remote-only", "--json", "--name", capability});
  if (r.exit_code != 0) return false;
  auto j = parse_json(r.out);
  if (!j || !j->is_array()) return false;
  for (const auto& e : *j) {
    if (e.value("node_id", "") == provider) return true;
  }
  return false;
}

// The names in dir, sorted (hidden ones too).
std::vector<std::string> entries_of(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A counter's value for one label set in n's /metrics (0 when absent).
double metric(const NodeProcess& n, const std::string& name, const std::string& labels) {
  std::string text;
  if (test::https_get(n.port(), "/metrics", &text, 5000) != 200) return -1;
  const std::string key = name + "{" + labels + "} ";
  const auto at = text.find(key);
  if (at == std::string::npos) return 0;
  return std::stod(text.substr(at + key.size()));
}

// `file put` on n; the CID or "" (err gets stderr).
std::string put(const NodeProcess& n, const std::filesystem::path& path, bool pin = false,
                test::ProcessResult* result = nullptr) {
  std::vector<std::string> args{"file", "put", path.string()};
  if (pin) args.push_back("--pin");
  auto r = n.cli(args);
  if (result) *result = r;
  return r.exit_code == 0 ? test::trim(r.out) : "";
}

// `file get --json` on n; the done report or null (err gets stderr).
Json get(const NodeProcess& n, const std::string& cid, const std::filesystem::path& out,
         std::string* err = nullptr, bool copy = false) {
  std::vector<std::string> args{"file", "get", cid, "--out", out.string(), "--json"};
  if (copy) args.push_back("--copy");
  auto r = n.cli(args, 120);
  if (err) *err = r.err + r.out;
  if (r.exit_code != 0) return nullptr;
  auto j = parse_json(r.out);
  return j ? *j : Json(nullptr);
}

class FilesTest : public ::testing::Test {
 public:
  std::filesystem::path dir() const { return m_dir.path(); }
  std::unique_ptr<NodeProcess> make(const std::string& name, std::string discovery, bool founder,
                                    const std::string& file_section = "") {
    auto n = std::make_unique<NodeProcess>(test::NodeOptions{
        .name = name, .discovery = std::move(discovery) + file_section, .found_community = founder});
    n->add_env("HEARTHNET_SYNC_INTERVAL_SECONDS=2");
    return n;
  }
  // A member of a's community knowing `peers`, started, seeing file.read at every peer.
  std::unique_ptr<NodeProcess> member(const std::string& name, const NodeProcess& a,
                                      const std::vector<const NodeProcess*>& peers,
                                      const std::vector<std::string>& env = {}) {
    std::vector<int> ports;
    for (auto* p : peers) ports.push_back(p->port());
    auto n = make(name, static_peers(ports), false);
    for (const auto& kv : env) n->add_env(kv);
    EXPECT_TRUE(join(a, *n));
    std::string error;
    EXPECT_TRUE(n->start(&error)) << error;
    for (auto* p : peers) {
      const std::string id = node_id_of(*p);
      EXPECT_TRUE(eventually([&] { return lists_remote(*n, "file.read", id); })) << name;
    }
    return n;
  }

 protected:
  test::TempDir m_dir;
};

// C answers file.list calls only from members it knows, so a fetch on C finds B as a source
// once B has heard (by a sync round) that C joined: wait for C to see every holder.
bool c_sees_holders(const NodeProcess& c, std::size_t n) {
  return eventually([&] {
    auto ls = c.cli({"file", "ls", "--remote", "--json"});
    auto l = parse_json(ls.out);
    return l && l->size() == 1 && (*l)[0]["holders"].size() >= n;
  });
}

// Issue #12: a 20 MiB file put on A is fetched on C from A and B in parallel, both carry
// chunks (C's own report and metrics), byte-identical.
TEST_F(FilesTest, FetchesFromTwoSourcesInParallel) {
  std::string error;
  auto a = make("files-a", test::NO_DISCOVERY, true);
  ASSERT_TRUE(a->start(&error)) << error;
  auto b = member("files-b", *a, {a.get()});
  auto c = member("files-c", *a, {a.get(), b.get()});
  const auto src = m_dir.path() / "twenty.bin";
  write_random(src, 20 * MIB, 1);
  test::ProcessResult pr;
  const std::string cid = put(*a, src, false, &pr);
  ASSERT_FALSE(cid.empty()) << pr.err;

  // B takes it from A (then holds it too).
  std::string err;
  Json rb = get(*b, cid, m_dir.path() / "b.bin", &err);
  ASSERT_TRUE(rb.is_object()) << err;
  EXPECT_EQ(rb["chunks_fetched"], 80);
  ASSERT_TRUE(c_sees_holders(*c, 2));

  Json rc = get(*c, cid, m_dir.path() / "c.bin", &err);
  ASSERT_TRUE(rc.is_object()) << err;
  EXPECT_EQ(read_all(m_dir.path() / "c.bin"), read_all(src));
  EXPECT_EQ(rc["chunks_fetched"], 80);
  EXPECT_EQ(rc["bytes_fetched"], 20 * MIB);
  const std::string id_a = node_id_of(*a), id_b = node_id_of(*b);
  EXPECT_GT(rc["chunks_by_source"].value(id_a, 0), 0) << rc.dump();
  EXPECT_GT(rc["chunks_by_source"].value(id_b, 0), 0) << rc.dump();
  EXPECT_GT(metric(*c, "hearthnet_file_chunks_fetched_total", "source=\"" + id_a + "\""), 0);
  EXPECT_GT(metric(*c, "hearthnet_file_chunks_fetched_total", "source=\"" + id_b + "\""), 0);

  // `file ls --remote` on C names all three holders; the name travelled in the manifest.
  auto ls = c->cli({"file", "ls", "--json"});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  auto entries = parse_json(ls.out);
  ASSERT_TRUE(entries && entries->size() == 1) << ls.out;
  EXPECT_EQ((*entries)[0]["name"], "twenty.bin");
  EXPECT_EQ((*entries)[0]["cid"], cid);
  EXPECT_TRUE(eventually([&] {
    auto l = parse_json(c->cli({"file", "ls", "--json"}).out);
    return l && l->size() == 1 && (*l)[0]["holders"].size() == 3;
  })) << c->cli({"file", "ls", "--json"}).out;
}

// kill -9 of the fetching node halfway; after a restart `file get` moves only the rest.
TEST_F(FilesTest, ResumesAfterKillMovingOnlyMissingChunks) {
  std::string error;
  auto a = make("resume-a", test::NO_DISCOVERY, true);
  ASSERT_TRUE(a->start(&error)) << error;
  auto c = member("resume-c", *a, {a.get()}, {"HEARTHNET_FILE_KILL_AFTER_CHUNKS=30"});
  const auto src = m_dir.path() / "twenty.bin";
  write_random(src, 20 * MIB, 2);
  const std::string cid = put(*a, src);
  ASSERT_FALSE(cid.empty());

  // --out goes to a directory of its own, so what the kill left there can be counted.
  const auto got = m_dir.path() / "got";
  const auto out = got / "c.bin";
  auto killed = c->cli({"file", "get", cid, "--out", out.string()}, 120);
  EXPECT_NE(killed.exit_code, 0);
  EXPECT_EQ(c->stop(SIGTERM, 10), 128 + SIGKILL);  // it was already gone: SIGKILLed itself
  // The chunks went into the store's file for the blob as they arrived; --out comes only
  // when the blob is whole: the kill leaves nothing at all beside it.
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_TRUE(entries_of(got).empty());

  c->remove_env("HEARTHNET_FILE_KILL_AFTER_CHUNKS");
  ASSERT_TRUE(c->start(&error)) << error;
  const std::string id_a = node_id_of(*a);
  ASSERT_TRUE(eventually([&] { return lists_remote(*c, "file.read", id_a); }));
  std::string err;
  Json r = get(*c, cid, out, &err);
  ASSERT_TRUE(r.is_object()) << err;
  EXPECT_EQ(r["chunks_present"], 30);
  EXPECT_EQ(r["chunks_fetched"], 50);
  EXPECT_EQ(r["bytes_fetched"], 50 * 256 * 1024);
  EXPECT_EQ(read_all(out), read_all(src));
  EXPECT_EQ(entries_of(got), std::vector<std::string>{"c.bin"});
  // The same filesystem as the node's store: --out is the store's read-only file under a
  // second name (one write of the blob in all), unless the filesystem reflinks.
  EXPECT_TRUE(r["out_kind"] == "hard_link" || r["out_kind"] == "reflink") << r.dump();
  if (r["out_kind"] == "hard_link") {
    EXPECT_EQ(std::filesystem::hard_link_count(out), 2u);
    EXPECT_EQ(std::filesystem::status(out).permissions() & std::filesystem::perms::owner_write,
              std::filesystem::perms::none);
  }
}

// Each distinct chunk is fetched once: a chunk that repeats in the blob lands at every
// offset it has (zeros here), and the file is whole.
TEST_F(FilesTest, RepeatedChunksLandAtEveryOffsetOfOut) {
  std::string error;
  auto a = make("repeat-a", test::NO_DISCOVERY, true);
  ASSERT_TRUE(a->start(&error)) << error;
  auto b = member("repeat-b", *a, {a.get()});
  const auto noise = m_dir.path() / "noise.bin";
  write_random(noise, 256 * 1024 + 100, 7);
  const std::string zeros(MIB, '\0');
  const std::string noise_bytes = read_all(noise);
  const auto src = m_dir.path() / "repeats.bin";
  std::ofstream(src, std::ios::binary) << zeros << noise_bytes.substr(0, 256 * 1024) << zeros
                                       << noise_bytes.substr(256 * 1024);
  const std::string cid = put(*a, src);
  ASSERT_FALSE(cid.empty());
  std::string err;
  Json r = get(*b, cid, m_dir.path() / "out" / "r.bin", &err, /*copy=*/true);
  ASSERT_TRUE(r.is_object()) << err;
  EXPECT_EQ(r["chunks_total"], 3);  // zeros, noise, the 100-byte tail
  EXPECT_EQ(r["chunks_fetched"], 3);
  EXPECT_EQ(read_all(m_dir.path() / "out" / "r.bin"), read_all(src));
  EXPECT_EQ(entries_of(m_dir.path() / "out"), std::vector<std::string>{"r.bin"});
  // --copy: an independent, writable file.
  EXPECT_EQ(r["out_kind"], "copy");
  EXPECT_EQ(std::filesystem::hard_link_count(m_dir.path() / "out" / "r.bin"), 1u);
  EXPECT_NE(std::filesystem::status(m_dir.path() / "out" / "r.bin").permissions() &
                std::filesystem::perms::owner_write,
            std::filesystem::perms::none);
}

// A source serving a corrupted chunk is dropped (metric), the chunk is never stored, and
// the fetch completes from the other source — on the binary chunk path (the default) and on
// the contract's JSON frames (HEARTHNET_FILE_BINARY_CHUNKS=0 on the fetching node).
void corrupted_source_is_dropped(FilesTest& t, const std::string& tag, const std::vector<std::string>& c_env) {
  std::string error;
  auto a = t.make(tag + "-a", test::NO_DISCOVERY, true);
  ASSERT_TRUE(a->start(&error)) << error;
  auto b = t.member(tag + "-b", *a, {a.get()}, {"HEARTHNET_FILE_CORRUPT_READS=1"});
  auto c = t.member(tag + "-c", *a, {a.get(), b.get()}, c_env);
  const auto src = t.dir() / "four.bin";
  write_random(src, 4 * MIB, 3);
  const std::string cid = put(*a, src);
  ASSERT_FALSE(cid.empty());
  std::string err;
  ASSERT_TRUE(get(*b, cid, t.dir() / "b.bin", &err).is_object()) << err;  // B holds it
  ASSERT_TRUE(c_sees_holders(*c, 2));

  Json r = get(*c, cid, t.dir() / "c.bin", &err);
  ASSERT_TRUE(r.is_object()) << err;
  const std::string id_a = node_id_of(*a), id_b = node_id_of(*b);
  EXPECT_EQ(read_all(t.dir() / "c.bin"), read_all(src));
  EXPECT_GE(r["bad_chunks"].get<int>(), 1) << r.dump();
  EXPECT_EQ(r["dropped_sources"], Json::array({id_b})) << r.dump();
  EXPECT_EQ(r["chunks_by_source"].value(id_b, 0), 0) << r.dump();
  EXPECT_EQ(r["chunks_by_source"].value(id_a, 0), 16) << r.dump();
  EXPECT_GE(metric(*c, "hearthnet_file_bad_chunks_total", "source=\"" + id_b + "\""), 1);
}

TEST_F(FilesTest, CorruptedSourceIsDroppedAndFetchCompletes) {
  corrupted_source_is_dropped(*this, "corrupt", {});
}

TEST_F(FilesTest, CorruptedSourceIsDroppedOnTheJsonPathToo) {
  corrupted_source_is_dropped(*this, "corrupt-json", {"HEARTHNET_FILE_BINARY_CHUNKS=0"});
}

// The binary chunk path is only for a consumer that asks for it: a fetch that asks for JSON
// frames moves the blob byte-identical, and a stream read by a client that never asked (the
// CLI's `call --stream`, relayed by its node over SSE) gets the contract's JSON chunk frames.
TEST_F(FilesTest, APeerThatDoesNotAskForBinaryGetsJsonFrames) {
  std::string error;
  auto a = make("json-a", test::NO_DISCOVERY, true);
  ASSERT_TRUE(a->start(&error)) << error;
  auto b = member("json-b", *a, {a.get()}, {"HEARTHNET_FILE_BINARY_CHUNKS=0"});
  const auto src = m_dir.path() / "three.bin";
  write_random(src, 3 * MIB + 1000, 4);
  const std::string cid = put(*a, src);
  ASSERT_FALSE(cid.empty());
  std::string err;
  Json r = get(*b, cid, m_dir.path() / "b.bin", &err);
  ASSERT_TRUE(r.is_object()) << err;
  EXPECT_EQ(r["chunks_fetched"], 13);
  EXPECT_EQ(read_all(m_dir.path() / "b.bin"), read_all(src));

  const Json body{{"input", {{"cid", cid}, {"chunks", Json::array({12})}, {"stream", true}}}};
  auto call = b->cli({"call", "file.read@1.0", "--node", node_id_of(*a), "--stream", "--body", body.dump()});
  ASSERT_EQ(call.exit_code, 0) << call.err;
  std::istringstream lines(call.out);
  std::vector<Json> frames;
  for (std::string line; std::getline(lines, line);) {
    if (auto j = parse_json(line)) frames.push_back(*j);
  }
  ASSERT_EQ(frames.size(), 2u) << call.out;
  EXPECT_EQ(frames[0]["event"], "chunk");
  EXPECT_EQ(frames[0]["data"]["i"], 12);
  EXPECT_EQ(frames[0]["data"]["size_bytes"], 1000);
  const auto bytes = base64url_decode(frames[0]["data"].value("data_b64", ""));
  ASSERT_TRUE(bytes.has_value()) << frames[0].dump();
  EXPECT_EQ(std::string(bytes->begin(), bytes->end()), read_all(src).substr(3 * MIB));
  EXPECT_EQ(frames[1]["event"], "done");
}

// GC keeps pinned blobs and collects unpinned ones oldest first; a store that pinned data
// keeps full refuses with capacity_exceeded (exit 5) and shows no partial blob.
TEST_F(FilesTest, GcKeepsPinnedCollectsOldestAndRefusesWhenFull) {
  std::string error;
  // 1 MiB store, GC above 80 %.
  auto a = make("gc-a", test::NO_DISCOVERY, true,
                "[file]\nmax_store_bytes = 1048576\ngc_threshold = 0.8\ngc_target = 0.7\n");
  ASSERT_TRUE(a->start(&error)) << error;
  std::vector<std::string> cids;
  for (int i = 0; i < 5; ++i) {
    const auto p = m_dir.path() / ("f" + std::to_string(i) + ".bin");
    write_random(p, 200 * 1024, 10 + static_cast<unsigned>(i));
    test::ProcessResult r;
    cids.push_back(put(*a, p, /*pin=*/i == 0, &r));
    ASSERT_FALSE(cids.back().empty()) << i << ": " << r.err;
  }
  auto listed = [&] {
    std::set<std::string> out;
    auto j = parse_json(a->cli({"file", "ls", "--json"}).out);
    if (j) {
      for (const auto& e : *j) out.insert(e["cid"].get<std::string>());
    }
    return out;
  };
  // The fifth put made room by evicting f1 only (oldest unpinned); f0 is pinned.
  EXPECT_EQ(listed(), (std::set<std::string>{cids[0], cids[2], cids[3], cids[4]}));

  for (int i = 2; i < 5; ++i) ASSERT_EQ(a->cli({"file", "pin", cids[i]}).exit_code, 0);
  const auto big = m_dir.path() / "big.bin";
  write_random(big, 400 * 1024, 99);
  test::ProcessResult r;
  EXPECT_EQ(put(*a, big, false, &r), "");
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("capacity_exceeded"), std::string::npos) << r.err;
  EXPECT_EQ(listed().size(), 4u);  // nothing of the refused blob is visible

  // Unpin emits file.cid.unpinned and the blob becomes collectable again.
  auto u = a->cli({"file", "unpin", cids[2], "--json"});
  EXPECT_EQ(u.exit_code, 0) << u.err;
  EXPECT_EQ(parse_json(u.out).value_or(Json())["pinned"], false);
}

// A put asks the store for its chunks at the start and once more before the manifest makes
// the blob whole (services/files/put_progress.h): a chunk that went from the store after
// the put began is `needed` again, never a whole blob with a hole.
TEST_F(FilesTest, APutLacksAChunkThatWentFromTheStoreMeanwhile) {
  std::string error;
  auto a = make("put-hole", test::NO_DISCOVERY, true);
  ASSERT_TRUE(a->start(&error)) << error;
  // x.bin = chunk A (256 KiB) + a tail: `file put` stores A.
  Bytes first(static_cast<std::size_t>(CHUNK_SIZE_BYTES) + 10);
  for (std::size_t i = 0; i < first.size(); ++i) first[i] = static_cast<std::uint8_t>(i * 7 + 3);
  const auto x = m_dir.path() / "x.bin";
  std::ofstream(x, std::ios::binary).write(reinterpret_cast<const char*>(first.data()),
                                            static_cast<std::streamsize>(first.size()));
  ASSERT_FALSE(put(*a, x).empty());
  // y = chunk A + a small chunk C, put by calls: the node lacks only C.
  Bytes second(first.begin(), first.begin() + CHUNK_SIZE_BYTES);
  for (int i = 0; i < 100; ++i) second.push_back(static_cast<std::uint8_t>(200 + i));
  const auto y = blobs::chunk_blob(second);
  ASSERT_EQ(y.manifest.chunks.size(), 2u);
  const Json mj = blobs::manifest_to_json(y.manifest);
  auto call_put = [&](Json input) {
    auto r = a->cli({"call", "file.put@1.0", "--body", Json{{"input", std::move(input)}}.dump()});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return parse_json(r.out).value_or(Json::object());
  };
  Json r = call_put(Json{{"manifest", mj}});
  EXPECT_EQ(r["output"]["needed"], Json::array({1})) << r.dump();
  // Chunk A goes from the store (its file removed behind the node's back).
  const std::string hex_a = y.manifest.chunks[0].cid.substr(7);
  int removed = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(a->home())) {
    // The store's layout: <blobs>/<first two hex digits>/<the rest><suffix>.
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && e.path().parent_path().filename() == hex_a.substr(0, 2) &&
        name.rfind(hex_a.substr(2), 0) == 0) {
      std::filesystem::permissions(e.path(), std::filesystem::perms::owner_write,
                                   std::filesystem::perm_options::add);
      removed += std::filesystem::remove(e.path()) ? 1 : 0;
    }
  }
  ASSERT_EQ(removed, 1);
  const auto& c = y.manifest.chunks[1];
  const Bytes c_bytes(second.begin() + CHUNK_SIZE_BYTES, second.end());
  const Json chunk{{"i", c.index}, {"cid", c.cid}, {"data_b64", base64url_encode(c_bytes)}};
  r = call_put(Json{{"manifest", mj}, {"chunks", Json::array({chunk})}});
  EXPECT_EQ(r["output"]["received"], 1) << r.dump();
  EXPECT_EQ(r["output"]["complete"], false) << r.dump();
  EXPECT_EQ(r["output"]["needed"], Json::array({0})) << r.dump();
  auto ls = parse_json(a->cli({"file", "ls", "--json"}).out);
  ASSERT_TRUE(ls);
  for (const auto& e : *ls) EXPECT_NE(e.value("cid", ""), y.manifest.cid) << "a whole blob with a hole";
}

// file.put needs a trusted caller (a member gets unauthorized); the CLI refuses bad input
// and changes nothing.
TEST_F(FilesTest, PutNeedsTrustAndCliRefusesBadInput) {
  std::string error;
  auto a = make("rules-a", test::NO_DISCOVERY, true);
  ASSERT_TRUE(a->start(&error)) << error;
  auto b = member("rules-b", *a, {a.get()});
  Bytes data(1000, 7);
  auto blob = blobs::chunk_blob(data);
  const Json body{{"input", {{"manifest", blobs::manifest_to_json(blob.manifest)}}}};
  auto r = b->cli({"call", "file.put@1.0", "--node", node_id_of(*a), "--body", body.dump()});
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_NE(r.err.find("unauthorized"), std::string::npos) << r.err;

  // Malformed CID, unknown CID, unreadable path, an existing --out.
  r = a->cli({"file", "get", "blake3:nothex"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const std::string unknown = "blake3:" + std::string(64, 'a');
  r = a->cli({"file", "get", unknown, "--out", (m_dir.path() / "x").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not_found"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(m_dir.path() / "x"));
  r = a->cli({"file", "put", (m_dir.path() / "missing.txt").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not_found"), std::string::npos) << r.err;
  r = a->cli({"file", "pin", unknown});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("not_found"), std::string::npos) << r.err;

  const auto src = m_dir.path() / "note.txt";
  std::ofstream(src) << "hello mesh\n";
  const std::string cid = put(*a, src);
  ASSERT_FALSE(cid.empty());
  const auto existing = m_dir.path() / "existing.txt";
  std::ofstream(existing) << "keep me";
  r = a->cli({"file", "get", cid, "--out", existing.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(read_all(existing), "keep me");
  r = a->cli({"file", "get", cid, "--out", existing.string(), "--force"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_all(existing), "hello mesh\n");
  auto ls = parse_json(a->cli({"file", "ls", "--json"}).out);
  ASSERT_TRUE(ls && ls->size() == 1);
  EXPECT_EQ((*ls)[0]["mime_type"], "text/plain");
}

}  // namespace
}  // namespace hn
