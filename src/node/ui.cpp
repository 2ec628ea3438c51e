// ui.cpp — the node serves its dashboard (M08, src/ui): at start, on [ui] host:port, as
// the node itself (ui::NodeLink signs with our key over loopback), with this run's session
// token; the URL goes to run/ui.url (0600: it holds the token) and, with
// ui.launch_browser, to the desktop's browser.
#include <string>

#include "core/file_util.h"
#include "node/detail/node_impl.h"
#include "ui/session.h"

namespace hn::node {

namespace {
constexpr const char* UI_URL_FILE = "ui.url";
}

void Node::Impl::start_ui() {
  ui::ServerOptions o;
  o.host = home.config.ui.host;
  o.port = options.ui_port ? *options.ui_port : static_cast<std::uint16_t>(home.config.ui.port);
  o.token = options.ui_token.empty() ? ui::new_session_token() : options.ui_token;
  auto srv = std::make_unique<ui::Server>(io.get_executor(), o);
  srv->set_node(ui::NodeLinkOptions{&*keys, port.load(), community});
  auto bound = srv->start();
  if (!bound) {
    detail::node_log().warning("dashboard not served", Json{{"reason", bound.error().message}});
    return;
  }
  ui_server = std::move(srv);
  auto written =
      atomic_write_file(home.paths.run_dir / UI_URL_FILE, ui_server->url() + "\n", fs::perms(0600));
  if (!written) {
    detail::node_log().warning("cannot write ui.url", Json{{"reason", written.error().message}});
  }
  detail::node_log().info("dashboard served", Json{{"host", o.host}, {"port", *bound}});
  if (home.config.ui.launch_browser) ui::launch_browser(ui_server->url());
}

void Node::Impl::stop_ui() {
  if (!ui_server) return;
  ui_server->stop();
  std::error_code ec;
  fs::remove(home.paths.run_dir / UI_URL_FILE, ec);
}

std::string Node::ui_url() const { return m_impl->ui_server ? m_impl->ui_server->url() : ""; }

}  // namespace hn::node
