// lexical_file.h — the corpus's lexical index on disk (`lexical.idx` beside vectors.hnsw), so
// that opening a corpus reads its BM25 postings instead of tokenising every chunk again
// (doc/design/rag.md, "The lexical index on disk").
//
// The file: "HNLEXIDX", a format version, the database's text stamp when the index was
// saved, the body's length, the body (LexicalIndex::encode), and the BLAKE3 of everything
// before it. Written atomically (temp file, fsync, rename, fsync of the directory).
//
// The text stamp is two values the database keeps in its `meta` table and changes in the
// same transaction as every write of chunk text (an add, a replace, a remove): a counter of
// those writes and a fresh ULID. A file is used only when its stamp equals the database's;
// the ULID makes a stamp unique even if a power loss rolled back a committed write
// (`synchronous=NORMAL`) and a later one reached the same count.
//
// Thread-safety: free functions over their arguments; the caller serialises writers of one
// file (CorpusStore's write mutex).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "services/rag/lexical_index.h"

namespace hn::services::rag {

inline constexpr const char* LEXICAL_FILE = "lexical.idx";
inline constexpr std::uint32_t LEXICAL_FILE_VERSION = 1;

// What the chunks' text looked like when an index was built: see the header comment.
struct TextStamp {
  std::int64_t writes = 0;
  std::string nonce;  // a ULID; "" before the first write under this scheme
  bool operator==(const TextStamp&) const = default;
};

// Writes `index` with `stamp` to `file`, atomically.
Status save_lexical_file(const std::filesystem::path& file, const LexicalIndex& index, const TextStamp& stamp);

// The index saved in `file` when it carries `stamp`. not_found when there is no file;
// db_corrupt otherwise, with `detail.reason` "stale" (another stamp: the message names both
// counters) or "corrupt" (torn, altered, another version, malformed). Never throws.
Result<LexicalIndex> load_lexical_file(const std::filesystem::path& file, const TextStamp& stamp);

// Removes temp files a save interrupted by a crash left in `dir`.
void remove_lexical_temp_files(const std::filesystem::path& dir);

}  // namespace hn::services::rag
