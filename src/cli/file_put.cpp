// file_put.cpp — see file_put.h.
#include "cli/file_put.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <vector>

#include "blobs/chunker.h"
#include "cli/progress.h"
#include "core/encoding.h"
#include "core/hash.h"

namespace hn::cli {
namespace {

const Version V1{1, 0};
// CONTRACT §4.10 batches: the service's own limit (services/files/frames.h).
constexpr std::size_t CHUNKS_PER_PUT_CALL = 8;
const auto FILE_CALL_TIMEOUT = std::chrono::seconds(620);

// Reads chunk `ref` of the file at path.
Result<Bytes> read_chunk_at(std::ifstream& in, const blobs::BlobManifest& m, const blobs::ChunkRef& ref) {
  Bytes data(static_cast<std::size_t>(ref.size_bytes));
  in.clear();
  in.seekg(ref.index * m.chunk_size_bytes);
  in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(data.size()));
  if (!in || blobs::hash_bytes(data) != ref.cid) {
    return make_error(ErrorCode::io_error, "the file changed while it was being put");
  }
  return data;
}

}  // namespace

std::string media_type_of(const std::filesystem::path& path) {
  static const std::map<std::string, std::string> types = {
      {".txt", "text/plain"},        {".md", "text/markdown"},    {".html", "text/html"},
      {".json", "application/json"}, {".pdf", "application/pdf"}, {".png", "image/png"},
      {".jpg", "image/jpeg"},        {".jpeg", "image/jpeg"},     {".gif", "image/gif"},
      {".zip", "application/zip"},   {".gz", "application/gzip"}, {".mp3", "audio/mpeg"},
      {".mp4", "video/mp4"},         {".csv", "text/csv"},        {".markdown", "text/markdown"}};
  std::string ext = path.extension().string();
  for (auto& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  auto it = types.find(ext);
  return it == types.end() ? "application/octet-stream" : it->second;
}

Result<PutFileResult> put_file(node::LocalClient& client, const std::filesystem::path& path, bool pin) {
  std::ifstream probe(path, std::ios::binary);
  if (!probe) return make_error(ErrorCode::io_error, "cannot read " + path.string());
  // Pass 1: the manifest (hashes only; one chunk in memory).
  blobs::ChunkFileOptions co;
  co.filename = path.filename().string();
  co.mime_type = media_type_of(path);
  HN_TRY_ASSIGN(auto manifest,
                blobs::chunk_file(
                    path, [](const blobs::ChunkRef&, std::span<const std::uint8_t>) { return Status{}; }, co));
  const Json mj = blobs::manifest_to_json(manifest);
  HN_TRY_ASSIGN(Json first, client.call("file.put", V1, Json{{"input", {{"manifest", mj}, {"pin", pin}}}},
                                        FILE_CALL_TIMEOUT));
  std::vector<std::int64_t> needed;
  for (const auto& i : first["output"]["needed"]) needed.push_back(i.get<std::int64_t>());
  // Pass 2: only the chunks the node lacks (CONTRACT §4.10 ready{needed}).
  ProgressBar bar("put");
  std::int64_t sent = 0, total = 0;
  for (auto i : needed) total += manifest.chunks[static_cast<std::size_t>(i)].size_bytes;
  Json last = first;
  for (std::size_t at = 0; at < needed.size(); at += CHUNKS_PER_PUT_CALL) {
    Json chunks = Json::array();
    for (std::size_t k = at; k < std::min(needed.size(), at + CHUNKS_PER_PUT_CALL); ++k) {
      const auto& ref = manifest.chunks[static_cast<std::size_t>(needed[k])];
      HN_TRY_ASSIGN(auto data, read_chunk_at(probe, manifest, ref));
      chunks.push_back(Json{{"i", ref.index}, {"cid", ref.cid}, {"data_b64", base64url_encode(data)}});
      sent += ref.size_bytes;
    }
    HN_TRY_ASSIGN(last, client.call("file.put", V1,
                                    Json{{"input", {{"manifest", mj}, {"chunks", chunks}, {"pin", pin}}}},
                                    FILE_CALL_TIMEOUT));
    bar.update(sent, total, -1);
  }
  bar.finish();
  if (!last["output"].value("complete", false)) {
    return make_error(ErrorCode::internal_error, "the node did not complete the blob");
  }
  PutFileResult r;
  r.cid = manifest.cid;
  r.name = *co.filename;
  r.mime_type = *co.mime_type;
  r.size_bytes = manifest.size_bytes;
  r.chunks = manifest.chunks.size();
  r.chunks_sent = needed.size();
  return r;
}

}  // namespace hn::cli
