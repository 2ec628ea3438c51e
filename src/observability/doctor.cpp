// doctor.cpp — check registry and report rendering (X03 §6, M12 §3.8).
#include "observability/doctor.h"

#include <algorithm>
#include <exception>

namespace hn::observability {

std::string_view to_string(CheckStatus status) {
  switch (status) {
    case CheckStatus::ok: return "ok";
    case CheckStatus::warn: return "warn";
    case CheckStatus::fail: return "fail";
  }
  return "fail";
}

CheckResult check_ok(std::string message) {
  return CheckResult{{}, CheckStatus::ok, std::move(message), std::nullopt};
}

CheckResult check_warn(std::string message, std::optional<std::string> fix) {
  return CheckResult{{}, CheckStatus::warn, std::move(message), std::move(fix)};
}

CheckResult check_fail(std::string message, std::optional<std::string> fix) {
  return CheckResult{{}, CheckStatus::fail, std::move(message), std::move(fix)};
}

DoctorCheck make_status_check(std::string name, std::function<Status()> probe,
                              std::string ok_message, std::optional<std::string> fix) {
  CheckFn fn = [probe = std::move(probe), ok_message = std::move(ok_message),
                fix = std::move(fix)]() {
    Status s = probe();
    if (s) return check_ok(ok_message);
    return check_fail(s.error().to_string(), fix);
  };
  return DoctorCheck{std::move(name), std::move(fn)};
}

CheckResult run_check(const DoctorCheck& check) {
  CheckResult r;
  try {
    r = check.fn();
  } catch (const std::exception& e) {
    r = check_fail(std::string("check crashed: ") + e.what());
  } catch (...) {
    r = check_fail("check crashed");
  }
  r.name = check.name;
  return r;
}

Status Doctor::register_check(DoctorCheck check) {
  if (check.name.empty()) return make_error(ErrorCode::bad_request, "doctor check needs a name");
  if (!check.fn) return make_error(ErrorCode::bad_request, "doctor check needs a function");
  std::lock_guard lock(m_mutex);
  for (auto& existing : m_checks) {
    if (existing.name == check.name) {
      existing = std::move(check);
      return {};
    }
  }
  m_checks.push_back(std::move(check));
  return {};
}

std::vector<CheckResult> Doctor::run_all() const {
  std::vector<DoctorCheck> checks;
  {
    std::lock_guard lock(m_mutex);
    checks = m_checks;
  }
  std::vector<CheckResult> out;
  out.reserve(checks.size());
  for (const auto& c : checks) out.push_back(run_check(c));
  return out;
}

Result<CheckResult> Doctor::run_one(std::string_view name) const {
  std::optional<DoctorCheck> check;
  {
    std::lock_guard lock(m_mutex);
    for (const auto& c : m_checks) {
      if (c.name == name) check = c;
    }
  }
  if (!check) return make_error(ErrorCode::not_found, "no doctor check named " + std::string(name));
  return run_check(*check);
}

std::vector<std::string> Doctor::check_names() const {
  std::lock_guard lock(m_mutex);
  std::vector<std::string> out;
  for (const auto& c : m_checks) out.push_back(c.name);
  return out;
}

std::string render_doctor_text(const std::vector<CheckResult>& results, bool color) {
  std::size_t width = 0;
  for (const auto& r : results) width = std::max(width, r.name.size());
  width = std::max<std::size_t>(width, 20);
  std::string out;
  for (const auto& r : results) {
    const char* mark = r.status == CheckStatus::ok     ? "\u2714"
                       : r.status == CheckStatus::warn ? "!"
                                                       : "\u2718";
    const char* ansi = r.status == CheckStatus::ok     ? "\x1b[32m"
                       : r.status == CheckStatus::warn ? "\x1b[33m"
                                                       : "\x1b[31m";
    if (color) out += ansi;
    out += mark;
    if (color) out += "\x1b[0m";
    out += "  ";
    out += r.name;
    out.append(width - r.name.size() + 2, ' ');
    out += r.message;
    out += '\n';
    if (r.fix && !r.fix->empty()) {
      out += "     \u2192 fix: ";
      out += *r.fix;
      out += '\n';
    }
  }
  return out;
}

Json check_result_to_json(const CheckResult& r) {
  Json j = Json::object();
  j["name"] = r.name;
  j["status"] = std::string(to_string(r.status));
  j["message"] = r.message;
  if (r.fix) j["fix"] = *r.fix;
  return j;
}

Json render_doctor_json(const std::vector<CheckResult>& results) {
  Json checks = Json::array();
  for (const auto& r : results) checks.push_back(check_result_to_json(r));
  return Json{{"ok", doctor_exit_code(results) == 0}, {"checks", std::move(checks)}};
}

int doctor_exit_code(const std::vector<CheckResult>& results) {
  return std::any_of(results.begin(), results.end(), [](const CheckResult& r) { return !r.ok(); })
             ? 1
             : 0;
}

}  // namespace hn::observability
