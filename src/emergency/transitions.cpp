// transitions.cpp — M09 §4 transition table, debounce and flap guard.
#include "emergency/transitions.h"

namespace hn::emergency {

Verdict classify(std::size_t total, std::size_t failed) {
  if (failed == 0) return Verdict::pass;
  const std::size_t offline_at = total < 2 ? total : 2;  // M09 §5.1 "offline requires ≥ 2 to fail"
  return failed >= offline_at ? Verdict::fail : Verdict::partial;
}

Timings Timings::from(const config::EmergencyConfig& c) {
  Timings t;
  t.debounce = std::chrono::seconds(c.debounce_seconds);
  t.recovery = std::chrono::seconds(c.recovery_seconds);
  t.flap_window = std::chrono::seconds(c.flap_window_seconds);
  return t;
}

ModeMachine::ModeMachine(Timings timings, Mode initial) : m_t(timings), m_mode(initial) {}

bool ModeMachine::held_for(const std::optional<std::int64_t>& since, std::chrono::milliseconds d,
                           std::int64_t now_ms) const {
  return since && now_ms - *since >= d.count();
}

std::optional<Mode> ModeMachine::wanted(Verdict v, std::int64_t now_ms) const {
  switch (m_mode) {
    case Mode::online:
      if (v != Verdict::pass) return Mode::degraded;
      break;
    case Mode::degraded:
      if (v == Verdict::fail && held_for(m_fail_since, m_t.debounce, now_ms)) return Mode::offline;
      if (v == Verdict::pass && held_for(m_pass_since, m_t.recovery, now_ms)) return Mode::online;
      break;
    case Mode::offline:
      if (v == Verdict::pass && held_for(m_pass_since, m_t.recovery, now_ms)) return Mode::online;
      if (v != Verdict::fail && held_for(m_not_fail_since, m_t.recovery, now_ms)) {
        return Mode::degraded;
      }
      break;
  }
  return std::nullopt;
}

std::size_t ModeMachine::transitions_within_window(std::int64_t now_ms) {
  while (!m_transitions.empty() && now_ms - m_transitions.front() >= m_t.flap_window.count()) {
    m_transitions.pop_front();
  }
  return m_transitions.size();
}

std::optional<Mode> ModeMachine::observe(Verdict v, std::int64_t now_ms) {
  // The streaks: each starts at its first round and ends at the first round that breaks it.
  if (v == Verdict::pass) {
    if (!m_pass_since) m_pass_since = now_ms;
  } else {
    m_pass_since.reset();
  }
  if (v == Verdict::fail) {
    if (!m_fail_since) m_fail_since = now_ms;
    m_not_fail_since.reset();
  } else {
    m_fail_since.reset();
    if (!m_not_fail_since) m_not_fail_since = now_ms;
  }

  m_held = false;
  const auto target = wanted(v, now_ms);
  if (!target || *target == m_mode) return std::nullopt;
  const bool optimistic = static_cast<int>(*target) < static_cast<int>(m_mode);
  if (optimistic && transitions_within_window(now_ms) + 1 > m_t.flap_max_transitions) {
    m_held = true;  // M09 §4 anti-flap: stay pessimistic until the window passes
    return std::nullopt;
  }
  m_transitions.push_back(now_ms);
  m_mode = *target;
  return m_mode;
}

}  // namespace hn::emergency
