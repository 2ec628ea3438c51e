// prompt.cpp — confirmations, passphrases, invite arguments.
#include "cli/prompt.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <iterator>

#include "core/file_util.h"

namespace hn::cli {
namespace {

std::string strip(std::string s) {
  const char* space = " \t\r\n";
  const auto first = s.find_first_not_of(space);
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(space) - first + 1);
}

// One line from the terminal with echo off; nullopt when there is no terminal.
std::optional<std::string> read_tty_secret(const std::string& prompt) {
  const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  termios saved{};
  const bool is_tty = ::tcgetattr(fd, &saved) == 0;
  if (!is_tty) {
    ::close(fd);
    return std::nullopt;
  }
  termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  quiet.c_lflag |= ECHONL;
  (void)!::write(fd, prompt.data(), prompt.size());
  ::tcsetattr(fd, TCSAFLUSH, &quiet);
  std::string line;
  char c = 0;
  while (::read(fd, &c, 1) == 1 && c != '\n') line += c;
  ::tcsetattr(fd, TCSAFLUSH, &saved);
  ::close(fd);
  return line;
}

}  // namespace

bool confirm(std::istream& in, std::ostream& out, const std::string& question) {
  out << question << " [type 'yes']: " << std::flush;
  std::string answer;
  if (!std::getline(in, answer)) return false;
  return strip(answer) == "yes";
}

Result<std::string> read_passphrase(const PassphraseSource& source, const config::Env& env) {
  if (source.file) {
    HN_TRY_ASSIGN(std::string text, read_file(*source.file));
    const auto end = text.find('\n');
    std::string line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  if (auto value = env.get_non_empty(PASSPHRASE_ENV)) return *value;
  auto first = read_tty_secret("Passphrase: ");
  if (!first) {
    return make_error(ErrorCode::bad_request,
                      std::string("a passphrase is needed and there is no terminal to ask on; "
                                  "give --passphrase-file FILE or set ") +
                          PASSPHRASE_ENV);
  }
  if (source.repeat) {
    auto second = read_tty_secret("Passphrase again: ");
    if (!second || *second != *first) {
      return make_error(ErrorCode::bad_request, "the two passphrases differ; nothing written");
    }
  }
  return *first;
}

Result<std::string> read_invite_argument(const std::string& argument, std::istream& in) {
  std::string text;
  std::error_code ec;
  if (argument == "-") {
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } else if (!argument.starts_with("hearthnet://") &&
             std::filesystem::is_regular_file(argument, ec)) {
    HN_TRY_ASSIGN(text, read_file(argument));
  } else if (argument.starts_with("hearthnet:")) {
    text = argument;
  } else {
    return make_error(
        ErrorCode::invite_invalid,
        "'" + argument + "' is neither a hearthnet://v1/… invite nor a readable file");
  }
  text = strip(std::move(text));
  if (text.empty()) {
    return make_error(ErrorCode::invite_invalid,
                      "no invite given (expected hearthnet://v1/… text, a file holding it, or "
                      "- for stdin)");
  }
  return text;
}

}  // namespace hn::cli
