// first_run.cpp — the create-or-join dialogue.
#include "cli/first_run.h"

#include <iostream>

#include "core/json.h"

namespace hn::cli {
namespace {

Error aborted(const std::string& why) {
  return make_error(ErrorCode::bad_request, "init aborted: " + why, Json{{"aborted", true}});
}

std::string strip(const std::string& s) {
  const auto a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t\r") - a + 1);
}

// One answer line, stripped; nullopt at the end of input.
std::optional<std::string> ask(std::istream& in, std::ostream& out, const std::string& question) {
  out << question << std::flush;
  std::string line;
  if (!std::getline(in, line)) {
    out << "\n";
    return std::nullopt;
  }
  return strip(line);
}

std::optional<FirstRunPath> parse_path(const std::string& answer) {
  if (answer.empty() || answer == "1" || answer == "c" || answer == "create")
    return FirstRunPath::create;
  if (answer == "2" || answer == "j" || answer == "join") return FirstRunPath::join;
  return std::nullopt;
}

}  // namespace

bool is_aborted(const Error& error) {
  return error.detail.is_object() && error.detail.value("aborted", false);
}

Result<FirstRunAnswers> ask_first_run(std::istream& in, std::ostream& out,
                                      const FirstRunQuestions& q) {
  FirstRunAnswers answers;
  if (q.ask_name) {
    auto name = ask(in, out, "Display name for this node [" + q.default_name + "]: ");
    if (!name) return aborted("no display name given");
    if (!name->empty()) answers.display_name = *name;
  }
  if (q.path) {
    answers.path = *q.path;
  } else {
    out << "This node belongs to no community yet.\n"
        << "  1) create a new community (this node becomes its root and anchor)\n"
        << "  2) join an existing community with an invite from one of its members\n";
    std::optional<FirstRunPath> path;
    for (int i = 0; i < FIRST_RUN_ATTEMPTS && !path; ++i) {
      auto answer = ask(in, out, "Create or join? [1] ");
      if (!answer) return aborted("no choice made");
      path = parse_path(*answer);
      if (!path) out << "Please answer 1 (create) or 2 (join).\n";
    }
    if (!path) return aborted("no choice made");
    answers.path = *path;
  }
  if (answers.path == FirstRunPath::create) {
    if (!q.ask_community_name) return answers;
    const std::string name = answers.display_name.value_or(q.default_name);
    auto community = ask(in, out, "Name of the new community [" + name + "'s community]: ");
    if (!community) return aborted("no community name given");
    if (!community->empty()) answers.community_name = *community;
    return answers;
  }
  // Join: the inviter needs this node's id to make an invite for it (M13 §4.4).
  if (q.id_card) {
    HN_TRY_ASSIGN(std::string card, q.id_card());
    out << "This node's id card:\n  " << card << "\n"
        << "On a member's node run:  hearthnet invite create --node-id " << card << "\n";
  }
  for (int i = 0; i < FIRST_RUN_ATTEMPTS; ++i) {
    auto invite =
        ask(in, out, "Paste the invite (hearthnet://v1/...) or the path of a file holding it: ");
    if (!invite) return aborted("no invite given");
    if (!invite->empty()) {
      answers.invite = *invite;
      return answers;
    }
  }
  return aborted("no invite given");
}

}  // namespace hn::cli
