// lexical_file.cpp — the lexical index's file (see lexical_file.h).
#include "services/rag/lexical_file.h"

#include <cstring>
#include <vector>

#include "core/file_util.h"
#include "core/hash.h"
#include "core/json.h"

namespace hn::services::rag {

namespace fs = std::filesystem;

namespace {

constexpr char MAGIC[8] = {'H', 'N', 'L', 'E', 'X', 'I', 'D', 'X'};
constexpr std::size_t DIGEST_BYTES = 32;
constexpr std::size_t MAX_NONCE = 64;

void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

std::uint64_t get_u64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

Error corrupt(const fs::path& file, const std::string& why) {
  return make_error(ErrorCode::db_corrupt, "lexical index " + file.string() + ": " + why,
                    Json{{"reason", "corrupt"}});
}

}  // namespace

Status save_lexical_file(const fs::path& file, const LexicalIndex& index, const TextStamp& stamp) {
  if (stamp.nonce.size() > MAX_NONCE) return make_error(ErrorCode::internal_error, "text stamp too long");
  std::string out(MAGIC, sizeof MAGIC);
  put_u64(out, LEXICAL_FILE_VERSION);
  put_u64(out, static_cast<std::uint64_t>(stamp.writes));
  put_u64(out, stamp.nonce.size());
  out += stamp.nonce;
  const std::size_t length_at = out.size();
  put_u64(out, 0);  // the body's length, set below
  const std::size_t body_at = out.size();
  index.encode(out);
  const std::uint64_t body = out.size() - body_at;
  for (int i = 0; i < 8; ++i) out[length_at + static_cast<std::size_t>(i)] = static_cast<char>((body >> (8 * i)) & 0xFF);
  const Digest digest = blake3_digest(std::span(reinterpret_cast<const std::uint8_t*>(out.data()), out.size()));
  out.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  return atomic_write_file(file, out);
}

Result<LexicalIndex> load_lexical_file(const fs::path& file, const TextStamp& stamp) {
  auto read = read_file(file, std::uintmax_t{1} << 34);
  if (!read) {
    if (read.error().code == ErrorCode::not_found) return read.error();
    return corrupt(file, read.error().message);
  }
  const std::string& bytes = *read;
  // Magic, version, writes, nonce size: 32 bytes; then the nonce, the body's length, the body
  // and the digest.
  if (bytes.size() < 32 + 8 + DIGEST_BYTES || std::memcmp(bytes.data(), MAGIC, sizeof MAGIC) != 0)
    return corrupt(file, "not a lexical index file");
  const std::size_t signed_bytes = bytes.size() - DIGEST_BYTES;
  const Digest digest =
      blake3_digest(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), signed_bytes));
  if (std::memcmp(digest.data(), bytes.data() + signed_bytes, DIGEST_BYTES) != 0)
    return corrupt(file, "checksum mismatch (torn or altered)");
  if (get_u64(bytes.data() + 8) != LEXICAL_FILE_VERSION) return corrupt(file, "another format version");
  const std::uint64_t nonce_size = get_u64(bytes.data() + 24);
  if (nonce_size > MAX_NONCE || 32 + nonce_size + 8 > signed_bytes) return corrupt(file, "bad header");
  TextStamp saved;
  saved.writes = static_cast<std::int64_t>(get_u64(bytes.data() + 16));
  saved.nonce.assign(bytes.data() + 32, nonce_size);
  const std::size_t body_at = 32 + nonce_size + 8;
  if (get_u64(bytes.data() + 32 + nonce_size) != signed_bytes - body_at) return corrupt(file, "bad body length");
  if (saved != stamp)
    return make_error(ErrorCode::db_corrupt,
                      "saved at text write " + std::to_string(saved.writes) +
                          ", the database is at " + std::to_string(stamp.writes),
                      Json{{"reason", "stale"}, {"file_writes", saved.writes}, {"db_writes", stamp.writes}});
  auto index = LexicalIndex::decode(std::string_view(bytes).substr(body_at, signed_bytes - body_at));
  if (!index) return corrupt(file, "malformed postings");
  return std::move(*index);
}

void remove_lexical_temp_files(const fs::path& dir) {
  const std::string prefix = "." + std::string(LEXICAL_FILE) + ".tmp";
  std::error_code ec;
  std::vector<fs::path> stale;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename().string().rfind(prefix, 0) == 0) stale.push_back(it->path());
  for (const auto& p : stale) fs::remove(p, ec);
}

}  // namespace hn::services::rag
