// snapshot.cpp — signed snapshots (X02 §3.5, CONTRACT §7.5).
#include "events/snapshot.h"

#include <algorithm>
#include <charconv>

#include "core/encoding.h"
#include "core/file_util.h"
#include "core/time.h"

namespace hn::events {
namespace {

constexpr std::array<std::string_view, 7> SNAPSHOT_FIELDS = {
    "schema_version", "community_id", "lamport", "wall_clock", "state", "covers_events_up_to", "signature"};

Error bad(std::string msg) { return make_error(ErrorCode::bad_request, "snapshot: " + std::move(msg)); }

Json unsigned_json(const Snapshot& s) {
  return Json{{"schema_version", s.schema_version},
              {"community_id", s.community_id.str()},
              {"lamport", s.lamport},
              {"wall_clock", s.wall_clock},
              {"state", s.state},
              {"covers_events_up_to", s.covers_events_up_to}};
}

Result<std::int64_t> int_field(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return bad(std::string("missing field '") + key + "'");
  if (!(it->is_number_integer() || it->is_number_unsigned())) {
    return bad(std::string("field '") + key + "' must be an integer");
  }
  if (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(MAX_LAMPORT)) {
    return bad(std::string("field '") + key + "' out of range");
  }
  auto v = it->get<std::int64_t>();
  if (v < 0 || v > MAX_LAMPORT) return bad(std::string("field '") + key + "' out of range");
  return v;
}

Result<std::string> string_field(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return bad(std::string("field '") + key + "' missing or not a string");
  return it->get<std::string>();
}

std::optional<Lamport> lamport_of_file(const std::filesystem::path& p) {
  if (p.extension() != ".bin") return std::nullopt;
  const std::string stem = p.stem().string();
  Lamport v = 0;
  auto [ptr, ec] = std::from_chars(stem.data(), stem.data() + stem.size(), v);
  if (ec != std::errc() || ptr != stem.data() + stem.size() || v < 0) return std::nullopt;
  return v;
}

}  // namespace

Json to_json(const Snapshot& s) {
  Json j = unsigned_json(s);
  j["signature"] = s.signature;
  return j;
}

Result<Snapshot> parse_snapshot(const Json& j) {
  if (!j.is_object()) return bad("not a JSON object");
  for (const auto& item : j.items()) {
    if (std::find(SNAPSHOT_FIELDS.begin(), SNAPSHOT_FIELDS.end(), item.key()) == SNAPSHOT_FIELDS.end()) {
      return bad("unknown field '" + item.key().substr(0, 64) + "'");
    }
  }
  Snapshot s;
  HN_TRY_ASSIGN(auto version, int_field(j, "schema_version"));
  if (version != EVENT_SCHEMA_VERSION) {
    return make_error(ErrorCode::schema_unknown, "snapshot: schema_version " + std::to_string(version));
  }
  s.schema_version = static_cast<int>(version);
  HN_TRY_ASSIGN(auto community, string_field(j, "community_id"));
  if (community.empty()) return bad("empty community_id");
  s.community_id = CommunityId(std::move(community));
  HN_TRY_ASSIGN(s.lamport, int_field(j, "lamport"));
  HN_TRY_ASSIGN(s.wall_clock, string_field(j, "wall_clock"));
  if (!parse_rfc3339_ms(s.wall_clock)) return bad("wall_clock is not RFC 3339 UTC");
  auto state = j.find("state");
  if (state == j.end() || !state->is_object()) return bad("field 'state' missing or not an object");
  s.state = *state;
  HN_TRY_ASSIGN(s.covers_events_up_to, int_field(j, "covers_events_up_to"));
  HN_TRY_ASSIGN(s.signature, string_field(j, "signature"));
  return s;
}

void sign_snapshot(Snapshot& snapshot, const identity::KeyPair& keys) {
  const std::string msg = canonical_json(unsigned_json(snapshot));
  snapshot.signature = keys.sign_bytes(as_bytes(msg));
}

Result<NodeId> verify_snapshot_signature(const Snapshot& snapshot, std::span<const NodeId> trusted) {
  auto msg = try_canonical_json(unsigned_json(snapshot));
  if (!msg) return make_error(ErrorCode::invalid_signature, "snapshot has no canonical form");
  for (const auto& node : trusted) {
    auto key = identity::parse_node_id(node.str());
    if (!key) continue;
    if (identity::verify_bytes(as_bytes(*msg), snapshot.signature, *key)) return node;
  }
  return make_error(ErrorCode::invalid_signature, "snapshot is not signed by a trusted key");
}

Result<Snapshot> build_snapshot(Json state, CommunityId community, Lamport covers_events_up_to,
                                const identity::KeyPair& keys, const Clock& clock) {
  if (!state.is_object()) return bad("state must be an object");
  if (!try_canonical_json(state)) return bad("state holds a non-finite number");
  Snapshot s;
  s.community_id = std::move(community);
  s.lamport = covers_events_up_to;
  s.covers_events_up_to = covers_events_up_to;
  s.wall_clock = format_rfc3339(clock.now_seconds());
  s.state = std::move(state);
  sign_snapshot(s, keys);
  return s;
}

Result<Snapshot> build_snapshot(ReplayEngine& engine, CommunityId community,
                                const identity::KeyPair& keys, const Clock& clock) {
  HN_TRY_ASSIGN(auto capture, engine.capture());
  return build_snapshot(std::move(capture.state), std::move(community), capture.covers_events_up_to,
                        keys, clock);
}

// -- SnapshotStore ------------------------------------------------------------------------

SnapshotStore::SnapshotStore(std::filesystem::path dir, CommunityId community)
    : m_dir(std::move(dir)), m_community(std::move(community)) {}

std::filesystem::path SnapshotStore::path_for(Lamport lamport) const {
  return m_dir / (std::to_string(lamport) + ".bin");
}

Status SnapshotStore::write(const Snapshot& snapshot) {
  if (snapshot.community_id != m_community) {
    return make_error(ErrorCode::wrong_community, "snapshot belongs to another community");
  }
  HN_TRY_ASSIGN(auto text, try_canonical_json(to_json(snapshot)));
  return atomic_write_file(path_for(snapshot.lamport), text, std::filesystem::perms(0644));
}

Result<std::vector<Lamport>> SnapshotStore::list() const {
  std::vector<Lamport> out;
  std::error_code ec;
  if (!std::filesystem::exists(m_dir, ec)) return out;
  for (std::filesystem::directory_iterator it(m_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    if (auto l = lamport_of_file(it->path())) out.push_back(*l);
  }
  if (ec) return make_error(ErrorCode::io_error, "cannot list " + m_dir.string() + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::optional<std::filesystem::path>> SnapshotStore::latest_path() const {
  HN_TRY_ASSIGN(auto lamports, list());
  if (lamports.empty()) return std::optional<std::filesystem::path>();
  return std::optional<std::filesystem::path>(path_for(lamports.back()));
}

Result<std::optional<Snapshot>> SnapshotStore::latest(std::span<const NodeId> trusted) const {
  HN_TRY_ASSIGN(auto path, latest_path());
  if (!path) return std::optional<Snapshot>();
  HN_TRY_ASSIGN(auto snap, read_snapshot(*path, m_community, trusted));
  return std::optional<Snapshot>(std::move(snap));
}

Status SnapshotStore::prune(std::size_t keep_last_n) {
  HN_TRY_ASSIGN(auto lamports, list());
  if (lamports.size() <= keep_last_n) return {};
  const std::size_t drop = lamports.size() - keep_last_n;
  for (std::size_t i = 0; i < drop; ++i) {
    std::error_code ec;
    std::filesystem::remove(path_for(lamports[i]), ec);
    if (ec) return make_error(ErrorCode::io_error, "cannot remove snapshot: " + ec.message());
  }
  return fsync_directory(m_dir);
}

// -- Reading and restoring -----------------------------------------------------------------

Result<Snapshot> read_snapshot(const std::filesystem::path& path, const CommunityId& community,
                               std::span<const NodeId> trusted) {
  HN_TRY_ASSIGN(auto text, read_file(path, MAX_SNAPSHOT_BYTES));
  HN_TRY_ASSIGN(auto json, parse_json(text));
  HN_TRY_ASSIGN(auto snap, parse_snapshot(json));
  if (snap.community_id != community) {
    return make_error(ErrorCode::wrong_community, "snapshot belongs to another community");
  }
  HN_TRY(verify_snapshot_signature(snap, trusted));
  return snap;
}

Result<Snapshot> restore_from_snapshot(const std::filesystem::path& path, const CommunityId& community,
                                       std::span<const NodeId> trusted, ReplayEngine& engine) {
  HN_TRY_ASSIGN(auto snap, read_snapshot(path, community, trusted));
  HN_TRY(engine.restore(snap.state, snap.covers_events_up_to));
  return snap;
}

}  // namespace hn::events
