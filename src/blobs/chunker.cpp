// chunker.cpp — M07 §3.1 chunking, manifest CIDs and manifest parsing.
#include "blobs/chunker.h"

#include <algorithm>
#include <cassert>

#include "blobs/detail/posix_io.h"
#include "core/hash.h"

namespace hn::blobs {

namespace {

// Longest advisory string (mime_type, filename) a manifest may carry.
constexpr std::size_t MAX_ADVISORY_CHARS = 1024;

Error invalid(std::string message) {
  return make_error(ErrorCode::manifest_invalid, "invalid blob manifest: " + std::move(message));
}

// An integer field in [lo, hi]; anything else is manifest_invalid.
Result<std::int64_t> int_field(const Json& obj, std::string_view key, std::int64_t lo,
                               std::int64_t hi) {
  auto v = get_int(obj, key);
  if (!v.has_value()) return invalid(std::string(key) + " must be an integer");
  if (*v < lo || *v > hi) return invalid(std::string(key) + " out of range");
  return *v;
}

Result<std::string> cid_field(const Json& obj, std::string_view key) {
  auto v = get_string(obj, key);
  if (!v.has_value() || !is_valid_cid(*v)) {
    return invalid(std::string(key) + " must be a \"blake3:<64 hex>\" CID");
  }
  return std::move(v).value();
}

// Absent or null → nullopt; a bounded string → itself; anything else → manifest_invalid.
Result<std::optional<std::string>> advisory_field(const Json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return invalid(std::string(key) + " must be a string or null");
  auto s = it->get<std::string>();
  if (s.size() > MAX_ADVISORY_CHARS) return invalid(std::string(key) + " too long");
  return std::optional<std::string>(std::move(s));
}

std::int64_t expected_chunk_count(std::int64_t size, std::int64_t chunk_size) {
  return size == 0 ? 0 : (size - 1) / chunk_size + 1;
}

std::int64_t expected_chunk_size(std::int64_t index, std::int64_t size, std::int64_t chunk_size) {
  return std::min(chunk_size, size - index * chunk_size);
}

}  // namespace

std::string hash_bytes(std::span<const std::uint8_t> data) { return blake3_cid(data); }

ChunkedBlob chunk_blob(std::span<const std::uint8_t> data, std::int64_t chunk_size) {
  ManifestBuilder builder(chunk_size);
  std::vector<Bytes> chunks;
  const auto step = static_cast<std::size_t>(chunk_size);
  chunks.reserve((data.size() + step - 1) / step);
  for (std::size_t off = 0; off < data.size(); off += step) {
    auto piece = data.subspan(off, std::min(step, data.size() - off));
    builder.add_chunk(piece);
    chunks.emplace_back(piece.begin(), piece.end());
  }
  return ChunkedBlob{std::move(builder).finish(), std::move(chunks)};
}

std::string manifest_cid(const BlobManifest& manifest) {
  Json cids = Json::array();
  for (const auto& c : manifest.chunks) cids.push_back(c.cid);
  Json projection = {{"chunk_size_bytes", manifest.chunk_size_bytes},
                     {"chunks", std::move(cids)},
                     {"size_bytes", manifest.size_bytes}};
  return blake3_cid(canonical_json(projection));
}

Bytes reassemble(const std::vector<Bytes>& chunks) {
  std::size_t total = 0;
  for (const auto& c : chunks) total += c.size();
  Bytes out;
  out.reserve(total);
  for (const auto& c : chunks) out.insert(out.end(), c.begin(), c.end());
  return out;
}

Status verify_chunk(std::span<const std::uint8_t> data, std::string_view expected_cid) {
  std::string actual = hash_bytes(data);
  if (actual != expected_cid) {
    return make_error(ErrorCode::hash_mismatch, "chunk hash mismatch: expected " +
                                                    std::string(expected_cid) + ", got " + actual);
  }
  return {};
}

Result<VerifiedChunk> VerifiedChunk::check(std::string cid, Bytes data) {
  HN_TRY(verify_chunk(data, cid));
  return VerifiedChunk(std::move(cid), std::move(data));
}

Json manifest_to_json(const BlobManifest& manifest) {
  Json chunks = Json::array();
  for (const auto& c : manifest.chunks) {
    chunks.push_back({{"i", c.index}, {"cid", c.cid}, {"size_bytes", c.size_bytes}});
  }
  Json j = {{"cid", manifest.cid},
            {"size_bytes", manifest.size_bytes},
            {"chunk_size_bytes", manifest.chunk_size_bytes},
            {"chunks", std::move(chunks)}};
  if (manifest.mime_type) j["mime_type"] = *manifest.mime_type;
  if (manifest.filename) j["filename"] = *manifest.filename;
  return j;
}

Result<BlobManifest> parse_blob_manifest(const Json& json) {
  if (!json.is_object()) return invalid("not a JSON object");
  BlobManifest m;
  HN_TRY_ASSIGN(m.cid, cid_field(json, "cid"));
  HN_TRY_ASSIGN(m.size_bytes, int_field(json, "size_bytes", 0, MAX_BLOB_SIZE_BYTES));
  HN_TRY_ASSIGN(m.chunk_size_bytes, int_field(json, "chunk_size_bytes", 1, MAX_CHUNK_SIZE_BYTES));
  auto chunks_it = json.find("chunks");
  if (chunks_it == json.end() || !chunks_it->is_array()) return invalid("chunks must be an array");
  const Json& chunks = *chunks_it;
  const std::int64_t count = expected_chunk_count(m.size_bytes, m.chunk_size_bytes);
  if (static_cast<std::int64_t>(chunks.size()) != count) {
    return invalid("chunks has " + std::to_string(chunks.size()) + " entries, size implies " +
                   std::to_string(count));
  }
  m.chunks.reserve(chunks.size());
  for (std::int64_t i = 0; i < count; ++i) {
    const Json& c = chunks[static_cast<std::size_t>(i)];
    if (!c.is_object()) return invalid("chunk entry must be an object");
    // CONTRACT §4.7 names the index "i"; M07's ChunkRef names it "index". Accept either.
    const bool has_i = c.contains("i");
    const bool has_index = c.contains("index");
    if (!has_i && !has_index) return invalid("chunk entry lacks its index \"i\"");
    if (has_i) {
      HN_TRY_ASSIGN(auto idx, int_field(c, "i", 0, MAX_BLOB_SIZE_BYTES));
      if (idx != i) return invalid("chunk indices must be 0..n-1 in order");
    }
    if (has_index) {
      HN_TRY_ASSIGN(auto idx, int_field(c, "index", 0, MAX_BLOB_SIZE_BYTES));
      if (idx != i) return invalid("chunk indices must be 0..n-1 in order");
    }
    ChunkRef ref;
    ref.index = i;
    HN_TRY_ASSIGN(ref.cid, cid_field(c, "cid"));
    ref.size_bytes = expected_chunk_size(i, m.size_bytes, m.chunk_size_bytes);
    if (c.contains("size_bytes")) {
      HN_TRY_ASSIGN(auto sz, int_field(c, "size_bytes", 0, MAX_CHUNK_SIZE_BYTES));
      if (sz != ref.size_bytes) return invalid("chunk size_bytes disagrees with the blob size");
    }
    m.chunks.push_back(std::move(ref));
  }
  HN_TRY_ASSIGN(m.mime_type, advisory_field(json, "mime_type"));
  HN_TRY_ASSIGN(m.filename, advisory_field(json, "filename"));
  if (manifest_cid(m) != m.cid) return invalid("cid does not match the chunk list");
  return m;
}

ManifestBuilder::ManifestBuilder(std::int64_t chunk_size) {
  assert(chunk_size > 0 && chunk_size <= MAX_CHUNK_SIZE_BYTES);
  m_manifest.chunk_size_bytes = chunk_size;
}

ChunkRef ManifestBuilder::add_chunk(std::span<const std::uint8_t> data) {
  const auto size = static_cast<std::int64_t>(data.size());
  assert(!m_saw_short_chunk && "only the last chunk may be short");
  assert(size > 0 && size <= m_manifest.chunk_size_bytes);
  if (size < m_manifest.chunk_size_bytes) m_saw_short_chunk = true;
  ChunkRef ref{static_cast<std::int64_t>(m_manifest.chunks.size()), hash_bytes(data), size};
  m_manifest.size_bytes += size;
  m_manifest.chunks.push_back(ref);
  return ref;
}

BlobManifest ManifestBuilder::finish(std::optional<std::string> mime_type,
                                     std::optional<std::string> filename) && {
  m_manifest.mime_type = std::move(mime_type);
  m_manifest.filename = std::move(filename);
  m_manifest.cid = manifest_cid(m_manifest);
  return std::move(m_manifest);
}

Result<BlobManifest> chunk_file(const std::filesystem::path& path, const ChunkSink& sink,
                                const ChunkFileOptions& options) {
  assert(options.chunk_size > 0 && options.chunk_size <= MAX_CHUNK_SIZE_BYTES);
  HN_TRY_ASSIGN(auto fd, detail::open_for_read(path));
  ManifestBuilder builder(options.chunk_size);
  Bytes buffer(static_cast<std::size_t>(options.chunk_size));
  for (;;) {
    HN_TRY_ASSIGN(std::size_t got, detail::read_full(fd.get(), buffer, path));
    if (got == 0) break;
    std::span<const std::uint8_t> piece(buffer.data(), got);
    ChunkRef ref = builder.add_chunk(piece);
    if (sink) HN_TRY(sink(ref, piece));
    if (got < buffer.size()) break;
  }
  return std::move(builder).finish(options.mime_type, options.filename);
}

}  // namespace hn::blobs
