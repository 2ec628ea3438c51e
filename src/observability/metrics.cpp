// metrics.cpp — metric families and the Prometheus text exposition format 0.0.4 (X03 §4).
#include "observability/metrics.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "core/json.h"

namespace hn::observability {

namespace {

[[maybe_unused]] bool is_valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool digit = c >= '0' && c <= '9';
    if (!(alpha || (i > 0 && digit))) return false;
  }
  return true;
}

[[maybe_unused]] bool is_valid_label_name(std::string_view name) {
  return is_valid_metric_name(name) && name.find(':') == std::string_view::npos &&
         name.rfind("__", 0) != 0;
}

}  // namespace

std::string_view to_string(MetricType type) {
  switch (type) {
    case MetricType::counter: return "counter";
    case MetricType::gauge: return "gauge";
    case MetricType::histogram: return "histogram";
  }
  return "untyped";
}

std::string format_metric_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return format_es6_number(value);
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

// ---- MetricFamily -----------------------------------------------------------------------

MetricFamily::MetricFamily(std::string name, std::string help,
                           std::vector<std::string> label_names,
                           const std::atomic<bool>* enabled)
    : m_name(std::move(name)),
      m_help(std::move(help)),
      m_label_names(std::move(label_names)),
      m_enabled(enabled) {
  assert(is_valid_metric_name(m_name));
  for ([[maybe_unused]] const auto& l : m_label_names) assert(is_valid_label_name(l));
}

bool MetricFamily::accepts(const LabelValues& values) const {
  if (values.size() != m_label_names.size()) {
    assert(false && "wrong number of label values");
    return false;
  }
  return m_enabled == nullptr || m_enabled->load(std::memory_order_relaxed);
}

std::string MetricFamily::series(std::string_view metric_name, const LabelValues& values,
                                 std::string_view extra_label,
                                 std::string_view extra_value) const {
  std::string out(metric_name);
  if (values.empty() && extra_label.empty()) return out;
  out += '{';
  bool first = true;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!first) out += ',';
    first = false;
    out += m_label_names[i];
    out += "=\"";
    out += escape_label_value(values[i]);
    out += '"';
  }
  if (!extra_label.empty()) {
    if (!first) out += ',';
    out += extra_label;
    out += "=\"";
    out += escape_label_value(extra_value);
    out += '"';
  }
  out += '}';
  return out;
}

void MetricFamily::render_header(std::string& out) const {
  out += "# HELP ";
  out += m_name;
  out += ' ';
  out += escape_help(m_help);
  out += "\n# TYPE ";
  out += m_name;
  out += ' ';
  out += to_string(type());
  out += '\n';
}

// ---- Counter ----------------------------------------------------------------------------

void Counter::inc(const LabelValues& labels, double amount) {
  if (!accepts(labels) || !(amount >= 0)) return;
  std::lock_guard lock(m_mutex);
  m_values[labels] += amount;
}

double Counter::value(const LabelValues& labels) const {
  std::lock_guard lock(m_mutex);
  auto it = m_values.find(labels);
  return it == m_values.end() ? 0.0 : it->second;
}

void Counter::render(std::string& out) const {
  render_header(out);
  std::lock_guard lock(m_mutex);
  if (m_values.empty() && m_label_names.empty()) {
    out += m_name + " 0\n";
    return;
  }
  for (const auto& [labels, v] : m_values) {
    out += series(m_name, labels) + ' ' + format_metric_value(v) + '\n';
  }
}

// ---- Gauge ------------------------------------------------------------------------------

void Gauge::set(double value, const LabelValues& labels) {
  if (!accepts(labels)) return;
  std::lock_guard lock(m_mutex);
  m_values[labels] = value;
}

void Gauge::inc(const LabelValues& labels, double amount) {
  if (!accepts(labels)) return;
  std::lock_guard lock(m_mutex);
  m_values[labels] += amount;
}

void Gauge::dec(const LabelValues& labels, double amount) { inc(labels, -amount); }

double Gauge::value(const LabelValues& labels) const {
  std::lock_guard lock(m_mutex);
  auto it = m_values.find(labels);
  return it == m_values.end() ? 0.0 : it->second;
}

void Gauge::render(std::string& out) const {
  render_header(out);
  std::lock_guard lock(m_mutex);
  if (m_values.empty() && m_label_names.empty()) {
    out += m_name + " 0\n";
    return;
  }
  for (const auto& [labels, v] : m_values) {
    out += series(m_name, labels) + ' ' + format_metric_value(v) + '\n';
  }
}

// ---- Histogram --------------------------------------------------------------------------

Histogram::Histogram(std::string name, std::string help, std::vector<std::string> label_names,
                     std::vector<double> buckets, const std::atomic<bool>* enabled)
    : MetricFamily(std::move(name), std::move(help), std::move(label_names), enabled),
      m_buckets(std::move(buckets)) {
  for ([[maybe_unused]] const auto& l : m_label_names) assert(l != "le");
  m_buckets.erase(std::remove_if(m_buckets.begin(), m_buckets.end(),
                                 [](double b) { return std::isnan(b) || std::isinf(b); }),
                  m_buckets.end());
  std::sort(m_buckets.begin(), m_buckets.end());
  m_buckets.erase(std::unique(m_buckets.begin(), m_buckets.end()), m_buckets.end());
}

void Histogram::observe(double value, const LabelValues& labels) {
  if (!accepts(labels) || std::isnan(value)) return;
  std::lock_guard lock(m_mutex);
  Series& s = m_series[labels];
  if (s.bucket_counts.empty()) s.bucket_counts.assign(m_buckets.size(), 0);
  auto it = std::lower_bound(m_buckets.begin(), m_buckets.end(), value);  // first bound >= v
  if (it != m_buckets.end()) ++s.bucket_counts[static_cast<std::size_t>(it - m_buckets.begin())];
  ++s.count;
  s.sum += value;
}

std::uint64_t Histogram::count(const LabelValues& labels) const {
  std::lock_guard lock(m_mutex);
  auto it = m_series.find(labels);
  return it == m_series.end() ? 0 : it->second.count;
}

double Histogram::sum(const LabelValues& labels) const {
  std::lock_guard lock(m_mutex);
  auto it = m_series.find(labels);
  return it == m_series.end() ? 0.0 : it->second.sum;
}

void Histogram::render(std::string& out) const {
  render_header(out);
  std::lock_guard lock(m_mutex);
  auto render_series = [&](const LabelValues& labels, const Series* s) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < m_buckets.size(); ++i) {
      if (s) cumulative += s->bucket_counts[i];
      out += series(m_name + "_bucket", labels, "le", format_metric_value(m_buckets[i]));
      out += ' ' + std::to_string(cumulative) + '\n';
    }
    const std::uint64_t count = s ? s->count : 0;
    out += series(m_name + "_bucket", labels, "le", "+Inf") + ' ' + std::to_string(count) + '\n';
    out += series(m_name + "_sum", labels) + ' ' + format_metric_value(s ? s->sum : 0.0) + '\n';
    out += series(m_name + "_count", labels) + ' ' + std::to_string(count) + '\n';
  };
  if (m_series.empty() && m_label_names.empty()) {
    render_series({}, nullptr);
    return;
  }
  for (const auto& [labels, s] : m_series) render_series(labels, &s);
}

const std::vector<double>& default_buckets() {
  static const std::vector<double> b = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                        0.5,   1,    2.5,   5,    10};
  return b;
}

const std::vector<double>& latency_ms_buckets() {
  static const std::vector<double> b = {1,   2.5,  5,    10,   25,    50,    100,   250,
                                        500, 1000, 2500, 5000, 10000, 30000, 60000, 120000};
  return b;
}

// ---- MetricsRegistry --------------------------------------------------------------------

MetricsRegistry::MetricsRegistry(const MetricsOptions& options) : m_enabled(options.enabled) {}

template <typename T, typename... Extra>
T& MetricsRegistry::get_or_create(std::string_view name, std::string_view help,
                                  const std::vector<std::string>& label_names,
                                  Extra&&... extra) {
  std::lock_guard lock(m_mutex);
  for (auto& family : m_families) {
    if (family->name() != name) continue;
    auto* existing = dynamic_cast<T*>(family.get());
    if (existing && existing->label_names() == label_names) return *existing;
    assert(false && "metric registered twice with another type or labels");
    auto detached = std::make_unique<T>(std::string(name), std::string(help), label_names,
                                        std::forward<Extra>(extra)..., &m_enabled);
    T& ref = *detached;
    m_detached.push_back(std::move(detached));
    return ref;
  }
  auto created = std::make_unique<T>(std::string(name), std::string(help), label_names,
                                     std::forward<Extra>(extra)..., &m_enabled);
  T& ref = *created;
  m_families.push_back(std::move(created));
  return ref;
}

Counter& MetricsRegistry::counter(std::string_view name, std::string_view help,
                                  const std::vector<std::string>& label_names) {
  return get_or_create<Counter>(name, help, label_names);
}

Gauge& MetricsRegistry::gauge(std::string_view name, std::string_view help,
                              const std::vector<std::string>& label_names) {
  return get_or_create<Gauge>(name, help, label_names);
}

Histogram& MetricsRegistry::histogram(std::string_view name, std::string_view help,
                                      const std::vector<std::string>& label_names,
                                      const std::vector<double>& buckets) {
  return get_or_create<Histogram>(name, help, label_names, std::vector<double>(buckets));
}

const MetricFamily* MetricsRegistry::find(std::string_view name) const {
  std::lock_guard lock(m_mutex);
  for (const auto& family : m_families) {
    if (family->name() == name) return family.get();
  }
  return nullptr;
}

std::vector<std::string> MetricsRegistry::names() const {
  std::lock_guard lock(m_mutex);
  std::vector<std::string> out;
  out.reserve(m_families.size());
  for (const auto& family : m_families) out.push_back(family->name());
  return out;
}

std::string MetricsRegistry::render_prometheus() const {
  if (!enabled()) return {};
  std::string out;
  std::lock_guard lock(m_mutex);
  for (const auto& family : m_families) family->render(out);
  return out;
}

MetricsRegistry& default_registry() {
  static MetricsRegistry registry;
  return registry;
}

void configure_metrics(const MetricsOptions& options) {
  default_registry().set_enabled(options.enabled);
}

bool metrics_disabled() { return !default_registry().enabled(); }

}  // namespace hn::observability
