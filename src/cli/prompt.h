// prompt.h — what the CLI reads from its user: yes/no confirmations, passphrases (from a
// file, the environment, or the terminal without echo) and invite text (given as text,
// as a file path, or "-" for stdin). Streams are parameters so tests inject them.
//
// Thread-safety: called from main's thread only (the terminal prompt changes the
// terminal's echo setting while it reads).
#pragma once

#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>

#include "config/env.h"
#include "core/error.h"

namespace hn::cli {

// The environment variable a script may set instead of --passphrase-file.
inline constexpr const char* PASSPHRASE_ENV = "HEARTHNET_EXPORT_PASSPHRASE";

// Asks `question` on out; true only when the answer line is exactly "yes".
bool confirm(std::istream& in, std::ostream& out, const std::string& question);

// Where a passphrase comes from, first match wins: the file (its first line), the
// environment variable PASSPHRASE_ENV, the terminal (/dev/tty, no echo; asked twice when
// repeat is set and both must agree). bad_request when none is available or the two
// entries differ; io_error when the file cannot be read.
struct PassphraseSource {
  std::optional<std::filesystem::path> file;
  bool repeat = false;  // a new passphrase (export): ask twice
};
Result<std::string> read_passphrase(const PassphraseSource& source, const config::Env& env);

// The invite an argument names (M12 §3.12 TEXT_OR_PATH): "-" reads all of `in`; an
// argument that names an existing file reads the file; "hearthnet:…" is the text itself.
// Surrounding whitespace is dropped. io_error when the file cannot be read, invite_invalid
// for anything else or when nothing is left.
Result<std::string> read_invite_argument(const std::string& argument, std::istream& in);

}  // namespace hn::cli
