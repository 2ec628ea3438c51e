// mdns_txt.cpp — the pure parts of mDNS discovery: instance name and TXT records
// (M02 §3.3). Independent of Avahi.
#include <string>

#include "core/constants.h"
#include "discovery/mdns.h"

namespace hn::discovery {
namespace {

// Length of the longest prefix of s, at most max bytes, that ends on a UTF-8 boundary.
std::size_t utf8_prefix(std::string_view s, std::size_t max) {
  if (s.size() <= max) return s.size();
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return n;
}

}  // namespace

std::string mdns_instance_name(std::string_view display_name, std::string_view node_short) {
  std::string_view id = node_short;
  if (auto colon = id.find(':'); colon != std::string_view::npos) id = id.substr(colon + 1);
  std::string suffix = "-" + std::string(id.substr(0, 4));
  std::size_t room = MDNS_INSTANCE_MAX_BYTES - suffix.size();
  std::string name(display_name.substr(0, utf8_prefix(display_name, room)));
  if (name.empty()) name = "hearthnet";
  return name + suffix;
}

std::string join_caps_truncated(const std::vector<std::string>& caps, std::size_t max_bytes) {
  std::string out;
  for (const auto& c : caps) {
    std::size_t need = out.size() + (out.empty() ? 0 : 1) + c.size();
    if (need > max_bytes) break;  // truncate: keep whole names only
    if (!out.empty()) out += ',';
    out += c;
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> build_txt_records(const MdnsServiceInfo& info) {
  return {{"v", "1"},
          {"node", info.node_short},
          {"community", info.community_short},
          {"profile", std::string(to_string(info.profile))},
          {"caps", join_caps_truncated(info.caps)},
          {"manifest_url", info.manifest_url},
          {"contract_version", CONTRACT_VERSION}};
}

Result<MdnsTxt> parse_txt_records(const std::map<std::string, std::string>& txt) {
  auto get = [&](const char* key) -> std::string {
    auto it = txt.find(key);
    return it == txt.end() ? std::string() : it->second;
  };
  if (get("v") != "1") return make_error(ErrorCode::bad_request, "mdns txt: v is not 1");
  MdnsTxt out;
  out.node_short = get("node");
  out.community_short = get("community");
  if (out.node_short.empty() || out.community_short.empty()) {
    return make_error(ErrorCode::bad_request, "mdns txt: node or community missing");
  }
  auto profile = parse_profile(get("profile"));
  if (!profile) return make_error(ErrorCode::bad_request, "mdns txt: bad profile");
  out.profile = *profile;
  std::string caps = get("caps");
  std::size_t start = 0;
  while (start < caps.size()) {
    std::size_t comma = caps.find(',', start);
    if (comma == std::string::npos) comma = caps.size();
    if (comma > start) out.caps.push_back(caps.substr(start, comma - start));
    start = comma + 1;
  }
  out.manifest_url = get("manifest_url");
  out.contract_version = get("contract_version");
  return out;
}

}  // namespace hn::discovery
