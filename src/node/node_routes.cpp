// node_routes.cpp — the node's own routes (X01 §3.2, CONTRACT §5): the admin routes the
// CLI uses (status, caps, debug emit, invite, shutdown, and the governance routes of
// governance.cpp; trust `self` only) and the X02 §6 sync routes (members, and invitees while
// they join). The bus-call routes are in call_routes.cpp.
#include <string>
#include <utility>

#include <boost/asio/use_awaitable.hpp>

#include "core/json.h"
#include "node/detail/node_impl.h"
#include "observability/logging.h"
#include "onboarding/id_card.h"
#include "onboarding/issue.h"

namespace hn::node {
namespace asio = boost::asio;

void Node::Impl::add_node_routes() {
  server->add_route("GET", NODE_STATUS_PATH,
                    [this](transport::Request r, std::shared_ptr<transport::SseWriter>) {
                      return async_local_json(std::move(r), [this] { return status(); });
                    });
  server->add_route(
      "GET", NODE_CAPS_PATH, [this](transport::Request r, std::shared_ptr<transport::SseWriter>) {
        CapsFilter f;
        f.local_only = r.query.count("local_only") && r.query["local_only"] == "true";
        f.remote_only = r.query.count("remote_only") && r.query["remote_only"] == "true";
        if (r.query.count("name")) f.name_pattern = r.query["name"];
        return async_local_json(std::move(r), [this, f] { return capabilities(f); });
      });
  server->add_route("GET", NODE_MEMBERS_PATH,
                    [this](transport::Request r, std::shared_ptr<transport::SseWriter>) {
                      return async_local_json(std::move(r), [this] { return member_list(); });
                    });
  add_self_route(NODE_DEBUG_EMIT_PATH, [this](const Json& b) { return debug_emit(b); });
  add_self_route(NODE_MEMBER_REVOKE_PATH, [this](const Json& b) { return revoke_member(b); });
  add_self_route(NODE_MEMBER_LEVEL_PATH, [this](const Json& b) { return change_member_level(b); });
  add_self_route(NODE_POLICY_PATH, [this](const Json& b) { return update_policy(b); });
  server->add_route("GET", NODE_POLICY_PATH,
                    [this](transport::Request r, std::shared_ptr<transport::SseWriter>)
                        -> asio::awaitable<transport::Response> {
                      if (r.trust != TrustLevel::self) co_return not_self(r);
                      auto op = async_on(
                          *admin_queue, [this](const Json&) { return current_policy(); }, Json());
                      Result<Json> result = co_await std::move(op);
                      if (!result) co_return transport::Response::error(result.error());
                      co_return transport::Response::json(std::move(*result));
                    });
  add_self_route(NODE_INVITE_PATH, [this](const Json& b) { return create_invite(b); });
  add_self_route(NODE_LOG_LEVEL_PATH, [this](const Json& b) { return change_log_level(b); });
  // M12 §3.10: `hearthnet erase` stops the node first. Shutdown starts from a timer armed
  // now, so this answer is written before the server closes its connections.
  server->add_route("POST", NODE_SHUTDOWN_PATH,
                    [this](transport::Request r, std::shared_ptr<transport::SseWriter>)
                        -> asio::awaitable<transport::Response> {
                      if (r.trust != TrustLevel::self) co_return not_self(r);
                      detail::node_log().info("shutdown asked for over the control route");
                      auto timer = std::make_shared<asio::steady_timer>(
                          io, std::chrono::milliseconds(100));
                      timer->async_wait([this, timer](const boost::system::error_code&) {
                        begin_shutdown();
                      });
                      co_return transport::Response::json(Json{{"stopping", true}});
                    });
  // X02 §6 sync endpoints (members only; the work runs on the node's sync queue).
  auto sync_route = [this](const char* method, std::string_view path, JsonJob fn) {
    server->add_route(method, std::string(path),
                      [this, fn](transport::Request r, std::shared_ptr<transport::SseWriter>) {
                        return async_sync(std::move(r), fn);
                      });
  };
  sync_route("GET", events::SYNC_PATH_HEADS,
             [this](const Json&) { return sync_server->handle_heads(); });
  sync_route("POST", events::SYNC_PATH_RECONCILE,
             [this](const Json& b) { return sync_server->handle_reconcile(b); });
  sync_route("POST", events::SYNC_PATH_FETCH,
             [this](const Json& b) { return sync_server->handle_fetch(b); });
  // Snapshot-assisted bootstrap (X02 §5.4): our newest snapshot, for a member told `pruned`.
  sync_route("GET", events::SYNC_PATH_SNAPSHOT,
             [this](const Json&) { return upkeep->serve_snapshot(); });
  // Pushed events (a round's, a joiner's, and new ones pushed at once: event_push.cpp) are
  // stored on the node's push queue and relayed; community.* events refresh the manifest
  // through the log subscription.
  server->add_route("POST", std::string(events::SYNC_PATH_EVENTS),
                    [this](transport::Request r, std::shared_ptr<transport::SseWriter>) {
                      return async_serve_push(std::move(r), PushRoute::events);
                    });
  server->add_route("POST", std::string(events::SYNC_PATH_PUSH),
                    [this](transport::Request r, std::shared_ptr<transport::SseWriter>) {
                      return async_serve_push(std::move(r), PushRoute::push);
                    });
}

void Node::Impl::add_self_route(const char* path, JsonJob fn) {
  server->add_route("POST", path,
                    [this, fn](transport::Request r, std::shared_ptr<transport::SseWriter>)
                        -> asio::awaitable<transport::Response> {
                      if (r.trust != TrustLevel::self) co_return not_self(r);
                      auto op = async_on(*admin_queue, fn, std::move(r.body));
                      Result<Json> result = co_await std::move(op);
                      if (!result) co_return transport::Response::error(result.error());
                      co_return transport::Response::json(std::move(*result));
                    });
}

transport::Response Node::Impl::not_self(const transport::Request& r) {
  return transport::Response::error(
      make_error(ErrorCode::unauthorized, r.path + " answers only this node itself"));
}

asio::awaitable<transport::Response> Node::Impl::async_local_json(transport::Request r,
                                                                  std::function<Json()> fn) {
  if (r.trust != TrustLevel::self) co_return not_self(r);
  auto op = async_on(
      *admin_queue, [fn = std::move(fn)](const Json&) -> Result<Json> { return fn(); }, Json());
  Result<Json> body = co_await std::move(op);
  if (!body) co_return transport::Response::error(body.error());
  co_return transport::Response::json(std::move(*body));
}

Result<Json> Node::Impl::create_invite(const Json& request) {
  HN_TRY_ASSIGN(std::string who, get_string(request, "invitee"));
  HN_TRY_ASSIGN(auto card, onboarding::parse_invitee(who));
  onboarding::InviteRequest ir;
  ir.invitee_node_id = card.node_id;
  ir.display_name = card.display_name;
  if (request.contains("display_name")) {  // community.invite@1.0 names it apart
    HN_TRY_ASSIGN(ir.display_name, get_string(request, "display_name"));
  }
  if (request.contains("level")) {
    HN_TRY_ASSIGN(std::string level, get_string(request, "level"));
    auto parsed = parse_trust_level(level);
    if (!parsed) return make_error(ErrorCode::bad_request, "unknown level '" + level + "'");
    ir.initial_level = *parsed;
  }
  if (request.contains("ttl_seconds")) {
    HN_TRY_ASSIGN(ir.ttl_seconds, get_int(request, "ttl_seconds"));
  }
  // Our own endpoint is the invitee's way in (M13 §3.1 bootstrap_endpoints).
  ir.bootstrap_endpoints.push_back(
      identity::Endpoint{"https", advertised, static_cast<int>(port.load())});
  std::optional<identity::CommunityManifest> cm;
  {
    std::lock_guard lock(community_mutex);
    cm = community_manifest;
  }
  if (!cm) return make_error(ErrorCode::not_found, "no community manifest");
  HN_TRY_ASSIGN(auto issued, onboarding::issue_invite(*keys, *cm, *log, ir, clock));
  return Json{{"invite", issued.text},
              {"invite_id", issued.invite.invite_id.str()},
              {"invitee", issued.invite.invitee_node_id.str()},
              {"expires_at", issued.invite.expires_at},
              {"reused", issued.reused}};
}

Result<Json> Node::Impl::change_log_level(const Json& request) {
  HN_TRY_ASSIGN(std::string name, get_string(request, "level"));
  auto level = observability::parse_log_level(name);
  if (!level) {
    return make_error(ErrorCode::bad_request,
                      "unknown log level '" + name + "' (debug, info, warning or error)");
  }
  const auto was = observability::current_log_level();
  observability::set_log_level(*level);
  detail::node_log().warning("log level changed",
                             Json{{"level", std::string(observability::to_string(*level))},
                                  {"was", std::string(observability::to_string(was))}});
  return Json{{"level", std::string(observability::to_string(*level))},
              {"was", std::string(observability::to_string(was))}};
}

Result<Json> Node::Impl::debug_emit(const Json& request) {
  HN_TRY_ASSIGN(std::int64_t count, get_int(request, "count"));
  if (count < 1 || count > 100000)
    return make_error(ErrorCode::bad_request, "count must be 1..100000");
  // node.manifest.updated is the one type of the 19 no view interprets beyond storing it;
  // each carries the spec's data (CONTRACT §7.2: {"manifest": <full node manifest>}).
  const Json data{{"manifest", manifest().to_json()}};
  for (std::int64_t i = 0; i < count; ++i) {
    HN_TRY(log->append_local(events::EventType::node_manifest_updated, data));
  }
  Json out{{"appended", count}};
  if (auto n = log->count()) out["events"] = *n;
  return out;
}

}  // namespace hn::node
