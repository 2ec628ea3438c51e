// binary_frames_fuzz.cpp — libFuzzer target for the binary chunk path's parsers of peer bytes:
// the transport's binary stream framing (transport/binary_frames.h), fed whole and split at
// a point the input chooses, and the file service's binary chunk frame
// (services/files/frames.h parse_chunk_frame(data, payload)). Whatever the input, parsing
// returns frames or a typed error, never crashes; both ways of feeding agree; every frame
// respects the bounds; an accepted chunk always hashes to its CID.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "blobs/chunker.h"
#include "services/files/frames.h"
#include "transport/binary_frames.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hn;
  if (size == 0) return 0;
  const std::size_t split = data[0];
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);

  auto whole = transport::decode_binary_frames(bytes);
  // The same bytes in pieces of `split` (at least 1), through payload_room where it offers.
  transport::BinaryFrameParser p;
  std::vector<transport::Frame> pieces;
  bool ok = true;
  for (std::size_t at = 0; at < bytes.size() && ok;) {
    if (auto room = p.payload_room(); !room.empty() && (split & 1)) {
      const std::size_t n = std::min(room.size(), bytes.size() - at);
      std::copy_n(bytes.data() + at, n, room.data());
      ok = p.commit_payload(n, pieces).has_value();
      at += n;
    } else {
      const std::size_t n = std::max<std::size_t>(1, split);
      ok = p.feed(bytes.substr(at, n), pieces).has_value();
      at += n;
    }
  }
  const bool split_ok = ok && p.at_frame_boundary();
  if (whole.has_value() != split_ok) std::abort();
  if (!whole) return 0;
  if (whole->size() != pieces.size()) std::abort();
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const auto& f = (*whole)[i];
    if (f.payload != pieces[i].payload || f.seq != pieces[i].seq || f.event != pieces[i].event) std::abort();
    if (f.payload.size() > transport::MAX_BINARY_FRAME_PAYLOAD_BYTES || f.seq < 1) std::abort();
    if (transport::is_terminal_event(f.event) && !f.payload.empty()) std::abort();
    if (auto chunk = services::files::parse_chunk_frame(f.data, f.payload); chunk.has_value()) {
      if (blobs::hash_bytes(chunk->data()) != chunk->cid()) std::abort();
      if (!std::equal(chunk->data().begin(), chunk->data().end(), f.payload.begin(), f.payload.end())) {
        std::abort();
      }
    }
  }
  return 0;
}
