// types.cpp — string forms of the spec's closed enums.
#include "core/types.h"

#include <array>
#include <charconv>

namespace hn {
namespace {

template <typename E, size_t N>
std::optional<E> parse_enum(const std::array<std::string_view, N>& names, std::string_view s) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<E>(i);
  }
  return std::nullopt;
}

constexpr std::array<std::string_view, 5> TRUST = {"unknown", "member", "trusted", "anchor", "self"};
constexpr std::array<std::string_view, 4> PROFILE = {"anchor", "hearth", "spark", "bridge"};
constexpr std::array<std::string_view, 3> STABILITY = {"experimental", "beta", "stable"};
constexpr std::array<std::string_view, 3> MODE = {"online", "degraded", "offline"};
constexpr std::array<std::string_view, 4> CATEGORY = {"offer", "request", "info", "emergency"};

}  // namespace

std::optional<Version> Version::parse(std::string_view text) {
  auto dot = text.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 >= text.size()) return std::nullopt;
  Version v;
  auto a = std::from_chars(text.data(), text.data() + dot, v.major);
  auto b = std::from_chars(text.data() + dot + 1, text.data() + text.size(), v.minor);
  if (a.ec != std::errc() || a.ptr != text.data() + dot || b.ec != std::errc() ||
      b.ptr != text.data() + text.size() || v.major < 0 || v.minor < 0) {
    return std::nullopt;
  }
  return v;
}

std::string_view to_string(TrustLevel v) { return TRUST[static_cast<size_t>(v)]; }
std::string_view to_string(Profile v) { return PROFILE[static_cast<size_t>(v)]; }
std::string_view to_string(Stability v) { return STABILITY[static_cast<size_t>(v)]; }
std::string_view to_string(Mode v) { return MODE[static_cast<size_t>(v)]; }
std::string_view to_string(Category v) { return CATEGORY[static_cast<size_t>(v)]; }
std::optional<TrustLevel> parse_trust_level(std::string_view s) { return parse_enum<TrustLevel>(TRUST, s); }
std::optional<Profile> parse_profile(std::string_view s) { return parse_enum<Profile>(PROFILE, s); }
std::optional<Stability> parse_stability(std::string_view s) { return parse_enum<Stability>(STABILITY, s); }
std::optional<Mode> parse_mode(std::string_view s) { return parse_enum<Mode>(MODE, s); }
std::optional<Category> parse_category(std::string_view s) { return parse_enum<Category>(CATEGORY, s); }

}  // namespace hn
