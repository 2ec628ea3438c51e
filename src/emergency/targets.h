// targets.h — what one `[emergency] probe_targets` entry asks for (M09 §5.1): an IP
// address is a resolver (a DNS A query, port 53 unless given: "1.1.1.1", "127.0.0.1:5353",
// "[::1]:53"); a host name or an https:// URL is a web server (an HTTPS HEAD of the URL's
// path, "/" for a bare host, port 443 unless given).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace hn::emergency {

struct ProbeTarget {
  enum class Kind { dns, https };
  Kind kind = Kind::dns;
  std::string text;     // as configured (the key of the probe's result)
  std::string host;     // an IP literal (dns) or a host name / IP literal (https), no brackets
  std::uint16_t port = 53;
  std::string path;     // https: the request target, "/" when none was given
};

// config_error naming the entry ("emergency.probe_targets[2]: ...") when it is neither.
Result<ProbeTarget> parse_probe_target(std::string_view text);
Result<std::vector<ProbeTarget>> parse_probe_targets(const std::vector<std::string>& texts);

}  // namespace hn::emergency
