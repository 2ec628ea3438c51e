// metrics_test.cpp — X03 §4: registry, Prometheus text format 0.0.4, standard metric set.
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "observability/metrics.h"
#include "observability/standard_metrics.h"

namespace hn::observability {
namespace {

TEST(Metrics, RendersCounterGaugeHistogramByteExact) {
  MetricsRegistry r;
  auto& c = r.counter("http_requests_total", "Requests.\nSecond line \\ backslash",
                      {"method", "code"});
  c.inc({"post", "200"}, 1027);
  c.inc({"get", "400"});
  c.inc({"get", "400"}, 2);
  auto& g = r.gauge("temperature", "Temperature.");
  g.set(-1.5);
  auto& h = r.histogram("latency", "Latency.", {}, {2.5, 0.25, 1});
  for (double v : {0.25, 0.5, 0.125, 3.0}) h.observe(v);

  const std::string expected =
      "# HELP http_requests_total Requests.\\nSecond line \\\\ backslash\n"
      "# TYPE http_requests_total counter\n"
      "http_requests_total{method=\"get\",code=\"400\"} 3\n"
      "http_requests_total{method=\"post\",code=\"200\"} 1027\n"
      "# HELP temperature Temperature.\n"
      "# TYPE temperature gauge\n"
      "temperature -1.5\n"
      "# HELP latency Latency.\n"
      "# TYPE latency histogram\n"
      "latency_bucket{le=\"0.25\"} 2\n"
      "latency_bucket{le=\"1\"} 3\n"
      "latency_bucket{le=\"2.5\"} 3\n"
      "latency_bucket{le=\"+Inf\"} 4\n"
      "latency_sum 3.875\n"
      "latency_count 4\n";
  EXPECT_EQ(r.render_prometheus(), expected);
  EXPECT_EQ(c.value({"get", "400"}), 3);
  EXPECT_EQ(h.count(), 4u);
  EXPECT_EQ(h.sum(), 3.875);
}

TEST(Metrics, LabelledHistogramAndUntouchedFamilies) {
  MetricsRegistry r;
  r.counter("a_total", "A.", {"x"});  // labelled, no series yet: header only
  r.counter("b_total", "B.");         // unlabelled: a zero sample
  auto& h = r.histogram("d_ms", "D.", {"capability"}, {10});
  h.observe(3, {"llm.chat"});
  h.observe(30, {"llm.chat"});
  const std::string expected =
      "# HELP a_total A.\n# TYPE a_total counter\n"
      "# HELP b_total B.\n# TYPE b_total counter\nb_total 0\n"
      "# HELP d_ms D.\n# TYPE d_ms histogram\n"
      "d_ms_bucket{capability=\"llm.chat\",le=\"10\"} 1\n"
      "d_ms_bucket{capability=\"llm.chat\",le=\"+Inf\"} 2\n"
      "d_ms_sum{capability=\"llm.chat\"} 33\n"
      "d_ms_count{capability=\"llm.chat\"} 2\n";
  EXPECT_EQ(r.render_prometheus(), expected);
}

TEST(Metrics, EscapesLabelValues) {
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(escape_help("a\"b\\c\nd"), "a\"b\\\\c\\nd");
  MetricsRegistry r;
  r.gauge("g", "G.", {"path"}).set(1, {"C:\\dir\n\"x\""});
  EXPECT_EQ(r.render_prometheus(),
            "# HELP g G.\n# TYPE g gauge\ng{path=\"C:\\\\dir\\n\\\"x\\\"\"} 1\n");
}

TEST(Metrics, FormatsValues) {
  EXPECT_EQ(format_metric_value(0), "0");
  EXPECT_EQ(format_metric_value(42), "42");
  EXPECT_EQ(format_metric_value(0.005), "0.005");
  EXPECT_EQ(format_metric_value(1e21), "1e+21");
  EXPECT_EQ(format_metric_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_metric_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_metric_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(Metrics, GaugeMovesBothWaysCounterOnlyUp) {
  MetricsRegistry r;
  auto& g = r.gauge("streams", "S.", {"capability"});
  g.inc({"llm.chat"});
  g.inc({"llm.chat"}, 2);
  g.dec({"llm.chat"});
  EXPECT_EQ(g.value({"llm.chat"}), 2);
  auto& c = r.counter("c_total", "C.");
  c.inc({}, -5);
  EXPECT_EQ(c.value(), 0);
}

TEST(Metrics, ReRegistrationReturnsSameFamily) {
  MetricsRegistry r;
  auto& a = r.counter("x_total", "X.", {"k"});
  auto& b = r.counter("x_total", "X.", {"k"});
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(r.names(), std::vector<std::string>{"x_total"});
  ASSERT_NE(r.find("x_total"), nullptr);
  EXPECT_EQ(r.find("x_total")->type(), MetricType::counter);
  EXPECT_EQ(r.find("nope"), nullptr);
}

TEST(Metrics, DisabledRegistryDropsUpdatesAndRendersNothing) {
  MetricsRegistry r(MetricsOptions{false});
  auto& c = r.counter("c_total", "C.");
  c.inc();
  EXPECT_EQ(c.value(), 0);
  EXPECT_EQ(r.render_prometheus(), "");
  r.set_enabled(true);
  c.inc();
  EXPECT_EQ(c.value(), 1);
  EXPECT_NE(r.render_prometheus(), "");
}

TEST(Metrics, ConcurrentIncrementsAreNotLost) {
  MetricsRegistry r;
  auto& c = r.counter("c_total", "C.", {"t"});
  auto& h = r.histogram("h", "H.", {}, {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) {
        c.inc({"x"});
        h.observe(0.5);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value({"x"}), 20000);
  EXPECT_EQ(h.count(), 20000u);
}

struct Expected {
  const char* name;
  MetricType type;
  std::vector<std::string> labels;
};

TEST(StandardMetrics, AllFourteenRegisteredWithSpecNamesTypesAndLabels) {
  MetricsRegistry r;
  const StandardMetrics m = register_standard_metrics(r);
  const std::vector<Expected> expected = {
      {"hearthnet_requests_total", MetricType::counter, {"capability", "result"}},
      {"hearthnet_request_duration_ms", MetricType::histogram, {"capability"}},
      {"hearthnet_active_streams", MetricType::gauge, {"capability"}},
      {"hearthnet_nodes_online", MetricType::gauge, {"community"}},
      {"hearthnet_event_log_size", MetricType::gauge, {"community"}},
      {"hearthnet_event_log_lamport_head", MetricType::gauge, {"community"}},
      {"hearthnet_emergency_mode", MetricType::gauge, {"state"}},
      {"hearthnet_blob_storage_bytes", MetricType::gauge, {}},
      {"hearthnet_llm_tokens_generated_total", MetricType::counter, {"model", "backend"}},
      {"hearthnet_llm_concurrent", MetricType::gauge, {"model"}},
      {"hearthnet_capability_health_success_rate", MetricType::gauge, {"capability", "node"}},
      {"hearthnet_rate_limited_total", MetricType::counter, {"capability", "reason"}},
      {"hearthnet_signature_failures_total", MetricType::counter, {"reason"}},
      {"hearthnet_quarantines_total", MetricType::counter, {}},
  };
  ASSERT_EQ(r.names().size(), 14u);
  const std::string text = r.render_prometheus();
  for (const auto& e : expected) {
    const MetricFamily* f = r.find(e.name);
    ASSERT_NE(f, nullptr) << e.name;
    EXPECT_EQ(f->type(), e.type) << e.name;
    EXPECT_EQ(f->label_names(), e.labels) << e.name;
    EXPECT_FALSE(f->help().empty());
    EXPECT_NE(text.find(std::string("# HELP ") + e.name + " "), std::string::npos) << e.name;
    EXPECT_NE(text.find(std::string("# TYPE ") + e.name + " " + std::string(to_string(e.type)) +
                        "\n"),
              std::string::npos)
        << e.name;
  }
  EXPECT_NE(text.find("\nhearthnet_blob_storage_bytes 0\n"), std::string::npos);
  EXPECT_NE(text.find("\nhearthnet_quarantines_total 0\n"), std::string::npos);

  // Idempotent, and the handles update the rendering.
  const StandardMetrics again = register_standard_metrics(r);
  EXPECT_EQ(again.requests_total, m.requests_total);
  m.requests_total->inc({"llm.chat", "ok"});
  m.emergency_mode->set(1, {"offline"});
  const std::string after = r.render_prometheus();
  EXPECT_NE(after.find("hearthnet_requests_total{capability=\"llm.chat\",result=\"ok\"} 1\n"),
            std::string::npos);
  EXPECT_NE(after.find("hearthnet_emergency_mode{state=\"offline\"} 1\n"), std::string::npos);
}

TEST(StandardMetrics, DefaultRegistryHoldsThem) {
  const auto& m = standard_metrics();
  EXPECT_EQ(default_registry().find("hearthnet_signature_failures_total"),
            m.signature_failures_total);
  configure_metrics(MetricsOptions{true});
  EXPECT_FALSE(metrics_disabled());
}

}  // namespace
}  // namespace hn::observability
