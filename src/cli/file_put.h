// file_put.h — putting a local file into the running node's blob store through the file
// service's `file.put@1.0` (CONTRACT §4.10): the manifest first, then only the chunks the
// node says it needs. `hearthnet file put` and `hearthnet rag ingest` (which puts the
// document before it ingests it) share it.
//
// Thread-safety: called from the CLI's one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "node/local_client.h"

namespace hn::cli {

// A media type from the file name's extension (advisory, M07 §3.1 mime_type);
// application/octet-stream when unknown.
std::string media_type_of(const std::filesystem::path& path);

struct PutFileResult {
  std::string cid;
  std::string name;
  std::string mime_type;
  std::int64_t size_bytes = 0;
  std::size_t chunks = 0;
  std::size_t chunks_sent = 0;  // the node had the others already
};

// Hashes the file here (one chunk in memory at a time), sends the manifest, then the chunks
// the node lacks, drawing a byte progress bar on a terminal. io_error when the file cannot be
// read or changes meanwhile; the node's error otherwise.
Result<PutFileResult> put_file(node::LocalClient& client, const std::filesystem::path& path, bool pin);

}  // namespace hn::cli
