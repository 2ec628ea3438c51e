// export_archive.h — `hearthnet export` (M12 §3.9): a signed ZIP of a node's keys, state
// and logs. The archive holds the files plus EXPORT-MANIFEST.json, which lists every
// file with its size and BLAKE3 CID and is signed by the node key (CONTRACT §10), so a
// reader can tell a complete, untampered export from anything else.
//
// Thread-safety: free functions; no shared state.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/json.h"
#include "identity/keys.h"

namespace hn::cli {

inline constexpr const char* EXPORT_MANIFEST_NAME = "EXPORT-MANIFEST.json";
inline constexpr const char* EXPORT_FORMAT = "hearthnet-export/1";

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

}  // namespace hn::cli
