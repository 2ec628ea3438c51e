// bus_call.cpp — the call pipeline: route, trust, validate, admit, dispatch, fail over, record.
#include "bus/bus.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <future>

namespace hn::bus {
namespace {

Error cancelled_error() {
  return make_error(ErrorCode::timeout, "cancelled by the caller", Json{{"cancelled", true}});
}

// Failures that say the provider is unwell (M03 §5.7); anything else the provider answered
// (not_found, bad_request, …) shows it alive and counts as a success for health.
bool is_provider_fault(ErrorCode c) {
  return c == ErrorCode::timeout || c == ErrorCode::partition || c == ErrorCode::internal_error ||
         c == ErrorCode::not_implemented || c == ErrorCode::quarantined;
}

// Errors after which another provider may well succeed.
bool is_failover_error(ErrorCode c, bool idempotent) {
  switch (c) {
    case ErrorCode::partition:
    case ErrorCode::timeout:
    case ErrorCode::capacity_exceeded:
    case ErrorCode::rate_limited:
    case ErrorCode::quarantined:
    case ErrorCode::not_implemented:
      return true;
    case ErrorCode::internal_error:
      return idempotent;  // CONTRACT §9: retry internal_error for idempotent capabilities only
    default:
      return false;
  }
}

// Is this the caller-cancelled error we produce?
bool is_cancelled(const Error& e) {
  return e.code == ErrorCode::timeout && e.detail.is_object() && e.detail.value("cancelled", false);
}

void extract_tokens(const Json& j, CallOutcome& out) {
  if (!j.is_object()) return;
  const Json& m = j.contains("meta") && j["meta"].is_object() ? j["meta"] : j;
  if (auto it = m.find("tokens_in"); it != m.end() && it->is_number_integer()) {
    out.tokens_in = it->get<std::int64_t>();
  }
  if (auto it = m.find("tokens_out"); it != m.end() && it->is_number_integer()) {
    out.tokens_out = it->get<std::int64_t>();
  }
}

static_assert(BusConfig{}.trace_recent_capacity == TRACE_RECENT_CAPACITY);

std::int64_t json_size(const Json& j) { return static_cast<std::int64_t>(json_dump_size(j)); }

}  // namespace

// Shared between the bus and whoever produces frames (a local handler or the invoker's
// thread). The mutex serialises frames and lets the bus close the sink for good.
struct CapabilityBus::StreamState {
  std::mutex mutex;
  bool closed = false;
  bool delivered = false;
  std::optional<Error> frame_error;     // a producer bug (bad frame) — fails the call
  std::optional<Error> consumer_error;  // the consumer's sink said stop
  std::int64_t bytes = 0;
  const FrameSink* user = nullptr;
  CapabilityDescriptor descriptor;
  bool validate = false;
  const SchemaValidator* validator = nullptr;
  CancelToken caller_cancel;

  FrameSink make_sink(std::shared_ptr<StreamState> self) {
    return [self](StreamFrame f) -> Status {
      std::lock_guard lock(self->mutex);
      if (self->closed) return make_error(ErrorCode::timeout, "stream no longer read");
      if (self->caller_cancel.is_cancelled()) return cancelled_error();
      if (self->consumer_error) return *self->consumer_error;
      if (self->frame_error) return *self->frame_error;
      if (f.event.empty() || f.event == "done" || f.event == "error") {
        self->frame_error = make_error(ErrorCode::internal_error,
                                       "producer sent a terminal or unnamed frame mid-stream");
        return *self->frame_error;
      }
      if (self->validate && f.event != "progress") {
        if (auto s = self->validator->validate_stream_frame(self->descriptor, f.data); !s) {
          self->frame_error = make_error(ErrorCode::internal_error,
                                         "stream frame violates schema: " + s.error().message);
          return *self->frame_error;
        }
      }
      self->delivered = true;
      self->bytes += json_size(f.data) + static_cast<std::int64_t>(f.payload.size());
      Status s = (*self->user)(std::move(f));
      if (!s) self->consumer_error = s.error();
      return s;
    };
  }
};

// One call through the pipeline: what is left of its candidates and why earlier ones failed.
struct CapabilityBus::Dispatch {
  RouteRequest req;
  CallOptions options;
  FrameSink sink;  // empty for plain calls
  CallDone done;
  std::vector<CapabilityEntry> candidates;
  std::size_t next = 0;
  std::optional<Error> last_error;
  bool skipped_quarantined = false;
  bool skipped_full = false;
  bool streaming() const { return static_cast<bool>(sink); }
};

// One provider tried for a Dispatch. Completed exactly once (`completed`): by the work, or
// — for a call still queued or waiting on the network — by the caller's cancellation.
struct CapabilityBus::Attempt {
  std::shared_ptr<Dispatch> d;
  CapabilityEntry c;
  Admission admission = Admission::normal;
  std::chrono::steady_clock::time_point t0;
  std::shared_ptr<StreamState> state;  // streams
  FrameSink wrapped;                   // streams: the validating sink handed to the producer
  std::atomic<bool> completed{false};
  std::atomic<bool> started{false};    // a local handler began running
  std::uint64_t cancel_id = 0;
  std::uint64_t timer_id = 0;          // remote: the deadline
};

RouteRequest CapabilityBus::make_request(const CapabilityName& capability, Version version_req,
                                         Json body, const CallOptions& options, bool stream) {
  RouteRequest req;
  req.capability = capability;
  req.version_req = version_req;
  req.body = std::move(body);
  req.caller = options.caller.value_or(m_our_node_id);
  req.caller_trust = options.caller_trust;
  req.trace_id = options.trace_id.value_or(TraceId(m_ulids.next()));
  req.session_id = options.session_id;
  req.deadline_ms = options.deadline_ms.value_or(0);
  req.stream = stream;
  req.local_only = options.local_only;
  req.remote_only = options.remote_only;
  req.target_node = options.target_node;
  if (stream) {
    req.flow = options.flow;
    req.binary_frames = options.binary_frames;
  }
  return req;
}

void CapabilityBus::async_call(const CapabilityName& capability, Version version_req, Json body,
                               CallOptions options, CallDone done) {
  RouteRequest req = make_request(capability, version_req, std::move(body), options, false);
  dispatch(std::move(req), std::move(options), nullptr, std::move(done));
}

void CapabilityBus::async_stream(const CapabilityName& capability, Version version_req, Json body,
                                 FrameSink on_frame, CallOptions options, CallDone done) {
  RouteRequest req = make_request(capability, version_req, std::move(body), options, true);
  dispatch(std::move(req), std::move(options), std::move(on_frame), std::move(done));
}

void CapabilityBus::async_handle_call(RouteRequest req, CancelToken cancel, CallDone done) {
  req.local_only = true;
  req.stream = false;
  if (req.trace_id.empty()) req.trace_id = TraceId(m_ulids.next());
  CallOptions options;
  options.cancel = std::move(cancel);
  options.local_only = true;
  dispatch(std::move(req), std::move(options), nullptr, std::move(done));
}

void CapabilityBus::async_handle_stream(RouteRequest req, FrameSink on_frame, CancelToken cancel,
                                        CallDone done) {
  req.local_only = true;
  req.stream = true;
  if (req.trace_id.empty()) req.trace_id = TraceId(m_ulids.next());
  CallOptions options;
  options.cancel = std::move(cancel);
  options.local_only = true;
  dispatch(std::move(req), std::move(options), std::move(on_frame), std::move(done));
}

namespace {

// Runs an async member and waits for its completion (the blocking forms).
template <typename Start>
Result<Json> wait_for(Start start) {
  auto promise = std::make_shared<std::promise<Result<Json>>>();
  auto future = promise->get_future();
  start([promise](Result<Json> r) { promise->set_value(std::move(r)); });
  return future.get();
}

}  // namespace

Result<Json> CapabilityBus::call(const CapabilityName& capability, Version version_req,
                                 const Json& body, const CallOptions& options) {
  return wait_for([&](CallDone done) { async_call(capability, version_req, body, options, std::move(done)); });
}

Result<Json> CapabilityBus::stream(const CapabilityName& capability, Version version_req,
                                   const Json& body, const FrameSink& on_frame,
                                   const CallOptions& options) {
  return wait_for([&](CallDone done) {
    async_stream(capability, version_req, body, on_frame, options, std::move(done));
  });
}

Result<Json> CapabilityBus::handle_call(RouteRequest req, CancelToken cancel) {
  return wait_for([&](CallDone done) { async_handle_call(std::move(req), std::move(cancel), std::move(done)); });
}

Result<Json> CapabilityBus::handle_stream(RouteRequest req, const FrameSink& on_frame,
                                          CancelToken cancel) {
  return wait_for([&](CallDone done) {
    async_handle_stream(std::move(req), on_frame, std::move(cancel), std::move(done));
  });
}

void CapabilityBus::dispatch(RouteRequest req, CallOptions options, FrameSink sink, CallDone done) {
  auto d = std::make_shared<Dispatch>();
  d->req = std::move(req);
  d->options = std::move(options);
  d->sink = std::move(sink);
  d->done = std::move(done);
  if (d->options.cancel.is_cancelled()) return finish(d, cancelled_error(), true);

  // a. Route (sticky when a session id is given) — M03 §5.3 a/b.
  auto routed = d->req.session_id ? m_router.route_sticky(d->req, d->options.prefer_local)
                                  : m_router.route(d->req, d->options.prefer_local);
  if (!routed) return finish(d, routed.take_error(), true);
  d->candidates = std::move(routed).value();

  // c. Trust: the caller must meet the highest requirement any provider declares.
  TrustLevel required = TrustLevel::member;
  for (const auto& c : d->candidates) {
    if (c.schemas_known) required = std::max(required, c.descriptor.trust_required);
  }
  if (d->req.caller_trust < required) {
    return finish(d,
                  make_error(ErrorCode::unauthorized,
                             d->req.capability + " requires trust level " +
                                 std::string(to_string(required)) + ", caller has " +
                                 std::string(to_string(d->req.caller_trust))),
                  true);
  }

  // Deadline for the whole call, failovers included.
  if (d->req.deadline_ms == 0) {
    int seconds = RPC_DEFAULT_TIMEOUT_SECONDS;
    if (d->options.timeout_seconds) seconds = *d->options.timeout_seconds;
    else if (d->candidates.front().schemas_known) seconds = d->candidates.front().descriptor.timeout_seconds;
    d->req.deadline_ms = m_clock.now_ms() + static_cast<std::int64_t>(seconds) * 1000;
  }
  try_next(d);
}

// Tries candidates from d->next on until one is under way (its attempt completes the
// call or comes back here to fail over) or none is left.
void CapabilityBus::try_next(const std::shared_ptr<Dispatch>& d) {
  while (d->next < d->candidates.size()) {
    const CapabilityEntry& c = d->candidates[d->next++];
    if (d->options.cancel.is_cancelled()) return finish(d, cancelled_error(), true);
    if (m_clock.now_ms() >= d->req.deadline_ms) {
      if (!d->last_error) d->last_error = make_error(ErrorCode::timeout, "deadline passed before dispatch");
      break;
    }
    // d. Schema (M03 §3.4, CONTRACT §5.4: schema_mismatch carries schema_hash_expected).
    if (c.schemas_known) {
      if (auto s = m_schema.validate_request(c.descriptor, d->req.body); !s) {
        return finish(d, s.take_error(), true);
      }
    }
    const EntryKey key = c.key();
    const Admission admission = m_health.admit(key);
    if (admission == Admission::rejected) {
      d->skipped_quarantined = true;
      continue;
    }
    // e/f. max_concurrent slot.
    if (!m_registry.try_acquire(key)) {
      m_health.release(key, admission);
      d->skipped_full = true;
      continue;
    }
    auto a = std::make_shared<Attempt>();
    a->d = d;
    a->c = c;
    a->admission = admission;
    m_trace.on_call_start(d->req, c);
    a->t0 = std::chrono::steady_clock::now();
    if (d->streaming()) {
      a->state = std::make_shared<StreamState>();
      a->state->user = &d->sink;
      a->state->descriptor = c.descriptor;
      a->state->validate = c.schemas_known;
      a->state->validator = &m_schema;
      a->state->caller_cancel = d->options.cancel;
      a->wrapped = a->state->make_sink(a->state);
    }
    // h. Dispatch.
    if (c.is_local) start_local(a);
    else start_remote(a);
    return;
  }
  if (d->last_error) return finish(d, *d->last_error, false);
  if (d->skipped_full) {
    Error e = make_error(ErrorCode::capacity_exceeded, "every provider of " + d->req.capability + " is busy");
    e.retry_after_ms = 1000;
    return finish(d, std::move(e), true);
  }
  if (d->skipped_quarantined) {
    return finish(d,
                  make_error(ErrorCode::partition,
                             "every provider of " + d->req.capability + " is quarantined"),
                  true);
  }
  finish(d, make_error(ErrorCode::not_found, "no provider of " + d->req.capability), true);
}

void CapabilityBus::finish(const std::shared_ptr<Dispatch>& d, Result<Json> result, bool rejected) {
  if (rejected && !result) m_trace.on_call_rejected(d->req, result.error());
  CallDone done = std::move(d->done);
  d->done = nullptr;
  if (done) done(std::move(result));
}

void CapabilityBus::start_local(const std::shared_ptr<Attempt>& a) {
  const std::shared_ptr<Executor> executor = a->c.local ? a->c.local->executor : nullptr;
  auto job = [this, a] {
    if (a->completed.load()) return;  // cancelled while queued
    a->started = true;
    Result<Json> r = [&]() -> Result<Json> {
      if (a->d->options.cancel.is_cancelled()) return cancelled_error();
      if (m_clock.now_ms() >= a->d->req.deadline_ms) {
        return make_error(ErrorCode::timeout, "deadline passed while queued");
      }
      return run_handler(a->c, a->d->req, a->d->options.cancel, a->d->streaming() ? &a->wrapped : nullptr);
    }();
    complete_attempt(a, std::move(r));
  };
  if (!executor || executor->running_in_this_thread()) {
    job();
    return;
  }
  // A queued call that its caller cancels ends at once; the job then finds it completed.
  a->cancel_id = a->d->options.cancel.on_cancel([this, a] {
    if (!a->started.load()) complete_attempt(a, cancelled_error());
  });
  if (!executor->try_post(job)) {
    // The service's queue is full: like a taken max_concurrent slot, try the next provider.
    a->d->options.cancel.forget(a->cancel_id);
    if (a->completed.exchange(true)) return;
    m_registry.release(a->c.key());
    m_health.release(a->c.key(), a->admission);
    if (a->state) {
      std::lock_guard lock(a->state->mutex);
      a->state->closed = true;
    }
    CallOutcome outcome;
    outcome.result = std::string(to_string(ErrorCode::capacity_exceeded));
    outcome.bytes_in = json_size(a->d->req.body);
    m_trace.on_call_end(a->d->req, a->c, outcome);
    a->d->skipped_full = true;
    try_next(a->d);
  }
}

void CapabilityBus::start_remote(const std::shared_ptr<Attempt>& a) {
  auto inv = invoker();
  if (!inv || !a->c.endpoint) {
    return complete_attempt(a, make_error(ErrorCode::partition, "no remote invoker for " + a->c.node_id.str()));
  }
  const RouteRequest& req = a->d->req;
  RemoteCall rc;
  rc.node_id = a->c.node_id;
  rc.endpoint = *a->c.endpoint;
  rc.capability = req.capability;
  rc.version = req.version_req;
  rc.offered_version = a->c.descriptor.version;
  rc.body = req.body;
  rc.trace_id = req.trace_id;
  rc.caller = req.caller;
  rc.session_id = req.session_id;
  rc.deadline_ms = req.deadline_ms;
  rc.flow = req.flow;
  rc.binary_frames = req.binary_frames;
  CancelToken attempt = rc.cancel;  // shares the flag with the invoker's copy
  // The caller's cancellation stops the exchange and completes the call at once.
  a->cancel_id = a->d->options.cancel.on_cancel([this, a, attempt] {
    attempt.cancel();
    complete_attempt(a, cancelled_error());
  });
  // The deadline holds whatever the network does.
  const auto left_ms = std::max<std::int64_t>(req.deadline_ms - m_clock.now_ms(), 0);
  a->timer_id = m_timers.schedule(
      std::chrono::steady_clock::now() + std::chrono::milliseconds(left_ms), [this, a, attempt] {
        attempt.cancel();
        complete_attempt(a, make_error(ErrorCode::timeout,
                                       "no answer from " + a->c.node_id.str() + " before the deadline"));
      });
  CallDone done = [this, a](Result<Json> r) { complete_attempt(a, std::move(r)); };
  try {
    if (a->d->streaming()) inv->stream(std::move(rc), a->wrapped, std::move(done));
    else inv->call(std::move(rc), std::move(done));
  } catch (const std::exception& e) {
    complete_attempt(a, make_error(ErrorCode::partition, std::string("remote invoker failed: ") + e.what()));
  }
}

void CapabilityBus::complete_attempt(const std::shared_ptr<Attempt>& a, Result<Json> result) {
  if (a->completed.exchange(true)) return;
  const std::shared_ptr<Dispatch>& d = a->d;
  d->options.cancel.forget(a->cancel_id);
  if (a->timer_id != 0) m_timers.cancel(a->timer_id);
  const CapabilityEntry& c = a->c;
  const EntryKey key = c.key();
  bool delivered = false;
  std::int64_t bytes_out = 0;
  if (a->state) {
    std::lock_guard lock(a->state->mutex);
    a->state->closed = true;  // no frame reaches the caller after this point
    delivered = a->state->delivered;
    bytes_out = a->state->bytes;
    if (a->state->frame_error) result = *a->state->frame_error;
    else if (a->state->consumer_error) result = *a->state->consumer_error;
  }
  // i. Response schema (non-stream).
  if (result && c.schemas_known && (!d->streaming() || !c.descriptor.has_stream())) {
    if (auto s = m_schema.validate_response(c.descriptor, *result); !s) {
      result = make_error(ErrorCode::internal_error,
                          "provider response violates schema: " + s.error().message);
    }
  }
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a->t0).count();
  m_registry.release(key);  // k.

  // j. Health + trace.
  const bool consumer_stopped = a->state && a->state->consumer_error.has_value();
  const bool cancelled =
      !result && (d->options.cancel.is_cancelled() || consumer_stopped || is_cancelled(result.error()));
  CallOutcome outcome;
  outcome.latency_ms = ms;
  outcome.bytes_in = json_size(d->req.body);
  if (result) {
    m_health.record(key, true, ms, a->admission);
    outcome.result = "ok";
    outcome.bytes_out = d->streaming() ? bytes_out + json_size(*result) : json_size(*result);
    extract_tokens(*result, outcome);
  } else if (cancelled) {
    m_health.release(key, a->admission);
    outcome.result = "cancelled";
    outcome.bytes_out = bytes_out;
  } else {
    m_health.record(key, !is_provider_fault(result.error().code), ms, a->admission);
    outcome.result = std::string(to_string(result.error().code));
    outcome.bytes_out = bytes_out;
  }
  m_trace.on_call_end(d->req, c, outcome);

  if (result) {
    if (d->req.session_id) m_router.bind_session(*d->req.session_id, d->req.capability, key);
    return finish(d, std::move(result), false);
  }
  if (!cancelled && !delivered && is_failover_error(result.error().code, c.descriptor.idempotent)) {
    d->last_error = result.take_error();
    return try_next(d);
  }
  finish(d, std::move(result), false);
}

Result<Json> CapabilityBus::run_handler(const CapabilityEntry& c, const RouteRequest& req,
                                        const CancelToken& cancel, const FrameSink* sink) {
  if (!c.local) return make_error(ErrorCode::internal_error, "local entry without handlers");
  CallContext ctx{req, cancel, &m_clock};
  try {
    // CONTRACT §5.1: a capability that only answers plainly answers a stream request with
    // its response, which becomes the `done` frame's data.
    if (sink != nullptr && c.local->stream_handler) return c.local->stream_handler(ctx, req.body, *sink);
    if (!c.local->handler) {
      return make_error(ErrorCode::not_implemented, c.descriptor.name + " is stream-only");
    }
    return c.local->handler(ctx, req.body);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::internal_error, c.descriptor.name + " handler threw: " + e.what());
  } catch (...) {
    return make_error(ErrorCode::internal_error, c.descriptor.name + " handler threw");
  }
}
}  // namespace hn::bus
