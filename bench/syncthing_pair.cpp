// syncthing_pair.cpp — two Syncthing instances on loopback (syncthing_pair.h).
#include "syncthing_pair.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <thread>
#include <vector>

#include "core/json.h"
#include "support/test_support.h"

namespace hn::bench {
namespace {

namespace fs = std::filesystem;
using Clk = std::chrono::steady_clock;

constexpr const char* FOLDER_ID = "hnbench";
constexpr const char* API_KEY = "hnbench-local-key";

double secs_since(Clk::time_point t) { return std::chrono::duration<double>(Clk::now() - t).count(); }

// GET http://127.0.0.1:port/target with the API key; the body, or "" on any failure.
std::string rest_get(int port, const std::string& target) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string req = "GET " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\nX-API-Key: " + API_KEY +
                            "\r\nConnection: close\r\n\r\n";
    if (::write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char buf[8192];
      for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) response.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  const auto body = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.", 0) != 0 || response.find(" 200 ") > 12 || body == std::string::npos) return "";
  return response.substr(body + 4);
}

long peak_rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

// The largest peak RSS of pid and its children: `syncthing serve` runs its work in a child
// of a small monitor process.
std::vector<pid_t> children_of(pid_t pid);

long family_peak_rss_kib(pid_t pid) {
  long peak = peak_rss_kib(pid);
  for (auto child : children_of(pid)) peak = std::max(peak, peak_rss_kib(child));
  return peak;
}

struct Instance {
  fs::path home;
  fs::path share;
  std::string device_id;
  int listen_port = 0;
  int gui_port = 0;
  pid_t pid = -1;
};

std::string device_xml(const Instance& i, const std::string& name) {
  return "    <device id=\"" + i.device_id + "\" name=\"" + name +
         "\" compression=\"never\" introducer=\"false\">\n"
         "        <address>tcp://127.0.0.1:" + std::to_string(i.listen_port) + "</address>\n"
         "        <autoAcceptFolders>false</autoAcceptFolders>\n"
         "    </device>\n";
}

// Everything not named keeps Syncthing's default; what could reach past loopback is off.
std::string config_xml(const Instance& self, const Instance& a, const Instance& b, const char* folder_type) {
  return std::string("<configuration version=\"36\">\n") +
         "    <folder id=\"" + FOLDER_ID + "\" label=\"" + FOLDER_ID + "\" path=\"" + self.share.string() +
         "\" type=\"" + folder_type +
         "\" rescanIntervalS=\"86400\" fsWatcherEnabled=\"false\" ignorePerms=\"false\" autoNormalize=\"true\">\n"
         "        <filesystemType>basic</filesystemType>\n"
         "        <device id=\"" + a.device_id + "\"></device>\n"
         "        <device id=\"" + b.device_id + "\"></device>\n"
         "        <minDiskFree unit=\"%\">0</minDiskFree>\n"
         "    </folder>\n" +
         device_xml(a, "bench-a") + device_xml(b, "bench-b") +
         "    <gui enabled=\"true\" tls=\"false\" debugging=\"false\">\n"
         "        <address>127.0.0.1:" + std::to_string(self.gui_port) + "</address>\n"
         "        <apikey>" + API_KEY + "</apikey>\n"
         "    </gui>\n"
         "    <options>\n"
         "        <listenAddress>tcp://127.0.0.1:" + std::to_string(self.listen_port) + "</listenAddress>\n"
         "        <globalAnnounceServer></globalAnnounceServer>\n"
         "        <globalAnnounceEnabled>false</globalAnnounceEnabled>\n"
         "        <localAnnounceEnabled>false</localAnnounceEnabled>\n"
         "        <relaysEnabled>false</relaysEnabled>\n"
         "        <natEnabled>false</natEnabled>\n"
         "        <stunKeepaliveStartS>0</stunKeepaliveStartS>\n"
         "        <stunServer></stunServer>\n"
         "        <startBrowser>false</startBrowser>\n"
         "        <urAccepted>-1</urAccepted>\n"
         "        <autoUpgradeIntervalH>0</autoUpgradeIntervalH>\n"
         "        <crashReportingEnabled>false</crashReportingEnabled>\n"
         "        <setLowPriority>false</setLowPriority>\n"
         "        <minHomeDiskFree unit=\"%\">0</minHomeDiskFree>\n"
         "    </options>\n"
         "</configuration>\n";
}

std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> out;
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  for (long child = 0; in >> child;) out.push_back(static_cast<pid_t>(child));
  return out;
}

// SIGTERM (the monitor stops its child), SIGKILL for whatever is left after 5 s.
void stop(Instance& i) {
  if (i.pid <= 0) return;
  const auto children = children_of(i.pid);
  struct KillLeftovers {
    const std::vector<pid_t>& pids;
    ~KillLeftovers() {
      for (auto c : pids) ::kill(c, SIGKILL);  // already gone: ESRCH, harmless
    }
  } leftovers{children};
  ::kill(i.pid, SIGTERM);
  for (int k = 0; k < 50; ++k) {
    int status = 0;
    if (::waitpid(i.pid, &status, WNOHANG) == i.pid) {
      i.pid = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(i.pid, SIGKILL);
  ::waitpid(i.pid, nullptr, 0);
  i.pid = -1;
}

}  // namespace

SyncthingRun run_syncthing_pair(const fs::path& file, const fs::path& work, int timeout_seconds) {
  SyncthingRun out;
  const std::string exe = test::find_program("syncthing");
  if (exe.empty()) {
    out.error = "syncthing is not installed (scripts/bootstrap installs it)";
    return out;
  }
  out.version = test::trim(test::run_process({exe, "--version"}, {}, "", 30).out);
  const std::int64_t size = static_cast<std::int64_t>(fs::file_size(file));
  fs::remove_all(work);
  Instance a, b;
  for (auto* i : {&a, &b}) {
    i->home = work / (i == &a ? "a" : "b");
    i->share = i->home / "share";
    fs::create_directories(i->share / ".stfolder");  // the folder marker Syncthing expects
    auto g = test::run_process({exe, "generate", "--home=" + i->home.string(), "--no-default-folder",
                                "--skip-port-probing"},
                               {"STNODEFAULTFOLDER=1"}, "", 60);
    const std::string text = g.out + g.err;
    const auto at = text.find("Device ID: ");
    if (g.exit_code != 0 || at == std::string::npos) {
      out.error = "syncthing generate failed: " + text;
      return out;
    }
    i->device_id = test::trim(text.substr(at + 11, 63));
    i->listen_port = test::unused_port();
    i->gui_port = test::unused_port();
  }
  fs::create_hard_link(file, a.share / file.filename());
  std::ofstream(a.home / "config.xml") << config_xml(a, a, b, "sendonly");
  std::ofstream(b.home / "config.xml") << config_xml(b, a, b, "receiveonly");

  auto start = [&](Instance& i) {
    i.pid = test::spawn_process({exe, "serve", "--home=" + i.home.string(), "--no-browser", "--no-restart",
                                 "--no-upgrade"},
                                {"STNOUPGRADE=1", "STNODEFAULTFOLDER=1"}, i.home / "log.txt");
  };
  auto cleanup = [&] {
    stop(b);
    stop(a);
    fs::remove_all(work);
  };

  // The sender scans (hashes) the file first; not timed.
  auto t = Clk::now();
  start(a);
  const bool scanned = test::eventually(
      [&] {
        auto j = parse_json(rest_get(a.gui_port, std::string("/rest/db/status?folder=") + FOLDER_ID));
        return j && j->is_object() && j->value("state", "") == "idle" &&
               j->value("localBytes", std::int64_t{0}) == size;
      },
      timeout_seconds);
  if (!scanned) {
    out.error = "the sender did not finish scanning: " + test::read_text(a.home / "log.txt");
    cleanup();
    return out;
  }
  out.scan_seconds = secs_since(t);

  // The transfer: the receiver's start until the file stands whole under its final name.
  const fs::path target = b.share / file.filename();
  t = Clk::now();
  start(b);
  bool done = false;
  while (secs_since(t) < timeout_seconds) {
    std::error_code ec;
    if (fs::exists(target, ec) && static_cast<std::int64_t>(fs::file_size(target, ec)) == size) {
      done = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (done) {
    out.seconds = secs_since(t);
    out.receiver_peak_rss_kib = family_peak_rss_kib(b.pid);
  } else {
    out.error = "the receiver did not complete the file in time: " + test::read_text(b.home / "log.txt");
  }
  cleanup();
  return out;
}

}  // namespace hn::bench
