// types.h — the spec's type aliases (IMPLEMENTATION_REFERENCE §0.1) as C++ types.
// Identifiers whose mix-up would be a bug get a strong type (NodeId, EventId, Cid, …);
// closed string sets become enums with to_string / parse helpers.
//
// Thread-safety: value types. Invariant: a StrongId holds its wire string verbatim.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace hn {

// A string identifier that cannot be confused with another kind of identifier.
template <typename Tag>
class StrongId {
 public:
  StrongId() = default;
  explicit StrongId(std::string value) : m_value(std::move(value)) {}
  const std::string& str() const& { return m_value; }
  std::string str() && { return std::move(m_value); }
  bool empty() const { return m_value.empty(); }
  auto operator<=>(const StrongId&) const = default;
  bool operator==(const StrongId&) const = default;

 private:
  std::string m_value;
};

template <typename Tag>
std::ostream& operator<<(std::ostream& os, const StrongId<Tag>& id) {
  return os << id.str();
}

using NodeId = StrongId<struct NodeIdTag>;            // "ed25519:<base64url pubkey>" (full)
using CommunityId = StrongId<struct CommunityIdTag>;  // full base64url of the root key
using EventId = StrongId<struct EventIdTag>;          // ULID
using TraceId = StrongId<struct TraceIdTag>;          // ULID
using Cid = StrongId<struct CidTag>;                  // "blake3:<64 hex>"
using SchemaHash = StrongId<struct SchemaHashTag>;    // "blake3:<64 hex>"

using CapabilityName = std::string;  // "llm.chat"
using Topic = std::string;           // "marketplace.post.created"
using WallClock = std::string;       // "2026-05-26T08:14:22Z"
using Signature = std::string;       // "ed25519:<base64url-nopad>"
using Lamport = std::int64_t;        // monotonic per community

// A capability version (major, minor) — CONTRACT §2.1.
struct Version {
  int major = 1;
  int minor = 0;
  auto operator<=>(const Version&) const = default;
  std::string to_string() const { return std::to_string(major) + "." + std::to_string(minor); }
  // Parses "1.0"; nullopt on anything else.
  static std::optional<Version> parse(std::string_view text);
};

enum class TrustLevel { unknown, member, trusted, anchor, self };
enum class Profile { anchor, hearth, spark, bridge };
enum class Stability { experimental, beta, stable };
enum class Mode { online, degraded, offline };
enum class Category { offer, request, info, emergency };

std::string_view to_string(TrustLevel v);
std::string_view to_string(Profile v);
std::string_view to_string(Stability v);
std::string_view to_string(Mode v);
std::string_view to_string(Category v);
std::optional<TrustLevel> parse_trust_level(std::string_view s);
std::optional<Profile> parse_profile(std::string_view s);
std::optional<Stability> parse_stability(std::string_view s);
std::optional<Mode> parse_mode(std::string_view s);
std::optional<Category> parse_category(std::string_view s);

}  // namespace hn

template <typename Tag>
struct std::hash<hn::StrongId<Tag>> {
  size_t operator()(const hn::StrongId<Tag>& id) const noexcept {
    return std::hash<std::string>{}(id.str());
  }
};
