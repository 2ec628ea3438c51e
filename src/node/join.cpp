// join.cpp — joining with an invite from the CLI (M13 §4.2) over a private io_context.
#include "node/join.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <utility>

#include "core/file_util.h"
#include "events/community_view.h"
#include "events/event_log.h"
#include "events/replay.h"
#include "events/sync.h"
#include "identity/keys.h"
#include "node/detail/sync_peer.h"
#include "node/node.h"
#include "onboarding/id_card.h"
#include "onboarding/invite.h"
#include "onboarding/redeem.h"
#include "transport/client.h"
#include "transport/envelope.h"
#include "transport/pinned_certs.h"

namespace hn::node {
namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

constexpr auto JOIN_TIMEOUT = std::chrono::seconds(30);

using Promise = std::promise<Result<transport::ClientResponse>>;

asio::awaitable<void> async_signed(transport::Client* client, transport::Endpoint ep,
                                   std::string method, std::string path, Json body,
                                   std::shared_ptr<Promise> done) {
  transport::CallOptions o;
  o.timeout = JOIN_TIMEOUT;
  auto op =
      client->async_request(std::move(ep), std::move(method), std::move(path), std::move(body), o);
  done->set_value(co_await std::move(op));
}

asio::awaitable<void> async_public(transport::Client* client, transport::Endpoint ep,
                                   std::string path, std::shared_ptr<Promise> done) {
  transport::CallOptions o;
  o.timeout = JOIN_TIMEOUT;
  auto op = client->async_get_public(std::move(ep), std::move(path), o);
  done->set_value(co_await std::move(op));
}

Result<Json> body_or_error(Result<transport::ClientResponse> r) {
  if (!r) return r.take_error();
  if (r->status / 100 != 2) return transport::parse_error_response(r->status, r->body);
  return std::move(r->body);
}

// The network for redeem_invite: a transport client on a private io_context thread; every
// method blocks the caller until its exchange completes.
class ClientBootstrapPeer final : public onboarding::BootstrapPeer {
 public:
  ClientBootstrapPeer(const identity::KeyPair& keys, CommunityId community, NodeId inviter,
                      events::EventLog& log, transport::PinnedCerts& pins)
      : m_community(community),
        m_inviter(std::move(inviter)),
        m_log(log),
        m_guard(m_io.get_executor()) {
    transport::ClientOptions co;
    co.community = std::move(community);
    co.default_timeout = JOIN_TIMEOUT;
    m_client = std::make_unique<transport::Client>(m_io.get_executor(), keys, pins, co);
    m_thread = std::thread([this] { m_io.run(); });
  }
  ~ClientBootstrapPeer() override {
    asio::post(m_io, [this] { m_client->close(); });
    m_guard.reset();
    m_io.stop();
    m_thread.join();
    m_io.restart();
    m_io.run_for(std::chrono::milliseconds(200));
    m_client.reset();
  }

  Result<Json> fetch_community_manifest(const identity::Endpoint& ep) override {
    auto done = std::make_shared<Promise>();
    auto f = done->get_future();
    transport::Endpoint tep{ep.host, static_cast<std::uint16_t>(ep.port),
                            NodeId("address:" + ep.host + ":" + std::to_string(ep.port))};
    asio::post(m_io, [this, tep, done] {
      asio::co_spawn(m_io, async_public(m_client.get(), tep, "/community/manifest", done),
                     asio::detached);
    });
    return body_or_error(f.get());
  }

  Status sync(const identity::Endpoint& ep) override {
    detail::TransportSyncPeer peer(
        [this, ep](const std::string& m, std::string_view path, Json body) {
          return signed_request(ep, m, std::string(path), std::move(body));
        },
        m_inviter.str());
    events::SyncClient client(m_log);
    // Two rounds: events whose author the first round had not admitted yet come next.
    for (int i = 0; i < 2; ++i) {
      auto r = client.run_round(peer);
      if (!r) return r.take_error();
      if (r->rejected_count == 0) break;
    }
    return {};
  }

  Status push_events(const identity::Endpoint& ep,
                     const std::vector<events::Event>& events) override {
    events::EventsRequest req{m_community, events};
    HN_TRY_ASSIGN(Json body,
                  signed_request(ep, "POST", std::string(events::SYNC_PATH_EVENTS), to_json(req)));
    HN_TRY_ASSIGN(auto reply, events::parse_events_reply(body));
    if (reply.rejected > 0) {
      return make_error(ErrorCode::sync_failed, "the bootstrap node refused our join event");
    }
    return {};
  }

 private:
  Result<Json> signed_request(const identity::Endpoint& ep, const std::string& method,
                              std::string path, Json body) {
    auto done = std::make_shared<Promise>();
    auto f = done->get_future();
    transport::Endpoint tep{ep.host, static_cast<std::uint16_t>(ep.port), m_inviter};
    asio::post(m_io, [this, tep, method, path = std::move(path), body = std::move(body),
                      done]() mutable {
      asio::co_spawn(
          m_io, async_signed(m_client.get(), tep, method, std::move(path), std::move(body), done),
          asio::detached);
    });
    return body_or_error(f.get());
  }

  CommunityId m_community;
  NodeId m_inviter;
  events::EventLog& m_log;
  asio::io_context m_io{1};
  asio::executor_work_guard<asio::io_context::executor_type> m_guard;
  std::unique_ptr<transport::Client> m_client;
  std::thread m_thread;
};

}  // namespace

Result<std::string> node_id_card(const NodeHome& home) {
  HN_TRY_ASSIGN(auto keys, identity::load_or_generate_keys(home.paths.keys_dir));
  onboarding::NodeIdCard card{keys.node_id(), home.config.node.display_name};
  return onboarding::encode_node_id_card(card);
}

Result<JoinReport> join_community(NodeHome& home, std::string_view invite_text,
                                  const config::Env& env) {
  HN_TRY_ASSIGN(auto invite, onboarding::decode_invite(invite_text));
  const auto& current = home.config.community.community_id;
  if (current && !current->empty() && *current != invite.community_id.str()) {
    return make_error(ErrorCode::bad_request,
                      "this node already belongs to community " + *current +
                          "; `hearthnet erase --keep-keys` first to join another");
  }
  HN_TRY_ASSIGN(auto lock, HomeLock::try_acquire(home, "before redeeming an invite"));
  HN_TRY_ASSIGN(auto keys, identity::load_or_generate_keys(home.paths.keys_dir));

  config::Config cfg = home.config;
  cfg.community.community_id = invite.community_id.str();
  NodeHome joined = home;
  joined.config = cfg;
  HN_TRY(refresh_paths(joined, env));
  HN_TRY(ensure_directory(joined.paths.community_dir, fs::perms(0700)));

  std::string display_name = cfg.node.display_name;
  if (display_name.empty()) display_name = invite.display_name;
  JoinReport report;
  {
    HN_TRY_ASSIGN(auto log,
                  events::EventLog::open(joined.paths.events_db, invite.community_id, keys));
    events::CommunityView view;
    events::ReplayEngine replay(*log);
    HN_TRY(replay.register_view(view, events::CommunityView::event_types()));
    log->set_author_policy(view.author_policy());
    HN_TRY_ASSIGN(auto pins, transport::PinnedCerts::open(":memory:"));
    ClientBootstrapPeer peer(keys, invite.community_id, invite.inviter_node_id, *log, *pins);
    onboarding::RedeemDeps deps{peer, *log, {}, joined.paths.community_dir};
    HN_TRY_ASSIGN(auto result, onboarding::redeem_invite(invite, keys, display_name, deps));
    report.community_id = result.community_id;
    report.community_name = result.community_name;
    report.level = result.level;
    report.node_id = keys.node_id();
    report.inviter_node_id = result.inviter_node_id;
    report.bootstrap = onboarding::format_endpoint_text(result.bootstrap_endpoint);
    report.pushed = result.pushed;
    if (result.push_error) report.push_error = result.push_error->to_string();
  }
  // Only now the config names the community: a failed join leaves the home as it was.
  HN_TRY(config::save_config(joined.config, joined.paths.config_file));
  home = std::move(joined);
  home.config_exists = true;
  return report;
}

}  // namespace hn::node
