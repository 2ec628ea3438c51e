// home.cpp — config + paths resolution shared by every command.
#include "node/home.h"

namespace hn::node {

Result<NodeHome> open_home(const std::optional<std::filesystem::path>& config_path,
                           const config::Env& env) {
  NodeHome home;
  HN_TRY_ASSIGN(std::filesystem::path file, config::resolve_config_path(config_path, env));
  std::error_code ec;
  if (std::filesystem::exists(file, ec)) {
    HN_TRY_ASSIGN(home.config, config::load_config(file, env));
    home.config_exists = true;
  } else {
    home.config = config::default_config();
  }
  HN_TRY_ASSIGN(home.paths, config::resolve_paths(home.config, env, file));
  return home;
}

Status refresh_paths(NodeHome& home, const config::Env& env) {
  HN_TRY_ASSIGN(home.paths, config::resolve_paths(home.config, env, home.paths.config_file));
  return {};
}

}  // namespace hn::node
