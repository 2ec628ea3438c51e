// metrics.h — Prometheus-compatible metrics (X03 §4): counters, gauges and histograms with
// labels, held in a MetricsRegistry and rendered in the text exposition format 0.0.4 for
// GET /metrics (X03 §4.3).
//
// Thread-safety: everything here is safe for concurrent use. Metric handles (Counter&,
// Gauge&, Histogram&) returned by a registry stay valid for the registry's lifetime.
// Invariants: a family's label names are fixed at registration; an update with the wrong
// number of label values is a programming bug (asserted; ignored in release builds).
// Rendering is deterministic: families in registration order, series sorted by label values.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace hn::observability {

using LabelValues = std::vector<std::string>;

enum class MetricType { counter, gauge, histogram };
std::string_view to_string(MetricType type);

// Plain options (mapped from ObservabilityConfig.metrics_enabled, X04 §3).
struct MetricsOptions {
  bool enabled = true;
};

// Common part of every metric family: name, help, label names, the enabled switch.
class MetricFamily {
 public:
  MetricFamily(std::string name, std::string help, std::vector<std::string> label_names,
               const std::atomic<bool>* enabled);
  virtual ~MetricFamily() = default;
  MetricFamily(const MetricFamily&) = delete;
  MetricFamily& operator=(const MetricFamily&) = delete;

  const std::string& name() const { return m_name; }
  const std::string& help() const { return m_help; }
  const std::vector<std::string>& label_names() const { return m_label_names; }
  virtual MetricType type() const = 0;
  // Appends this family's HELP, TYPE and sample lines in text format 0.0.4.
  virtual void render(std::string& out) const = 0;

 protected:
  bool accepts(const LabelValues& values) const;
  // `name{a="x",b="y"}` (or `name` without labels); extra appends one more label (le).
  std::string series(std::string_view metric_name, const LabelValues& values,
                     std::string_view extra_label = {}, std::string_view extra_value = {}) const;
  void render_header(std::string& out) const;

  std::string m_name;
  std::string m_help;
  std::vector<std::string> m_label_names;
  const std::atomic<bool>* m_enabled;
  mutable std::mutex m_mutex;
};

// A monotonically increasing count (X03 §4.1 counter()).
class Counter final : public MetricFamily {
 public:
  using MetricFamily::MetricFamily;
  MetricType type() const override { return MetricType::counter; }
  // Adds amount (negative amounts are ignored: counters only go up).
  void inc(const LabelValues& labels = {}, double amount = 1.0);
  double value(const LabelValues& labels = {}) const;
  void render(std::string& out) const override;

 private:
  std::map<LabelValues, double> m_values;
};

// A value that goes up and down (X03 §4.1 gauge()).
class Gauge final : public MetricFamily {
 public:
  using MetricFamily::MetricFamily;
  MetricType type() const override { return MetricType::gauge; }
  void set(double value, const LabelValues& labels = {});
  void inc(const LabelValues& labels = {}, double amount = 1.0);
  void dec(const LabelValues& labels = {}, double amount = 1.0);
  double value(const LabelValues& labels = {}) const;
  void render(std::string& out) const override;

 private:
  std::map<LabelValues, double> m_values;
};

// Observations counted into cumulative buckets (X03 §4.1 histogram()).
class Histogram final : public MetricFamily {
 public:
  // buckets: upper bounds, sorted ascending and de-duplicated here; +Inf is implicit.
  Histogram(std::string name, std::string help, std::vector<std::string> label_names,
            std::vector<double> buckets, const std::atomic<bool>* enabled);
  MetricType type() const override { return MetricType::histogram; }
  void observe(double value, const LabelValues& labels = {});
  const std::vector<double>& buckets() const { return m_buckets; }
  std::uint64_t count(const LabelValues& labels = {}) const;
  double sum(const LabelValues& labels = {}) const;
  void render(std::string& out) const override;

 private:
  struct Series {
    std::vector<std::uint64_t> bucket_counts;  // per bucket, non-cumulative
    std::uint64_t count = 0;
    double sum = 0;
  };
  std::vector<double> m_buckets;
  std::map<LabelValues, Series> m_series;
};

// Prometheus' default buckets (seconds scale).
const std::vector<double>& default_buckets();
// Buckets for millisecond latencies (hearthnet_request_duration_ms).
const std::vector<double>& latency_ms_buckets();

class MetricsRegistry {
 public:
  explicit MetricsRegistry(const MetricsOptions& options = {});
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Get-or-create. Re-registering a name with the same type and labels returns the
  // existing family; a clash (other type or labels) is a programming bug: asserted, and
  // in release builds a detached family that is never rendered is returned.
  Counter& counter(std::string_view name, std::string_view help,
                   const std::vector<std::string>& label_names = {});
  Gauge& gauge(std::string_view name, std::string_view help,
               const std::vector<std::string>& label_names = {});
  Histogram& histogram(std::string_view name, std::string_view help,
                       const std::vector<std::string>& label_names = {},
                       const std::vector<double>& buckets = default_buckets());

  // The family registered under name, or null.
  const MetricFamily* find(std::string_view name) const;
  std::vector<std::string> names() const;

  // Text exposition format 0.0.4; empty when disabled.
  std::string render_prometheus() const;

  // X03 §4.1 disabled(): when disabled, updates are dropped and rendering is empty.
  void set_enabled(bool enabled) { m_enabled.store(enabled); }
  bool enabled() const { return m_enabled.load(); }

 private:
  template <typename T, typename... Extra>
  T& get_or_create(std::string_view name, std::string_view help,
                   const std::vector<std::string>& label_names, Extra&&... extra);

  std::atomic<bool> m_enabled;
  mutable std::mutex m_mutex;
  std::vector<std::unique_ptr<MetricFamily>> m_families;  // registration order
  std::vector<std::unique_ptr<MetricFamily>> m_detached;  // clashes; never rendered
};

// The process-wide registry (GET /metrics renders it).
MetricsRegistry& default_registry();
// Applies options to the default registry (X03 §4.1 configure()).
void configure_metrics(const MetricsOptions& options);
// X03 §4.1 disabled(): whether the default registry is off.
bool metrics_disabled();

// Content-Type of the exposition format.
inline constexpr std::string_view PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

// Text-format helpers (exposed for tests): a sample value ("1", "0.25", "+Inf", "NaN"),
// and the escaping rules for label values (\\, \", \n) and HELP text (\\, \n).
std::string format_metric_value(double value);
std::string escape_label_value(std::string_view value);
std::string escape_help(std::string_view help);

}  // namespace hn::observability
