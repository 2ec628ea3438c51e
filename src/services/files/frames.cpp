// frames.cpp — parsers and builders of the file service's frames (frames.h).
#include "services/files/frames.h"

#include "core/hash.h"

namespace hn::services::files {
namespace {

Error bad(std::string message) { return make_error(ErrorCode::bad_request, std::move(message)); }

}  // namespace

Result<ChunkFrameHeader> parse_chunk_frame_header(const Json& frame) {
  if (!frame.is_object()) return bad("chunk frame: not an object");
  ChunkFrameHeader out;
  if (auto it = frame.find("i"); it != frame.end()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0) {
      return bad("chunk frame: \"i\" must be a non-negative integer");
    }
    out.index = it->get<std::int64_t>();
  }
  const auto cid = frame.find("cid");
  if (cid == frame.end() || !cid->is_string() || !is_valid_cid(cid->get_ref<const std::string&>())) {
    return bad("chunk frame: \"cid\" must be a blake3:<hex> CID");
  }
  out.cid = cid->get<std::string>();
  if (auto it = frame.find("size_bytes"); it != frame.end()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0) {
      return bad("chunk frame: \"size_bytes\" must be a non-negative integer");
    }
    out.size_bytes = it->get<std::int64_t>();
  }
  return out;
}

Result<ChunkFrame> parse_chunk_frame(const Json& frame) {
  HN_TRY_ASSIGN(auto header, parse_chunk_frame_header(frame));
  const auto data = frame.find("data_b64");
  if (data == frame.end() || !data->is_string()) {
    return bad("chunk frame: \"data_b64\" must be a string");
  }
  const auto& text = data->get_ref<const std::string&>();
  // base64url without padding: 4 characters carry 3 bytes.
  if (text.size() / 4 * 3 > static_cast<std::size_t>(blobs::MAX_CHUNK_SIZE_BYTES)) {
    return bad("chunk frame: chunk larger than the largest chunk size");
  }
  auto bytes = base64url_decode(text);
  if (!bytes) return bad("chunk frame: \"data_b64\" is not base64url");
  if (header.size_bytes >= 0 && header.size_bytes != static_cast<std::int64_t>(bytes->size())) {
    return bad("chunk frame: \"size_bytes\" does not match the data");
  }
  HN_TRY_ASSIGN(auto chunk, blobs::VerifiedChunk::check(std::move(header.cid), std::move(*bytes)));
  return ChunkFrame{header.index, std::move(chunk)};
}

Result<ChunkFrame> parse_chunk_frame(const Json& frame, Bytes payload) {
  HN_TRY_ASSIGN(auto header, parse_chunk_frame_header(frame));
  if (frame.contains("data_b64")) return bad("chunk frame: a binary frame carries no \"data_b64\"");
  if (header.size_bytes != static_cast<std::int64_t>(payload.size())) {
    return bad("chunk frame: \"size_bytes\" must be the payload's length");
  }
  if (payload.size() > static_cast<std::size_t>(blobs::MAX_CHUNK_SIZE_BYTES)) {
    return bad("chunk frame: chunk larger than the largest chunk size");
  }
  HN_TRY_ASSIGN(auto chunk, blobs::VerifiedChunk::check(std::move(header.cid), std::move(payload)));
  return ChunkFrame{header.index, std::move(chunk)};
}

Json chunk_frame(std::optional<std::int64_t> index, const std::string& cid,
                 std::span<const std::uint8_t> data) {
  Json j{{"cid", cid},
         {"size_bytes", static_cast<std::int64_t>(data.size())},
         {"data_b64", base64url_encode(data)}};
  if (index) j["i"] = *index;
  return j;
}

Json chunk_frame_header(std::optional<std::int64_t> index, const std::string& cid,
                        std::size_t size_bytes) {
  Json j{{"cid", cid}, {"size_bytes", static_cast<std::int64_t>(size_bytes)}};
  if (index) j["i"] = *index;
  return j;
}

Result<PutRequest> parse_put_request(const Json& input) {
  if (!input.is_object()) return bad("file.put: input must be an object");
  const auto m = input.find("manifest");
  if (m == input.end()) return bad("file.put: \"manifest\" is required");
  PutRequest out;
  HN_TRY_ASSIGN(auto manifest, blobs::parse_blob_manifest(*m));
  out.manifest = std::move(manifest);
  if (auto p = input.find("pin"); p != input.end()) {
    if (!p->is_boolean()) return bad("file.put: \"pin\" must be a boolean");
    out.pin = p->get<bool>();
  }
  if (auto c = input.find("chunks"); c != input.end()) {
    if (!c->is_array()) return bad("file.put: \"chunks\" must be an array");
    if (c->size() > PUT_MAX_CHUNKS_PER_CALL) {
      return bad("file.put: at most " + std::to_string(PUT_MAX_CHUNKS_PER_CALL) +
                 " chunks per call");
    }
    for (const auto& f : *c) {
      HN_TRY_ASSIGN(auto chunk, parse_chunk_frame(f));
      const auto n = static_cast<std::int64_t>(out.manifest.chunks.size());
      if (chunk.index < 0 || chunk.index >= n) {
        return bad("file.put: chunk index outside the manifest");
      }
      const auto& ref = out.manifest.chunks[static_cast<std::size_t>(chunk.index)];
      if (ref.cid != chunk.cid() ||
          ref.size_bytes != static_cast<std::int64_t>(chunk.data().size())) {
        return bad("file.put: chunk " + std::to_string(chunk.index) +
                   " does not match the manifest (CID or size)");
      }
      out.chunks.push_back(std::move(chunk));
    }
  }
  return out;
}

}  // namespace hn::services::files
