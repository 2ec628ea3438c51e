// doctor_live_checks.cpp — see doctor_live_checks.h.
#include "node/doctor_live_checks.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

#include "node/local_client.h"
#include "node/node.h"

namespace hn::node {

using observability::check_fail;
using observability::check_ok;
using observability::check_warn;
using observability::CheckResult;

// Connects once, on the first check that asks; remembers "not running".
class RunningNode {
 public:
  explicit RunningNode(NodeHome home) : m_home(std::move(home)) {}
  LocalClient* client() {
    if (!m_tried) {
      m_tried = true;
      auto c = LocalClient::connect(m_home, std::chrono::seconds(3));
      if (c) m_client = std::move(*c);
    }
    return m_client.get();
  }

 private:
  NodeHome m_home;
  bool m_tried = false;
  std::unique_ptr<LocalClient> m_client;
};

std::shared_ptr<RunningNode> running_node(const NodeHome& home) {
  return std::make_shared<RunningNode>(home);
}

namespace {

constexpr const char* START_NODE = "start it with `hearthnet run`";

CheckResult not_running() { return check_warn("node not running", std::string(START_NODE)); }

// A socket closed on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string errno_text() { return std::strerror(errno); }

// Binds a UDP socket to port with SO_REUSEADDR + SO_REUSEPORT (as the node does, so a
// running node does not make it fail) and joins group; empty on success, else the reason.
std::optional<std::string> probe_multicast(int port, const std::string& group) {
  Fd s{::socket(AF_INET, SOCK_DGRAM, 0)};
  if (s.fd < 0) return "socket: " + errno_text();
  int one = 1;
  ::setsockopt(s.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
#ifdef SO_REUSEPORT
  ::setsockopt(s.fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
#endif
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (::bind(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return "bind UDP port " + std::to_string(port) + ": " + errno_text();
  ip_mreq mreq{};
  if (::inet_pton(AF_INET, group.c_str(), &mreq.imr_multiaddr) != 1)
    return "'" + group + "' is not an IPv4 multicast group";
  mreq.imr_interface.s_addr = htonl(INADDR_ANY);
  if (::setsockopt(s.fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0)
    return "join " + group + ": " + errno_text() + " (no multicast route?)";
  return std::nullopt;
}

}  // namespace

observability::DoctorCheck make_mdns_socket_check(const NodeHome& home) {
  const bool enabled = home.config.discovery.mdns_enabled;
  return {"mdns_socket", [enabled] {
    if (!enabled) return check_ok("mDNS disabled in config ([discovery] mdns_enabled = false)");
    if (auto why = probe_multicast(5353, "224.0.0.251"))
      return check_fail(*why, std::string("free UDP 5353 or set [discovery] mdns_enabled = false"));
    return check_ok("UDP 5353 bound, 224.0.0.251 joined");
  }};
}

observability::DoctorCheck make_udp_multicast_check(const NodeHome& home,
                                                    std::shared_ptr<RunningNode> node) {
  const auto& d = home.config.discovery;
  const bool enabled = d.udp_enabled;
  const int port = d.udp_port;
  const std::string group = d.udp_multicast_group;
  return {"udp_multicast", [enabled, port, group, node] {
    if (!enabled) return check_ok("UDP discovery disabled in config ([discovery] udp_enabled = false)");
    if (auto why = probe_multicast(port, group)) {
      if (node->client()) return check_ok("held by the running node (" + group + ":" + std::to_string(port) + ")");
      return check_fail(*why, std::string("set [discovery] udp_port to a free port"));
    }
    return check_ok(group + ":" + std::to_string(port) + " can be bound and joined");
  }};
}

observability::DoctorCheck make_transport_port_check(const NodeHome& home,
                                                     std::shared_ptr<RunningNode> node) {
  const int port = home.config.transport.port;
  return {"transport_port", [port, node] {
    if (LocalClient* c = node->client())
      return check_ok("port " + std::to_string(c->port()) + " owned by the running node");
    if (port == 0) return check_ok("port 0: a free port is picked at start");
    Fd s{::socket(AF_INET, SOCK_STREAM, 0)};
    if (s.fd < 0) return check_fail("socket: " + errno_text());
    int one = 1;
    ::setsockopt(s.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    if (::bind(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(s.fd, 1) != 0) {
      return check_fail("TCP port " + std::to_string(port) + " is taken by another program: " + errno_text(),
                        std::string("stop that program or set [transport] port in config.toml"));
    }
    return check_ok("TCP port " + std::to_string(port) + " is free");
  }};
}

observability::DoctorCheck make_capability_check(std::shared_ptr<RunningNode> node) {
  return {"at_least_one_capability", [node] {
    LocalClient* c = node->client();
    if (!c) return not_running();
    auto caps = c->get_json(NODE_CAPS_PATH, Json{{"local_only", "true"}});
    if (!caps) return check_fail(caps.error().to_string());
    const std::size_t n = (*caps)["capabilities"].size();
    if (n == 0) return check_fail("the node offers no capability", std::string("check `hearthnet log` for service errors"));
    return check_ok(std::to_string(n) + " capability(ies) offered");
  }};
}

// LLM providers: the running node's llm.* capabilities (its own, then the mesh's), plus
// what its llm service says of each configured backend (services.llm.backends in status).
observability::DoctorCheck make_llm_backend_check(const NodeHome& home,
                                                  std::shared_ptr<RunningNode> node) {
  (void)home;
  return {"llm_backend_reachable", [node] {
    LocalClient* c = node->client();
    if (!c) return not_running();
    auto status = c->get_json(NODE_STATUS_PATH);
    std::vector<std::string> down;
    std::size_t up = 0;
    if (status) {
      // The llm service's health (services/llm): backends that started, each with ok and
      // last_error, and backends_failed, those that could not start (bad path, URL, key).
      const Json health = (*status)["services"]["llm"]["health"];
      const Json backends = health.is_object() ? health.value("backends", Json::array()) : Json::array();
      for (const auto& b : backends) {
        if (b.value("ok", true)) {
          ++up;
        } else {
          down.push_back(b.value("name", "?") + ": " + b.value("last_error", "unreachable"));
        }
      }
      const Json failed = health.is_object() ? health.value("backends_failed", Json::array()) : Json::array();
      for (const auto& b : failed) down.push_back(b.value("name", "?") + ": " + b.value("error", "did not start"));
    }
    auto caps = c->get_json(NODE_CAPS_PATH, Json{{"name", "llm.*"}});
    const std::size_t mesh = caps ? (*caps)["capabilities"].size() : 0;
    std::string downs;
    for (const auto& d : down) downs += (downs.empty() ? "" : "; ") + d;
    if (up > 0) {
      return down.empty() ? check_ok(std::to_string(up) + " LLM backend(s) respond")
                          : check_warn(std::to_string(up) + " backend(s) respond; down: " + downs);
    }
    if (!down.empty()) return check_fail("no LLM backend responds: " + downs, std::string("check [[llm.backends]] in config.toml"));
    if (mesh > 0) return check_ok("no backend here; " + std::to_string(mesh) + " llm capability(ies) on the mesh");
    return check_warn("no LLM backend configured", std::string("add an [[llm.backends]] entry to config.toml"));
  }};
}

observability::DoctorCheck make_error_rate_check(std::shared_ptr<RunningNode> node) {
  return {"recent_error_rate", [node] {
    LocalClient* c = node->client();
    if (!c) return not_running();
    auto traces = c->get_public("/trace/recent?n=100");
    if (!traces) return check_fail(traces.error().to_string());
    if (traces->status != 200) return check_fail("/trace/recent answered " + std::to_string(traces->status));
    const Json list = traces->body["traces"];
    std::size_t errors = 0;
    for (const auto& t : list)
      if (t.value("result", "ok") != "ok") ++errors;
    const std::string text = std::to_string(errors) + " of the last " + std::to_string(list.size()) + " calls failed";
    if (!list.empty() && errors * 5 >= list.size())
      return check_fail(text + " (≥ 20%)", std::string("see `hearthnet trace recent` and `hearthnet log --level warning`"));
    return check_ok(text);
  }};
}

}  // namespace hn::node
