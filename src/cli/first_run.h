// first_run.h — the M13 first-run flow on the terminal (M12 §3.1 step 4): display name,
// then create a community or join one. Only the questions and answers live here; the
// command (commands_init.cpp) does the work. Streams are parameters so tests drive the
// dialogue without a terminal.
//
// Thread-safety: call from one thread.
#pragma once

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>

#include "core/error.h"

namespace hn::cli {

enum class FirstRunPath { create, join };

// What to ask. A question whose answer is already known (a flag) is not asked.
struct FirstRunQuestions {
  bool ask_name = true;
  std::string default_name;          // shown in brackets; empty answer keeps it
  std::optional<FirstRunPath> path;  // --create / --join given: not asked
  bool ask_community_name = true;    // create path; false when --community-name given
  // The node's id card, shown before asking for an invite (the inviter needs it). Called
  // only on the join path; its error ends the dialogue.
  std::function<Result<std::string>()> id_card;
};

struct FirstRunAnswers {
  std::optional<std::string> display_name;  // nullopt: keep the default
  FirstRunPath path = FirstRunPath::create;
  std::optional<std::string> community_name;  // create: nullopt keeps the default
  std::string invite;                         // join: the text, a file path, or "-"
};

// How many times a question is asked again after an answer it cannot use.
inline constexpr int FIRST_RUN_ATTEMPTS = 3;

// Runs the dialogue. bad_request with detail {"aborted": true} when input ends (Ctrl-D)
// or no usable answer came after FIRST_RUN_ATTEMPTS tries: the user aborted (exit 2).
Result<FirstRunAnswers> ask_first_run(std::istream& in, std::ostream& out,
                                      const FirstRunQuestions& questions);

// Whether an error from ask_first_run means the user aborted.
bool is_aborted(const Error& error);

}  // namespace hn::cli
