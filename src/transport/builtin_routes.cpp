// builtin_routes.cpp — the routes every HearthNet server answers itself (X01): health,
// readiness, metrics, pub-sub publish/subscribe and the stream ack route.
#include <charconv>
#include <optional>
#include <string_view>

#include "transport/detail/server_impl.h"
#include "transport/topic_policy.h"

namespace hn::transport {

namespace {

std::optional<std::int64_t> parse_int(std::string_view s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Built-in routes

void Server::Impl::add_builtin_routes() {
  auto pub = [this](std::string path, Handler h) {
    routes[{"GET", std::move(path)}] = Route{std::move(h), RouteAuth::public_route, {}};
  };
  pub("/health", [this](Request, std::shared_ptr<SseWriter>) -> asio::awaitable<Response> {
    Json j{{"status", "ok"}};
    if (hooks.health) j.update(hooks.health());
    co_return Response::json(std::move(j));
  });
  pub("/ready", [this](Request, std::shared_ptr<SseWriter>) -> asio::awaitable<Response> {
    Json j = hooks.ready ? hooks.ready() : Json{{"ready", false}};
    bool ok = j.is_object() && j.value("ready", false);
    co_return Response::json(std::move(j), ok ? 200 : 503);
  });
  pub("/metrics", [this](Request, std::shared_ptr<SseWriter>) -> asio::awaitable<Response> {
    co_return Response::plain(hooks.metrics ? hooks.metrics() : std::string(),
                              "text/plain; version=0.0.4");
  });
  pub("/manifest", [this](Request, std::shared_ptr<SseWriter>) -> asio::awaitable<Response> {
    if (!hooks.manifest) co_return Response::error(make_error(ErrorCode::not_found, "no manifest"));
    co_return Response::json(hooks.manifest());
  });
  pub("/community/manifest",
      [this](Request, std::shared_ptr<SseWriter>) -> asio::awaitable<Response> {
        if (!hooks.community_manifest) {
          co_return Response::error(make_error(ErrorCode::not_found, "no community manifest"));
        }
        co_return Response::json(hooks.community_manifest());
      });
  pub("/trace/recent", [this](Request r, std::shared_ptr<SseWriter>) -> asio::awaitable<Response> {
    if (!hooks.trace_recent) co_return Response::json(Json::array());
    auto traces = hooks.trace_recent(r.query);
    if (!traces) co_return Response::error(traces.error());
    co_return Response::json(std::move(*traces));
  });

  // CONTRACT §8 long-poll: GET /pubsub/v1/subscribe?topic=&last_seq=&timeout=
  routes[{"GET", std::string(PUBSUB_SUBSCRIBE_PATH)}] = Route{
      [this](Request r, std::shared_ptr<SseWriter>) -> asio::awaitable<Response> {
        std::string topic = r.query.count("topic") ? r.query["topic"] : "";
        if (!is_valid_topic(topic)) {
          co_return Response::error(make_error(ErrorCode::bad_request, "bad or missing topic"));
        }
        std::int64_t last_seq = 0;
        std::int64_t timeout_s = 30;
        if (r.query.count("last_seq")) {
          auto v = parse_int(r.query["last_seq"]);
          if (!v || *v < 0) co_return Response::error(make_error(ErrorCode::bad_request, "bad last_seq"));
          last_seq = *v;
        }
        if (r.query.count("timeout")) {
          auto v = parse_int(r.query["timeout"]);
          if (!v || *v < 0) co_return Response::error(make_error(ErrorCode::bad_request, "bad timeout"));
          timeout_s = std::min<std::int64_t>(*v, opts.pubsub_max_timeout_seconds);
        }
        Status allowed = hooks.topic_authorizer ? hooks.topic_authorizer(r.caller, r.trust, topic)
                                                : authorize_subscription(r.caller, r.trust, topic);
        if (!allowed) co_return Response::error(allowed.error());
        Json j = co_await pubsub.async_subscribe(topic, last_seq,
                                                 std::chrono::milliseconds(timeout_s * 1000));
        co_return Response::json(std::move(j));
      },
      RouteAuth::signed_request, {}};

  // Stream acks travel here (X01 §6.3 side channel): {"stream_id", "seq"}.
  routes[{"POST", std::string(STREAM_ACK_PATH)}] = Route{
      [this](Request r, std::shared_ptr<SseWriter>) -> asio::awaitable<Response> {
        auto id = get_string(r.body, "stream_id");
        auto seq = get_int(r.body, "seq");
        if (!id || !seq) co_return Response::error(make_error(ErrorCode::bad_request, "ack needs stream_id and seq"));
        auto it = streams.find(r.caller.str() + '\n' + *id);
        std::shared_ptr<StreamWriter> w = it == streams.end() ? nullptr : it->second.lock();
        if (!w) co_return Response::error(make_error(ErrorCode::not_found, "no such stream"));
        Status st = w->on_ack(*seq);
        if (!st) co_return Response::error(st.error());
        co_return Response::json(Json{{"stream_id", *id}, {"acked", *seq}});
      },
      RouteAuth::signed_request, {}};
}

}  // namespace hn::transport
