// standard_metrics.h — the standard metric set of X03 §4.2 (plus hearthnet_quarantines_total
// from IMPLEMENTATION_REFERENCE §2), registered under the spec's exact names, types and
// label names. Modules update them through the handles in StandardMetrics.
//
// Thread-safety: register_standard_metrics is idempotent and safe to call concurrently
// (get-or-create); the handles are thread-safe metric families.
#pragma once

#include "observability/metrics.h"

namespace hn::observability {

struct StandardMetrics {
  Counter* requests_total;                    // {capability, result}
  Histogram* request_duration_ms;             // {capability} (quantiles via le buckets)
  Gauge* active_streams;                      // {capability}
  Gauge* nodes_online;                        // {community}
  Gauge* event_log_size;                      // {community}
  Gauge* event_log_lamport_head;              // {community}
  Gauge* emergency_mode;                      // {state}, 0 or 1
  Gauge* blob_storage_bytes;                  // no labels
  Counter* llm_tokens_generated_total;        // {model, backend}
  Gauge* llm_concurrent;                      // {model}
  Gauge* capability_health_success_rate;      // {capability, node}
  Counter* rate_limited_total;                // {capability, reason}
  Counter* signature_failures_total;          // {reason}
  Counter* quarantines_total;                 // no labels
};

// Registers (or finds) the 14 standard metrics in registry.
StandardMetrics register_standard_metrics(MetricsRegistry& registry);
// The standard metrics of default_registry(), registered on first use.
const StandardMetrics& standard_metrics();

}  // namespace hn::observability
