// home.cpp — config + paths resolution shared by every command.
#include "node/home.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <utility>

#include "core/file_util.h"
#include "core/json.h"

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

Result<HomeLock> HomeLock::try_acquire(const NodeHome& home, const std::string& then) {
  HN_TRY(ensure_directory(home.paths.run_dir, std::filesystem::perms(0700)));
  const std::filesystem::path p = home.paths.run_dir / NODE_LOCK_FILE;
  const int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(ErrorCode::io_error, "cannot open " + p.string());
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return make_error(ErrorCode::io_error,
                      "a HearthNet node is running on " + home.paths.home.string() + "; stop it " +
                          then,
                      Json{{"node_running", true}});
  }
  return HomeLock(fd);
}

HomeLock::HomeLock(HomeLock&& o) noexcept : m_fd(std::exchange(o.m_fd, -1)) {}

HomeLock::~HomeLock() {
  if (m_fd >= 0) ::close(m_fd);
}

}  // namespace hn::node
