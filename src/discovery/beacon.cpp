// beacon.cpp — UDP beacon encode / parse + verify (M02 §3.5) and cadence (§3.4).
#include "discovery/beacon.h"

#include "core/constants.h"
#include "core/encoding.h"
#include "core/json.h"

namespace hn::discovery {
namespace {

constexpr std::size_t MAX_CAPS = 64;
constexpr std::size_t MAX_FIELD_CHARS = 128;

Error bad(std::string msg) { return make_error(ErrorCode::bad_request, "beacon: " + msg); }

}  // namespace

std::string encode_beacon(const identity::KeyPair& keys, std::string_view community_short,
                          std::uint16_t port, const std::vector<std::string>& caps,
                          std::int64_t ts) {
  std::vector<std::string> kept = caps;
  if (kept.size() > MAX_CAPS) kept.resize(MAX_CAPS);
  while (true) {
    Json payload = {{"v", BEACON_VERSION},
                    {"node", keys.short_id()},
                    {"community", std::string(community_short)},
                    {"port", port},
                    {"caps", kept},
                    {"node_id", keys.node_id().str()},
                    {"ts", ts}};
    std::string text = canonical_json(keys.sign(payload));
    if (text.size() <= BEACON_MAX_BYTES || kept.empty()) return text;
    kept.pop_back();
  }
}

Result<Beacon> parse_beacon(std::string_view datagram) {
  if (datagram.empty() || datagram.size() > BEACON_MAX_BYTES) return bad("size");
  HN_TRY_ASSIGN(Json j, parse_json(datagram));
  if (!j.is_object()) return bad("not an object");
  try {
    const auto& v = j.find("v");
    if (v == j.end() || !v->is_number_integer() || v->get<std::int64_t>() != BEACON_VERSION) {
      return bad("unsupported version");
    }
    auto str_field = [&](const char* name) -> Result<std::string> {
      auto it = j.find(name);
      if (it == j.end() || !it->is_string()) return bad(std::string("field ") + name);
      auto s = it->get<std::string>();
      if (s.empty() || s.size() > MAX_FIELD_CHARS) return bad(std::string("field ") + name);
      return s;
    };
    Beacon b;
    HN_TRY_ASSIGN(b.node_short, str_field("node"));
    HN_TRY_ASSIGN(b.community_short, str_field("community"));
    HN_TRY_ASSIGN(std::string node_full, str_field("node_id"));
    auto port = j.find("port");
    if (port == j.end() || !port->is_number_integer()) return bad("field port");
    auto p = port->get<std::int64_t>();
    if (p < 1 || p > 65535) return bad("field port");
    b.port = static_cast<std::uint16_t>(p);
    auto ts = j.find("ts");
    if (ts == j.end() || !ts->is_number_integer()) return bad("field ts");
    b.ts = ts->get<std::int64_t>();
    auto caps = j.find("caps");
    if (caps == j.end() || !caps->is_array() || caps->size() > MAX_CAPS) return bad("field caps");
    for (const auto& c : *caps) {
      if (!c.is_string()) return bad("field caps");
      auto s = c.get<std::string>();
      if (s.empty() || s.size() > MAX_FIELD_CHARS) return bad("field caps");
      b.caps.push_back(std::move(s));
    }
    for (const auto& [key, val] : j.items()) {
      if (key != "v" && key != "node" && key != "community" && key != "port" && key != "caps" &&
          key != "node_id" && key != "ts" && key != "signature") {
        return bad("unknown field " + key.substr(0, 32));
      }
    }
    auto pub = identity::parse_node_id(node_full);
    if (!pub) return bad("field node_id");
    if (identity::short_node_id(*pub) != b.node_short) return bad("node does not match node_id");
    auto sig = j.find("signature");
    if (sig == j.end() || !sig->is_string()) {
      return make_error(ErrorCode::invalid_signature, "beacon: unsigned");
    }
    HN_TRY(identity::verify_payload(j, *pub));
    b.node_id = NodeId(std::move(node_full));
    return b;
  } catch (const std::exception& e) {  // nlohmann type errors: outside bytes never throw out
    return bad(e.what());
  }
}

Result<Beacon> parse_beacon(std::span<const std::uint8_t> datagram) {
  return parse_beacon(as_chars(datagram));
}

bool is_beacon_fresh(const Beacon& beacon, std::int64_t now_seconds,
                     std::int64_t max_skew_seconds) {
  // Written without beacon.ts - now, which could overflow for a hostile ts.
  return beacon.ts <= now_seconds + max_skew_seconds && beacon.ts >= now_seconds - max_skew_seconds;
}

std::chrono::seconds next_announce_interval(std::size_t peer_count, bool fast_mode) {
  if (fast_mode || peer_count < 2) return std::chrono::seconds(DISCOVERY_UDP_INTERVAL_ACTIVE_SECONDS);
  return std::chrono::seconds(DISCOVERY_UDP_INTERVAL_STABLE_SECONDS);
}

}  // namespace hn::discovery
