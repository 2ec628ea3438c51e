// config_parse_fuzz.cpp — libFuzzer target for X04's parser of outside bytes: any input to
// parse_config_text must return a Config or a config_error (never crash, never throw), and a
// Config it returns must serialise to TOML that parses back to an equal Config.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // An empty, fixed environment keeps runs deterministic: ${NAME} references are errors.
  static const hn::config::Env env;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = hn::config::parse_config_text(text, env);
  if (!parsed) {
    if (parsed.error().code != hn::ErrorCode::config_error) std::abort();
    return 0;
  }
  auto again = hn::config::parse_config_text(hn::config::serialize_config(*parsed), env);
  if (!again || !(*again == *parsed)) std::abort();  // save→load must be exact
  return 0;
}
