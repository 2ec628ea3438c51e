// events.cpp — what the dashboard streams (server.h): GET /api/events, one SSE stream per
// page that carries the pubsub topics the UI shows (CONTRACT §8, M08 §8.2), the topology
// (M03 §3.7: this node, its peers, every capability) when it changes and each new call
// trace (M08 §3.2 animates them); and POST /api/call with "stream": true, the call's own
// frames. Both read from the node over its `self` routes (node_link.h); the browser only
// listens, it never polls.
#include <chrono>
#include <set>
#include <utility>  // before Asio 1.74's awaitable.hpp, which uses std::exchange

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "transport/envelope.h"
#include "ui/detail/server_impl.h"

namespace hn::ui::detail {
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view SSE_HEADER =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
    "X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n";
// A browser reading slower than this many queued bytes holds back the node's stream.
constexpr std::size_t STREAM_ROOM_BYTES = 1 << 20;
constexpr auto TOPOLOGY_PERIOD = 2s;  // M08 §8.1
constexpr auto TRACE_PERIOD = 1s;     // M08 §8.1
constexpr auto KEEPALIVE_PERIOD = 15s;
constexpr int PUBSUB_WAIT_SECONDS = 20;

std::string sse(std::string_view event, const Json& data) {
  std::string out = "event: ";
  out += event;
  out += "\ndata: ";
  out += data.dump();
  out += "\n\n";
  return out;
}

// The few fields of an X03 trace the topology animates: who called whom, for what.
Json trace_summary(const Json& t) {
  Json s{{"trace_id", t.value("trace_id", "")},
         {"capability", t.value("capability", "")},
         {"result", t.value("result", "")},
         {"duration_ms", t.value("duration_ms", Json())}};
  if (auto spans = t.find("spans"); spans != t.end() && spans->is_array()) {
    for (const auto& span : *spans) {
      auto extras = span.find("extras");
      if (extras == span.end() || !extras->is_object()) continue;
      s["from_node"] = extras->value("from_node", "");
      s["to_node"] = extras->value("to_node", "");
      break;
    }
  }
  return s;
}

}  // namespace

StreamOut::StreamOut(StreamPtr stream)
    : m_stream(std::move(stream)), m_signal(m_stream->get_executor()) {}

void StreamOut::push(std::string bytes) {
  if (m_failed) return;
  m_queued += bytes.size();
  m_queue.push_back(std::move(bytes));
  if (!m_writing) write_next();
}

void StreamOut::write_next() {
  m_writing = true;
  asio::async_write(m_stream->socket(), asio::buffer(m_queue.front()),
                    [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                      self->m_queued -= self->m_queue.front().size();
                      self->m_queue.pop_front();
                      self->m_writing = false;
                      if (ec) {
                        self->fail();
                      } else if (!self->m_queue.empty()) {
                        self->write_next();
                      }
                      self->notify();
                    });
}

void StreamOut::fail() {
  if (m_failed) return;
  m_failed = true;
  boost::system::error_code ec;
  m_stream->socket().close(ec);
  notify();
}

void StreamOut::notify() { m_signal.cancel(); }

void StreamOut::watch_close() {
  m_stream->socket().async_read_some(
      asio::buffer(m_sink),
      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
        if (ec) return self->fail();
        self->watch_close();
      });
}

asio::awaitable<void> StreamOut::async_wait_room(std::size_t limit) {
  auto self = shared_from_this();
  while (!m_failed && (m_queued > limit || (limit == 0 && m_writing))) {
    m_signal.expires_after(1s);
    boost::system::error_code ec;
    co_await m_signal.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> StreamOut::async_sleep(std::chrono::milliseconds ms) {
  auto self = shared_from_this();
  auto until = std::chrono::steady_clock::now() + ms;
  while (!m_failed && std::chrono::steady_clock::now() < until) {
    m_signal.expires_at(until);
    boost::system::error_code ec;
    co_await m_signal.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

void ServerImpl::wake_all() {
  for (auto& w : outs) {
    if (auto out = w.lock()) out->fail();
  }
  outs.clear();
}

bool ServerImpl::has_listeners() {
  listeners.remove_if([](const auto& w) {
    auto l = w.lock();
    return !l || l->failed();
  });
  return !stopping && !listeners.empty();
}

void ServerImpl::broadcast(const std::string& frame) {
  for (auto& w : listeners) {
    if (auto l = w.lock()) l->push(frame);
  }
}

namespace {

// Runs one hub loop under `name` while pages listen; a loop that is already running is
// not started twice.
void spawn_loop(const std::shared_ptr<ServerImpl>& impl, const std::string& name,
                asio::awaitable<void> (*body)(std::shared_ptr<ServerImpl>, std::string),
                std::string arg) {
  if (!impl->running_loops.insert(name).second) return;
  asio::co_spawn(
      impl->executor,
      [](std::shared_ptr<ServerImpl> impl, std::string name,
         asio::awaitable<void> (*body)(std::shared_ptr<ServerImpl>, std::string),
         std::string arg) -> asio::awaitable<void> {
        auto op = body(impl, std::move(arg));
        co_await std::move(op);
        impl->running_loops.erase(name);
      }(impl, name, body, std::move(arg)),
      asio::detached);
}

// Sleeps up to ms (the hub's own timer; stop wakes nobody, the loops notice at the end).
asio::awaitable<void> async_pause(std::shared_ptr<ServerImpl> impl, std::chrono::milliseconds ms) {
  asio::steady_timer t(impl->executor, ms);
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> async_topic_loop(std::shared_ptr<ServerImpl> impl, std::string topic) {
  std::int64_t last = 0;
  bool first = true;  // the first answer only tells where the topic stands now
  while (impl->has_listeners()) {
    Json q{{"topic", topic}, {"last_seq", last}, {"timeout", first ? 0 : PUBSUB_WAIT_SECONDS}};
    auto op = impl->link->async_request("GET", "/pubsub/v1/subscribe", std::move(q));
    auto r = co_await std::move(op);
    if (!impl->has_listeners()) break;
    if (!r || r->status != 200 || !r->body.is_object()) {
      co_await async_pause(impl, 5s);
      continue;
    }
    const Json& body = r->body;
    if (!first) {
      if (auto msgs = body.find("messages"); msgs != body.end() && msgs->is_array()) {
        for (const auto& m : *msgs) {
          impl->broadcast(sse("pubsub", Json{{"topic", topic},
                                             {"seq", m.value("seq", 0)},
                                             {"payload", m.value("payload", Json())}}));
        }
      }
    }
    last = body.value("last_seq", last);
    first = false;
  }
}

asio::awaitable<void> async_topology_loop(std::shared_ptr<ServerImpl> impl, std::string) {
  std::string previous;
  while (impl->has_listeners()) {
    auto status_op = impl->link->async_request("GET", "/node/v1/status", Json::object());
    auto status = co_await std::move(status_op);
    auto caps_op = impl->link->async_request("GET", "/node/v1/caps", Json::object());
    auto caps = co_await std::move(caps_op);
    if (!impl->has_listeners()) break;
    if (status && caps && status->status == 200 && caps->status == 200) {
      const Json& s = status->body;
      Json peers = Json::array();
      if (auto p = s.find("peers"); p != s.end() && p->is_object()) {
        peers = p->value("list", Json::array());
      }
      Json topology{{"node", s.value("node", Json::object())},
                    {"community", s.value("community", Json::object())},
                    {"online_state", s.value("online_state", Json::object())},
                    {"sync", s.value("sync", Json::object())},
                    {"event_log", s.value("event_log", Json::object())},
                    {"peers", peers},
                    {"capabilities", caps->body.value("capabilities", Json::array())}};
      // last_seen moves every beacon: compare without it, send with it.
      Json key = topology;
      for (auto& p : key["peers"]) {
        if (p.is_object()) p.erase("last_seen");
      }
      std::string digest = key.dump();
      if (digest != previous) {
        previous = std::move(digest);
        impl->last_topology = sse("topology", topology);
        impl->last_topology_json = topology.dump();
        impl->broadcast(impl->last_topology);
      }
    }
    co_await async_pause(impl, TOPOLOGY_PERIOD);
  }
}

asio::awaitable<void> async_trace_loop(std::shared_ptr<ServerImpl> impl, std::string) {
  std::set<std::string> seen;
  bool first = true;  // what happened before the page opened is not animated
  while (impl->has_listeners()) {
    auto op = impl->link->async_get_public("/trace/recent?n=50");
    auto r = co_await std::move(op);
    if (!impl->has_listeners()) break;
    if (r && r->status == 200 && r->body.is_object()) {
      Json traces = r->body.value("traces", Json::array());
      std::set<std::string> now;
      // Newest first in the ring: send oldest first.
      for (auto it = traces.rbegin(); it != traces.rend(); ++it) {
        if (!it->is_object()) continue;
        std::string id = it->value("trace_id", "");
        now.insert(id);
        if (!first && !seen.count(id)) impl->broadcast(sse("trace", trace_summary(*it)));
      }
      seen = std::move(now);
      first = false;
    }
    co_await async_pause(impl, TRACE_PERIOD);
  }
}

}  // namespace

void ServerImpl::start_hub_loops() {
  auto self = shared_from_this();
  const auto& keys = link->keys();
  // The topology first: the page shows the mesh (and which tabs work) from its first push.
  spawn_loop(self, "topology", &async_topology_loop, "");
  // CONTRACT §8: the topics a node's own UI reads (chat for us — M08 names the short id,
  // CONTRACT §8 the recipient: both forms —, posts, the local state).
  for (std::string topic :
       {"chat.message." + keys.short_id(), "chat.message." + keys.node_id().str(), std::string("marketplace.post.created"),
        std::string("marketplace.post.expired"), std::string("emergency.mode.changed"),
        std::string("node.manifest.updated"), std::string("community.member.added"),
        std::string("community.member.revoked")}) {
    spawn_loop(self, "topic:" + topic, &async_topic_loop, topic);
  }
  spawn_loop(self, "traces", &async_trace_loop, "");
}

asio::awaitable<void> ServerImpl::async_events(StreamPtr stream) {
  auto self = shared_from_this();
  auto out = std::make_shared<StreamOut>(stream);
  outs.remove_if([](const auto& w) { return w.expired(); });
  outs.push_back(out);
  out->watch_close();
  out->push(std::string(SSE_HEADER));
  const auto& keys = link->keys();
  out->push(sse("hello", Json{{"node_id", keys.node_id().str()}, {"short_id", keys.short_id()}}));
  if (!last_topology.empty()) out->push(last_topology);  // at once, not after a round trip
  listeners.push_back(out);
  start_hub_loops();
  while (!stopping && !out->failed()) {
    co_await out->async_sleep(KEEPALIVE_PERIOD);
    out->push(": keepalive\n\n");
  }
}

asio::awaitable<void> ServerImpl::async_stream_call(StreamPtr stream, CallRequest call) {
  auto self = shared_from_this();
  auto out = std::make_shared<StreamOut>(stream);
  outs.remove_if([](const auto& w) { return w.expired(); });
  outs.push_back(out);
  out->watch_close();
  out->push(std::string(SSE_HEADER));
  auto on_frame = [out](transport::Frame& f) {
    if (out->failed()) return false;  // the browser went away (or pressed stop): cancel
    out->push(sse(f.event, f.data));
    return true;
  };
  auto before_read = [out]() -> asio::awaitable<void> {
    co_await out->async_wait_room(STREAM_ROOM_BYTES);
  };
  auto done = co_await link->async_stream(call.capability, call.version, std::move(call.body),
                                          call.node, on_frame, before_read);
  if (done) {
    out->push(sse("done", done->data));
  } else {
    out->push(sse("error", transport::make_error_response(done.error()).body));
  }
  co_await out->async_wait_room(0);
}

}  // namespace hn::ui::detail
