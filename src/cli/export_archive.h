// export_archive.h — `hearthnet export` (M12 §3.9): a signed ZIP of a node's settings,
// public identity, state and logs. The archive holds the files plus EXPORT-MANIFEST.json,
// which lists every file with its size and BLAKE3 CID and is signed by the node key
// (CONTRACT §10), so a reader can tell a complete, untampered export from anything else.
// Secrets are never stored in the clear: with --include-keys the private key travels as
// SEALED_KEYS_PATH, sealed under a passphrase (cli/sealed_keys.h).
//
// Thread-safety: free functions; no shared state.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/json.h"
#include "cli/sealed_keys.h"
#include "identity/keys.h"

namespace hn::cli {

inline constexpr const char* EXPORT_MANIFEST_NAME = "EXPORT-MANIFEST.json";
inline constexpr const char* EXPORT_FORMAT = "hearthnet-export/1";
// The archive entry that holds the sealed private key (only with --include-keys).
inline constexpr const char* SEALED_KEYS_PATH = "keys/sealed-keys.json";

// One file to put into the archive under a relative archive path.
struct ExportEntry {
  std::string archive_path;
  std::filesystem::path source;
};

// Writes a ZIP at out (atomically: temp file + rename) with every entry and a signed
// manifest. Missing sources are skipped and listed in the manifest's "skipped".
Status write_signed_export(const std::filesystem::path& out, const std::vector<ExportEntry>& entries,
                           const identity::KeyPair& keys, const Json& extra = Json::object());

// Reads an export back: checks the manifest signature (by the node id it names), that
// every listed file is present with the listed CID, and that nothing unlisted is present.
// Returns the verified manifest. invalid_signature / hash_mismatch / bad_request.
Result<Json> verify_signed_export(const std::filesystem::path& archive);

// Every entry of a ZIP: archive path → bytes. bad_request when it is not a readable ZIP.
Result<std::map<std::string, std::string>> read_export_entries(const std::filesystem::path& archive);

// The secrets of a verified export (file name → bytes), opened with passphrase.
// not_found when the export holds no sealed keys (written without --include-keys),
// verify_failed for a wrong passphrase, and verify_signed_export's errors.
Result<SecretFiles> open_export_keys(const std::filesystem::path& archive,
                                     std::string_view passphrase);

}  // namespace hn::cli
