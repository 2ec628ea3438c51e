// commands_node.cpp — the commands that run a node or talk to the running one (M12 §3.2–3.7):
// run, status, caps, call, trace recent, log. All but `run` and `log` reach the node over
// loopback HTTPS signed with the node's own key (trust `self`, node/local_client.h); with
// no node running they exit 3 (M12 §6).
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

#include "bus/capability.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/node_access.h"
#include "core/clock.h"
#include "node/home.h"
#include "node/local_client.h"
#include "node/node.h"
#include "node/setup_ui.h"
#include "observability/log_reader.h"
#include "transport/envelope.h"
#include "ui/session.h"

namespace hn::cli {
namespace {

std::string human_bytes(std::int64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  std::ostringstream os;
  os << std::fixed << std::setprecision(u == 0 ? 0 : 1) << v << " " << units[u];
  return os.str();
}

std::string short_node(const std::string& id, const std::string& ours) {
  if (id == ours) return "local";
  return id.size() > 20 ? id.substr(0, 20) + "…" : id;
}

std::string str_or(const Json& j, const char* key, const std::string& fallback = "") {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  return it->is_string() ? it->get<std::string>() : it->dump();
}

void print_status(const Json& s) {
  const Json& node = s.value("node", Json::object());
  const Json& community = s.value("community", Json::object());
  const Json& caps = s.value("capabilities", Json::object());
  const Json& log = s.value("event_log", Json::object());
  const Json& disk = s.value("disk", Json::object());
  const Json& endpoint = s.value("endpoint", Json::object());
  const Json& peers = s.value("peers", Json::object());
  std::cout << "node          " << str_or(node, "short_id") << "  " << str_or(node, "display_name") << " ("
            << str_or(node, "profile") << ")\n"
            << "node id       " << str_or(node, "node_id") << "\n"
            << "community     " << str_or(community, "name") << " — " << str_or(community, "member_count", "0")
            << " member(s)\n"
            << "community id  " << str_or(community, "community_id") << "\n"
            << "state         " << str_or(s.value("online_state", Json::object()), "state") << " since "
            << str_or(s.value("online_state", Json::object()), "since") << ", event sync every "
            << str_or(s.value("sync", Json::object()), "interval_seconds", "?") << " s\n"
            << "peers         " << str_or(peers, "count", "0") << "\n";
  for (const auto& p : peers.value("list", Json::array())) {
    std::cout << "  " << str_or(p, "display_name") << "  " << str_or(p, "node_id") << "  "
              << str_or(p, "host") << ":" << str_or(p, "port") << "  " << str_or(p, "trust") << "  "
              << str_or(p, "capabilities", "0") << " capabilities\n";
  }
  std::string names;
  for (const auto& n : caps.value("local", Json::array())) names += (names.empty() ? "" : ", ") + n.get<std::string>();
  std::cout << "capabilities  " << str_or(caps, "local_count", "0") << " local, " << str_or(caps, "remote_count", "0")
            << " remote" << (names.empty() ? "" : ": " + names) << "\n"
            << "in flight     " << str_or(s, "in_flight", "0") << "\n";
  // Each service and its queue (architecture.md "Execution model").
  const Json services = s.value("services", Json::object());
  for (const auto& [name, svc] : services.items()) {
    const Json& q = svc.value("queue", Json::object());
    std::cout << "service       " << name << " " << str_or(svc, "state") << ", " << str_or(q, "running", "0")
              << "/" << str_or(q, "threads", "0") << " threads busy, " << str_or(q, "queued", "0") << " queued, "
              << str_or(q, "rejected", "0") << " refused\n";
  }
  std::cout << "event log     head lamport " << str_or(log, "head_lamport", "0") << " ("
            << str_or(log, "events", "0") << " events)\n"
            << "disk          blobs " << human_bytes(disk.value("blobs_bytes", std::int64_t{0})) << ", events "
            << human_bytes(disk.value("events_bytes", std::int64_t{0})) << "\n"
            << "uptime        " << str_or(s, "uptime_seconds", "0") << " s\n"
            << "listening     " << str_or(endpoint, "host") << ":" << str_or(endpoint, "port") << "\n";
}

}  // namespace

// The wizard's process founded or joined a community; the node starts in a fresh process
// (the same command line) that opens the new community's state from disk, with the
// page's session token and port handed over in the environment (removed at once there).
constexpr const char* HANDOVER_TOKEN_ENV = "HEARTHNET_UI_HANDOVER_TOKEN";
constexpr const char* HANDOVER_PORT_ENV = "HEARTHNET_UI_HANDOVER_PORT";

static void reexec_with_session(const std::string& token, std::uint16_t port) {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  for (std::size_t at = 0; at < raw.size();) {
    std::size_t end = raw.find('\0', at);
    if (end == std::string::npos) end = raw.size();
    args.push_back(raw.substr(at, end - at));
    at = end + 1;
  }
  if (args.empty()) return;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::setenv(HANDOVER_TOKEN_ENV, token.c_str(), 1);
  ::setenv(HANDOVER_PORT_ENV, std::to_string(port).c_str(), 1);
  std::cout.flush();
  // The binary's real path, so the process keeps its name (not "exe").
  std::error_code ec;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  ::execv(ec ? "/proc/self/exe" : self.c_str(), argv.data());
  ::unsetenv(HANDOVER_TOKEN_ENV);
  ::unsetenv(HANDOVER_PORT_ENV);
}

int command_run(const GlobalOptions& global, const RunArgs& args) {
  auto home = node::open_home(global.config_path, global.env);
  if (!home) return fail(home.error());
  std::signal(SIGPIPE, SIG_IGN);
  node::NodeOptions options;
  options.debug = args.debug;
  options.no_ui = args.no_ui;
  options.ui_token = ui::new_session_token();
  // Handed over by the first-run wizard's process (below): keep the page's session.
  if (const char* t = std::getenv(HANDOVER_TOKEN_ENV)) {
    options.ui_token = t;
    if (const char* p = std::getenv(HANDOVER_PORT_ENV)) {
      options.ui_port = static_cast<std::uint16_t>(std::strtoul(p, nullptr, 10));
    }
    ::unsetenv(HANDOVER_TOKEN_ENV);
    ::unsetenv(HANDOVER_PORT_ENV);
  }
  if (!home->config_exists || !home->config.community.community_id) {
    if (args.no_ui) {
      std::cerr << "hearthnet: no community is set up at " << home->paths.config_file.string()
                << "; run `hearthnet init` first\n";
      return EXIT_ERROR;
    }
    // M08 §8.5 → M13: the first run without a community is the dashboard's wizard.
    auto setup = node::run_setup_ui(*home, global.env, options.ui_token, [](const std::string& url) {
      std::cout << "No community yet — open the dashboard to create or join one:\n  " << url
                << std::endl;
    });
    if (!setup) return fail(setup.error());
    if (!setup->joined_or_created) return EXIT_OK;
    options.ui_port = setup->ui_port;
    reexec_with_session(options.ui_token, setup->ui_port);  // returns only if exec failed
  }
  auto opened = node::Node::open(std::move(*home), options);
  if (!opened) return fail(opened.error());
  auto& n = **opened;
  if (auto s = n.start(); !s) return fail(s.error());
  std::cout << "HearthNet node " << n.keys().short_id() << " (" << n.home().config.node.display_name
            << ") listening on " << n.home().config.transport.host << ":" << n.port()
            << " — Ctrl-C to stop" << std::endl;
  if (auto url = n.ui_url(); !url.empty()) std::cout << "Dashboard: " << url << std::endl;
  Status ran = n.run();
  opened->reset();
  if (!ran) return fail(ran.error());
  std::cout << "stopped" << std::endl;
  return EXIT_OK;
}

int command_status(const GlobalOptions& global, const StatusArgs& args) {
  auto c = connect_to_node(global);
  if (!c.client) return c.exit_code;
  auto s = c.client->get_json(node::NODE_STATUS_PATH);
  if (!s) return fail(s.error());
  if (!s->is_object()) {
    std::cerr << "hearthnet: malformed status from the node\n";
    return EXIT_ERROR;
  }
  if (args.json) {
    std::cout << s->dump(2) << "\n";
  } else {
    print_status(*s);
  }
  return EXIT_OK;
}

int command_caps(const GlobalOptions& global, const CapsArgs& args) {
  auto c = connect_to_node(global);
  if (!c.client) return c.exit_code;
  Json query = Json::object();
  if (args.local_only) query["local_only"] = "true";
  if (args.remote_only) query["remote_only"] = "true";
  if (args.name) query["name"] = *args.name;
  auto r = c.client->get_json(node::NODE_CAPS_PATH, query);
  if (!r) return fail(r.error());
  const Json caps = r->value("capabilities", Json::array());
  if (args.json) {
    std::cout << caps.dump(2) << "\n";
    return EXIT_OK;
  }
  const std::string ours = r->value("our_node_id", "");
  const std::int64_t now = SystemClock::instance().now_ms();
  std::cout << std::left << std::setw(24) << "NAME" << std::setw(9) << "VERSION" << std::setw(14) << "STABILITY"
            << std::setw(24) << "NODE" << std::setw(24) << "PARAMS" << std::setw(13) << "HEALTH"
            << std::setw(9) << "P50MS" << "IN_FLIGHT\n";
  for (const auto& e : caps) {
    std::string health;
    if (e.value("quarantined_until_ms", std::int64_t{0}) > now) {
      health = "quarantined";
    } else {
      std::ostringstream os;
      os << std::fixed << std::setprecision(0) << e.value("success_rate", 1.0) * 100 << "%";
      health = os.str();
    }
    std::ostringstream p50;
    p50 << std::fixed << std::setprecision(1) << e.value("p50_latency_ms", 0.0);
    std::string params = e.value("params", Json::object()).dump();
    if (params.size() > 22) params = params.substr(0, 21) + "…";
    std::cout << std::left << std::setw(24) << str_or(e, "name") << std::setw(9) << str_or(e, "version")
              << std::setw(14) << str_or(e, "stability") << std::setw(24) << short_node(str_or(e, "node_id"), ours)
              << std::setw(24) << params << std::setw(13) << health << std::setw(9) << p50.str()
              << str_or(e, "in_flight", "0") << "\n";
  }
  return EXIT_OK;
}

int command_call(const GlobalOptions& global, const CallArgs& args) {
  std::string ref = args.capability;
  if (ref.find('@') == std::string::npos) ref += "@1.0";
  auto parsed = bus::parse_capability_ref(ref);
  if (!parsed) {
    std::cerr << "hearthnet: " << parsed.error().to_string() << " (expected NAME[@MAJOR.MINOR])\n";
    return EXIT_USAGE;
  }
  auto body = parse_json(args.body);
  if (!body) {
    std::cerr << "hearthnet: bad_request: --body is not valid JSON: " << body.error().message << "\n";
    return EXIT_USAGE;
  }
  // The node enforces the capability's own deadline; the client only needs to outlast it.
  const auto timeout = std::chrono::seconds(args.timeout_seconds > 0 ? args.timeout_seconds + 5 : 300);
  auto c = connect_to_node(global);
  if (!c.client) return c.exit_code;
  const auto& [name, version] = *parsed;
  Json node_req = args.node ? Json{{"capability", ref}, {"node", *args.node}, {"body", *body}} : Json();
  if (args.node && args.timeout_seconds > 0) node_req["timeout_seconds"] = args.timeout_seconds;
  if (!args.stream) {
    if (args.node) {
      auto r = c.client->request("POST", node::NODE_CALL_PATH, node_req);
      if (!r) return fail(r.error());
      if (r->status / 100 != 2) return fail(transport::parse_error_response(r->status, r->body));
      std::cout << r->body.dump() << std::endl;
      return EXIT_OK;
    }
    auto r = c.client->call(name, version, *body, timeout);
    if (!r) return fail(r.error());
    std::cout << r->dump() << std::endl;
    return EXIT_OK;
  }
  auto print = [](const transport::Frame& f) {
    std::cout << Json{{"event", f.event}, {"seq", f.seq}, {"data", f.data}}.dump() << std::endl;
    return static_cast<bool>(std::cout);
  };
  auto done = args.node ? c.client->stream_request(node::NODE_CALL_PATH, node_req, print, timeout)
                        : c.client->stream(name, version, *body, print, timeout);
  if (!done) return fail(done.error());
  std::cout << Json{{"event", done->event}, {"seq", done->seq}, {"data", done->data}}.dump() << std::endl;
  return EXIT_OK;
}

int command_trace_recent(const GlobalOptions& global, const TraceArgs& args) {
  auto c = connect_to_node(global);
  if (!c.client) return c.exit_code;
  Json query{{"n", std::to_string(std::max(1, args.n))}};
  if (args.capability) query["capability"] = *args.capability;
  auto r = c.client->get_public("/trace/recent?" + transport::encode_query(query));
  if (!r) return fail(r.error());
  if (r->status != 200) return fail(transport::parse_error_response(r->status, r->body));
  const Json traces = r->body.value("traces", Json::array());
  if (args.json) {
    std::cout << traces.dump(2) << "\n";
    return EXIT_OK;
  }
  if (traces.empty()) std::cout << "no traces yet\n";
  for (const auto& t : traces) {
    std::cout << str_or(t, "started_at") << "  " << str_or(t, "trace_id") << "  " << std::left << std::setw(22)
              << str_or(t, "capability") << std::setw(18) << str_or(t, "result") << str_or(t, "duration_ms", "?")
              << " ms\n";
    for (const auto& s : t.value("spans", Json::array())) {
      std::cout << "    " << str_or(s, "name") << "  " << str_or(s, "duration_ms", "?") << " ms  "
                << s.value("extras", Json::object()).dump() << "\n";
    }
  }
  return EXIT_OK;
}

int command_log(const GlobalOptions& global, const LogArgs& args) {
  auto home = node::open_home(global.config_path, global.env);
  if (!home) return fail(home.error());
  observability::LogFilter filter;
  if (args.level) {
    filter.min_level = observability::parse_log_level(*args.level);
    if (!filter.min_level) {
      std::cerr << "hearthnet: --level must be debug, info, warning or error\n";
      return EXIT_USAGE;
    }
  }
  filter.component = args.component;
  const auto dir = home->paths.logs_dir;
  auto past = observability::read_log_lines(dir, filter, static_cast<std::size_t>(std::max(0, args.lines)));
  if (past) {
    for (const auto& e : *past) std::cout << e.raw << "\n";
  } else if (!args.follow) {
    std::cerr << "hearthnet: no log files in " << dir.string() << "\n";
    return EXIT_ERROR;
  }
  std::cout << std::flush;
  if (!args.follow) return EXIT_OK;

  // tail -F: follow the current file by name; start over when it was rotated or truncated.
  const auto file = dir / "hearthnet.log";
  std::error_code ec;
  std::uintmax_t offset = std::filesystem::file_size(file, ec);
  if (ec) offset = 0;
  std::string partial;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    const std::uintmax_t size = std::filesystem::file_size(file, ec);
    if (ec) continue;
    if (size < offset) {
      offset = 0;
      partial.clear();
    }
    if (size == offset) continue;
    std::ifstream in(file, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(offset));
    std::string chunk(size - offset, '\0');
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    chunk.resize(static_cast<std::size_t>(in.gcount()));
    offset += chunk.size();
    partial += chunk;
    std::size_t start = 0;
    for (std::size_t nl; (nl = partial.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::string_view line(partial.data() + start, nl - start);
      auto entry = observability::parse_log_line(line);
      if (entry && observability::matches(*entry, filter)) std::cout << line << "\n";
    }
    partial.erase(0, start);
    std::cout << std::flush;
    if (!std::cout) return EXIT_OK;  // the reader went away
  }
}

}  // namespace hn::cli
