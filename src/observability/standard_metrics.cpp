// standard_metrics.cpp — X03 §4.2 standard metric set.
#include "observability/standard_metrics.h"

namespace hn::observability {

StandardMetrics register_standard_metrics(MetricsRegistry& r) {
  StandardMetrics m{};
  m.requests_total = &r.counter("hearthnet_requests_total",
                                "Capability requests handled, by capability and result.",
                                {"capability", "result"});
  // X03 §4.2 lists a `quantile` label here. A Prometheus histogram carries quantiles in its
  // `le` buckets (histogram_quantile() derives p50/p99), so the label is dropped: a
  // `quantile` label on a histogram would make every observation pick a meaningless value.
  m.request_duration_ms = &r.histogram("hearthnet_request_duration_ms",
                                       "Capability request duration in milliseconds.",
                                       {"capability"}, latency_ms_buckets());
  m.active_streams = &r.gauge("hearthnet_active_streams",
                              "Streams currently open, by capability.", {"capability"});
  m.nodes_online = &r.gauge("hearthnet_nodes_online",
                            "Nodes currently online, by community.", {"community"});
  m.event_log_size = &r.gauge("hearthnet_event_log_size",
                              "Events in the local event log, by community.", {"community"});
  m.event_log_lamport_head = &r.gauge("hearthnet_event_log_lamport_head",
                                      "Highest Lamport timestamp in the event log, by community.",
                                      {"community"});
  m.emergency_mode = &r.gauge("hearthnet_emergency_mode",
                              "Emergency state: 1 for the current state, 0 otherwise.", {"state"});
  m.blob_storage_bytes = &r.gauge("hearthnet_blob_storage_bytes",
                                  "Bytes used by the local blob store.");
  m.llm_tokens_generated_total = &r.counter("hearthnet_llm_tokens_generated_total",
                                            "LLM tokens generated, by model and backend.",
                                            {"model", "backend"});
  m.llm_concurrent = &r.gauge("hearthnet_llm_concurrent",
                              "LLM generations currently running, by model.", {"model"});
  m.capability_health_success_rate =
      &r.gauge("hearthnet_capability_health_success_rate",
               "Success rate over the health window, by capability and node.",
               {"capability", "node"});
  m.rate_limited_total = &r.counter("hearthnet_rate_limited_total",
                                    "Requests rejected by rate limiting, by capability and reason.",
                                    {"capability", "reason"});
  m.signature_failures_total = &r.counter("hearthnet_signature_failures_total",
                                          "Signature verifications that failed, by reason.",
                                          {"reason"});
  m.quarantines_total = &r.counter("hearthnet_quarantines_total",
                                   "Capability quarantines entered.");
  return m;
}

const StandardMetrics& standard_metrics() {
  static const StandardMetrics m = register_standard_metrics(default_registry());
  return m;
}

}  // namespace hn::observability
