// commands_local.cpp — the standalone commands (M12 §1): version, doctor. None needs a
// running node (init: commands_init.cpp; export, erase: commands_data.cpp).
#include <unistd.h>

#include <iostream>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/node_access.h"
#include "core/constants.h"
#include "node/doctor_checks.h"
#include "node/home.h"
#include "observability/doctor.h"

namespace hn::cli {
int command_version() {
  std::cout << "hearthnet " << HN_VERSION << " (contract " << CONTRACT_VERSION << ", C++"
            << __cplusplus / 100 % 100 << ", " << __VERSION__ << ", Linux)\n";
  return EXIT_OK;
}

int command_doctor(const GlobalOptions& global, const DoctorArgs& args) {
  auto home = node::open_home(global.config_path, global.env);
  if (!home) return fail(home.error());
  observability::Doctor doctor;
  if (auto s = node::register_standard_checks(doctor, *home); !s) return 2;
  std::vector<observability::CheckResult> results;
  if (args.check) {
    auto one = doctor.run_one(*args.check);
    if (!one) {
      std::cerr << "hearthnet: unknown check '" << *args.check << "'; known:";
      for (const auto& n : doctor.check_names()) std::cerr << " " << n;
      std::cerr << "\n";
      return EXIT_USAGE;
    }
    results.push_back(*one);
  } else {
    results = doctor.run_all();
  }
  if (args.json) {
    std::cout << observability::render_doctor_json(results).dump(2) << "\n";
  } else {
    std::cout << observability::render_doctor_text(results, ::isatty(STDOUT_FILENO) != 0);
  }
  return observability::doctor_exit_code(results);
}

}  // namespace hn::cli
