// doctor.h — self-diagnostics (X03 §6): named checks registered with a Doctor, run all
// or one, rendered as a terminal report (M12 §3.8) or JSON. Checks are closures that
// capture what they inspect (config values, key paths, the bus), so this layer needs no
// other layer; checks of other layers are registered by the node (see doctor_checks.h
// for the generic ones and make_status_check for a one-line adapter).
//
// Thread-safety: register_check and run_* may be called from any thread (internal
// mutex; checks run outside it, in registration order, on the calling thread).
// Invariants: a check that throws is reported as fail, never propagated; each result's
// name is the registered name.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/json.h"

namespace hn::observability {

enum class CheckStatus { ok, warn, fail };
std::string_view to_string(CheckStatus status);

// X03 §6.1 CheckResult (ok → status; detail → message).
struct CheckResult {
  std::string name;
  CheckStatus status = CheckStatus::ok;
  std::string message;
  std::optional<std::string> fix;  // hint shown as "→ fix: …"

  bool ok() const { return status != CheckStatus::fail; }
};

CheckResult check_ok(std::string message);
CheckResult check_warn(std::string message, std::optional<std::string> fix = std::nullopt);
CheckResult check_fail(std::string message, std::optional<std::string> fix = std::nullopt);

using CheckFn = std::function<CheckResult()>;

struct DoctorCheck {
  std::string name;  // e.g. "disk_space" (X03 §6.2)
  CheckFn fn;
};

// Adapts a Status-returning probe: ok(ok_message) on success, fail(error text, fix) on error.
DoctorCheck make_status_check(std::string name, std::function<Status()> probe,
                              std::string ok_message, std::optional<std::string> fix);

class Doctor {
 public:
  // X03 §6.1 register. Replaces an earlier check of the same name (keeping its position).
  // bad_request for an empty name or a missing function.
  Status register_check(DoctorCheck check);
  // X03 §6.1 run_all: every check, in registration order.
  std::vector<CheckResult> run_all() const;
  // X03 §6.1 run_one: not_found for an unknown name.
  Result<CheckResult> run_one(std::string_view name) const;
  std::vector<std::string> check_names() const;

 private:
  mutable std::mutex m_mutex;
  std::vector<DoctorCheck> m_checks;
};

// Runs one check, turning an exception into a fail result named after the check.
CheckResult run_check(const DoctorCheck& check);

// M12 §3.8 report: "✔  name  message", "!  …" for warn, "✘  …" for fail, with
// "     → fix: …" lines; ANSI colours when color is true.
std::string render_doctor_text(const std::vector<CheckResult>& results, bool color = false);
// {"ok":bool,"checks":[{"name","status","message","fix"?}]}.
Json render_doctor_json(const std::vector<CheckResult>& results);
Json check_result_to_json(const CheckResult& result);
// M12 §3.8 exit code: 0 when nothing failed, 1 otherwise.
int doctor_exit_code(const std::vector<CheckResult>& results);

}  // namespace hn::observability
