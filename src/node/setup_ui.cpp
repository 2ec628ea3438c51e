// setup_ui.cpp — the first-run wizard's backend (setup_ui.h): three routes over init.h and
// join.h, served by the ui layer's server in setup mode.
#include "node/setup_ui.h"

#include <csignal>
#include <memory>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/file_util.h"
#include "core/work_queue.h"
#include "node/init.h"
#include "node/join.h"
#include "transport/completion.h"
#include "ui/server.h"

namespace hn::node {
namespace asio = boost::asio;

namespace {

// Runs fn on the helper queue and resumes the coroutine with its result.
asio::awaitable<ui::ApiResponse> async_on_helper(WorkQueue& queue,
                                                 std::function<ui::ApiResponse()> fn) {
  co_return co_await transport::async_completion<ui::ApiResponse>([&queue, fn](auto respond) {
    bool posted = queue.try_post([fn, respond] { respond(fn()); });
    if (!posted) {
      respond(ui::ApiResponse::error(
          make_error(ErrorCode::capacity_exceeded, "the wizard is busy with another step")));
    }
  });
}

}  // namespace

Result<SetupOutcome> run_setup_ui(NodeHome& home, const config::Env& env, const std::string& token,
                                  const std::function<void(const std::string&)>& on_url) {
  // Identity and config first (M13 first run: the device's id exists before any community).
  InitOptions init;
  init.found_community = false;
  HN_TRY(initialise_node(home, init, env));

  asio::io_context io;
  WorkQueue helper(WorkQueueOptions{"setup", 1, 2, 0});
  ui::ServerOptions so;
  so.host = home.config.ui.host;
  so.port = static_cast<std::uint16_t>(home.config.ui.port);
  so.token = token;
  ui::Server server(io.get_executor(), so);
  bool done = false;
  asio::steady_timer finish(io);
  // The answer is written first; then the wizard's loop ends and `run` starts the node.
  auto finish_soon = [&] {
    asio::post(io, [&] {
      done = true;
      finish.expires_after(std::chrono::milliseconds(300));
      finish.async_wait([&](const boost::system::error_code&) {
        server.stop();
        io.stop();
      });
    });
  };

  server.add_api("GET", "/api/setup/state", [&](Json) -> asio::awaitable<ui::ApiResponse> {
    return async_on_helper(helper, [&]() -> ui::ApiResponse {
      auto card = node_id_card(home);
      if (!card) return ui::ApiResponse::error(card.error());
      auto keys = identity::load_keys(home.paths.keys_dir);
      Json j{{"id_card", *card}, {"display_name", home.config.node.display_name}};
      if (keys) {
        j["node_id"] = keys->node_id().str();
        j["short_id"] = keys->short_id();
      }
      return ui::ApiResponse{200, std::move(j)};
    });
  });
  server.add_api("POST", "/api/setup/create", [&](Json body) -> asio::awaitable<ui::ApiResponse> {
    return async_on_helper(helper, [&, body]() -> ui::ApiResponse {
      auto name = body.find("name");
      if (name == body.end() || !name->is_string() || name->get<std::string>().empty() ||
          name->get<std::string>().size() > 120) {
        return ui::ApiResponse::error(
            make_error(ErrorCode::bad_request, "name: 1 to 120 characters"));
      }
      InitOptions o;
      o.community_name = name->get<std::string>();
      auto report = initialise_node(home, o, env);
      if (!report) return ui::ApiResponse::error(report.error());
      finish_soon();
      return ui::ApiResponse{200, Json{{"community_id", report->community_id},
                                       {"community_name", report->community_name}}};
    });
  });
  server.add_api("POST", "/api/setup/join", [&](Json body) -> asio::awaitable<ui::ApiResponse> {
    return async_on_helper(helper, [&, body]() -> ui::ApiResponse {
      auto invite = body.find("invite");
      if (invite == body.end() || !invite->is_string()) {
        return ui::ApiResponse::error(
            make_error(ErrorCode::bad_request, "invite (text) is required"));
      }
      auto report = join_community(home, invite->get<std::string>(), env);
      if (!report) return ui::ApiResponse::error(report.error());
      finish_soon();
      return ui::ApiResponse{200, Json{{"community_id", report->community_id.str()},
                                       {"community_name", report->community_name},
                                       {"pushed", report->pushed}}};
    });
  });

  HN_TRY_ASSIGN(std::uint16_t port, server.start());
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    server.stop();
    io.stop();
  });
  // Like the node's: run/ui.url (0600, it holds the token) for scripts and tests.
  const auto url_file = home.paths.run_dir / "ui.url";
  if (ensure_directory(home.paths.run_dir, fs::perms(0700))) {
    (void)atomic_write_file(url_file, server.url() + "\n", fs::perms(0600));
  }
  on_url(server.url());
  io.run();
  std::error_code ec;
  fs::remove(url_file, ec);
  helper.stop();
  server.stop();
  io.restart();
  io.run_for(std::chrono::milliseconds(200));
  return SetupOutcome{done, port};
}

}  // namespace hn::node
