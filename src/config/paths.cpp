// paths.cpp — HEARTHNET_HOME / XDG path resolution (see paths.h for the layouts).
#include "config/paths.h"

#include <system_error>

#include "config/detail/common.h"

namespace hn::config {

namespace {

Error resolution_error(std::string message) {
  return detail::general_error("path_resolution", std::move(message));
}

Result<fs::path> current_dir() {
  std::error_code ec;
  auto cwd = fs::current_path(ec);
  if (ec) return resolution_error("cannot determine the working directory: " + ec.message());
  return cwd;
}

// $HOME, which must be set and absolute.
Result<fs::path> home_dir(const Env& env) {
  auto home = env.get_non_empty("HOME");
  if (!home || !fs::path(*home).is_absolute()) {
    return resolution_error("cannot resolve paths: HOME is not set to an absolute path");
  }
  return fs::path(*home);
}

// An XDG base directory: $var when set and absolute (XDG spec: relative values are
// ignored), else $HOME/fallback.
Result<fs::path> xdg_dir(const Env& env, std::string_view var, std::string_view fallback) {
  if (auto v = env.get_non_empty(var); v && fs::path(*v).is_absolute()) return fs::path(*v);
  auto home = home_dir(env);
  if (!home) {
    return resolution_error("cannot resolve paths: neither " + std::string(HEARTHNET_HOME_ENV) +
                            ", " + std::string(var) + " nor HOME is set");
  }
  return *home / fallback;
}

// "~" / "~/x" → $HOME / x; other relative paths → base / p; then lexically normal.
Result<fs::path> absolutize(const fs::path& p, const fs::path& base, const Env& env) {
  const std::string& s = p.native();
  fs::path out;
  if (s == "~" || s.starts_with("~/")) {
    HN_TRY_ASSIGN(auto home, home_dir(env));
    out = s.size() > 2 ? home / s.substr(2) : home;
  } else if (p.is_absolute()) {
    out = p;
  } else {
    out = base / p;
  }
  return out.lexically_normal();
}

// $HEARTHNET_HOME made absolute, when set and non-empty.
Result<std::optional<fs::path>> hearthnet_home(const Env& env) {
  auto hh = env.get_non_empty(HEARTHNET_HOME_ENV);
  if (!hh) return std::optional<fs::path>{};
  fs::path p(*hh);
  if (p.is_absolute() || p.native().starts_with("~")) {
    HN_TRY_ASSIGN(auto abs, absolutize(p, fs::path("/"), env));
    return std::optional<fs::path>(abs);
  }
  HN_TRY_ASSIGN(auto cwd, current_dir());
  return std::optional<fs::path>((cwd / p).lexically_normal());
}

// An explicit path from the config when set, else the derived one.
Result<fs::path> pick(const fs::path& explicit_path, const fs::path& derived, const fs::path& base,
                      const Env& env) {
  if (explicit_path.empty()) return derived.lexically_normal();
  return absolutize(explicit_path, base, env);
}

}  // namespace

std::string community_dir_name(const std::optional<std::string>& community_id) {
  if (!community_id || community_id->empty()) return "local";
  std::string out;
  out.reserve(community_id->size());
  for (char c : *community_id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    out += ok ? c : '_';
  }
  if (out == "." || out == "..") return "local";
  return out;
}

Result<fs::path> resolve_config_path(const std::optional<fs::path>& explicit_path,
                                     const Env& env) {
  if (explicit_path && !explicit_path->empty()) {
    HN_TRY_ASSIGN(auto cwd, current_dir());
    return absolutize(*explicit_path, cwd, env);
  }
  HN_TRY_ASSIGN(auto hh, hearthnet_home(env));
  if (hh) return *hh / CONFIG_FILE_NAME;
  HN_TRY_ASSIGN(auto config_home, xdg_dir(env, "XDG_CONFIG_HOME", ".config"));
  return (config_home / APP_DIR_NAME / CONFIG_FILE_NAME).lexically_normal();
}

Result<Paths> resolve_paths(const Config& cfg, const Env& env,
                            const std::optional<fs::path>& config_file) {
  Paths p;
  HN_TRY_ASSIGN(p.config_file, resolve_config_path(config_file, env));
  HN_TRY_ASSIGN(auto hh, hearthnet_home(env));

  // The data root: node.data_dir (relative to the config file's folder), HEARTHNET_HOME, or
  // <DATA> = $XDG_DATA_HOME/hearthnet.
  if (!cfg.node.data_dir.empty()) {
    HN_TRY_ASSIGN(p.home, absolutize(cfg.node.data_dir, p.config_file.parent_path(), env));
  } else if (hh) {
    p.home = *hh;
  } else {
    HN_TRY_ASSIGN(auto data_home, xdg_dir(env, "XDG_DATA_HOME", ".local/share"));
    p.home = (data_home / APP_DIR_NAME).lexically_normal();
  }
  const fs::path& root = p.home;

  // Non-data bases: under HEARTHNET_HOME, or the XDG cache / state / runtime directories.
  fs::path cache_base;
  fs::path logs_base;
  fs::path run_base;
  if (hh) {
    cache_base = *hh / "cache";
    logs_base = *hh / "logs";
    run_base = *hh / "run";
  } else {
    HN_TRY_ASSIGN(auto cache_home, xdg_dir(env, "XDG_CACHE_HOME", ".cache"));
    HN_TRY_ASSIGN(auto state_home, xdg_dir(env, "XDG_STATE_HOME", ".local/state"));
    cache_base = cache_home / APP_DIR_NAME;
    logs_base = state_home / APP_DIR_NAME / "logs";
    auto runtime = env.get_non_empty("XDG_RUNTIME_DIR");
    run_base = runtime && fs::path(*runtime).is_absolute()
                   ? fs::path(*runtime) / APP_DIR_NAME
                   : state_home / APP_DIR_NAME / "run";
  }

  // GLOSSARY: <DATA>/communities/<id>; under HEARTHNET_HOME: H/state/communities/<id>.
  p.state_dir = (hh ? root / "state" : root).lexically_normal();
  HN_TRY_ASSIGN(p.keys_dir, pick(cfg.identity.keys_dir, root / "keys", root, env));
  HN_TRY_ASSIGN(p.community_dir,
                pick(cfg.community.state_dir,
                     p.state_dir / "communities" / community_dir_name(cfg.community.community_id),
                     root, env));
  p.community_manifest = p.community_dir / "manifest.json";
  HN_TRY_ASSIGN(p.events_db, pick(cfg.events.db_path, p.community_dir / "events.sqlite", root, env));
  HN_TRY_ASSIGN(p.snapshots_dir,
                pick(cfg.events.snapshots_dir, p.community_dir / "snapshots", root, env));
  HN_TRY_ASSIGN(p.blobs_dir, pick(cfg.file.blobs_dir, root / "blobs", root, env));
  p.cache_dir = cache_base.lexically_normal();
  HN_TRY_ASSIGN(p.corpora_dir, pick(cfg.rag.corpora_dir, root / "rag", root, env));
  HN_TRY_ASSIGN(p.logs_dir, pick(cfg.observability.log_dir, logs_base, root, env));
  p.run_dir = run_base.lexically_normal();
  p.control_socket = p.run_dir / "control.sock";
  p.control_port_file = p.run_dir / "control.port";
  return p;
}

Config with_resolved_paths(const Config& cfg, const Paths& paths) {
  Config out = cfg;
  auto fill = [](fs::path& field, const fs::path& value) {
    if (field.empty()) field = value;
  };
  fill(out.node.data_dir, paths.home);
  fill(out.identity.keys_dir, paths.keys_dir);
  fill(out.community.state_dir, paths.community_dir);
  fill(out.events.db_path, paths.events_db);
  fill(out.events.snapshots_dir, paths.snapshots_dir);
  fill(out.file.blobs_dir, paths.blobs_dir);
  fill(out.rag.corpora_dir, paths.corpora_dir);
  fill(out.observability.log_dir, paths.logs_dir);
  return out;
}

}  // namespace hn::config
