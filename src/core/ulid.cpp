// ulid.cpp — ULID generation (libsodium randomness) and validation.
// The random part comes from a ChaCha20 keystream per thread, keyed once from the OS
// (randombytes_buf): a fresh millisecond costs no syscall (it was a getrandom() each).
#include "core/ulid.h"

#include <pthread.h>
#include <sodium.h>

#include <array>
#include <atomic>
#include <cstdlib>

namespace hn {
namespace {

constexpr char CROCKFORD[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// Bumped in a forked child, so a child never replays its parent's keystream.
std::atomic<std::uint64_t> g_fork_generation{0};

// Unpredictable bytes without a syscall: this thread's ChaCha20 keystream, keyed once
// (and again after a fork).
void fill_random(std::uint8_t* out, std::size_t n) {
  struct Stream {
    std::array<unsigned char, crypto_stream_chacha20_KEYBYTES> key{};
    std::uint64_t counter = 0;
    std::uint64_t generation = ~std::uint64_t{0};
  };
  static const bool at_fork_registered = [] {
    ::pthread_atfork(nullptr, nullptr, [] { g_fork_generation.fetch_add(1); });
    return true;
  }();
  (void)at_fork_registered;
  thread_local Stream stream;
  if (const auto g = g_fork_generation.load(std::memory_order_relaxed); stream.generation != g) {
    randombytes_buf(stream.key.data(), stream.key.size());
    stream.counter = 0;
    stream.generation = g;
  }
  std::array<unsigned char, crypto_stream_chacha20_NONCEBYTES> nonce{};
  std::uint64_t c = stream.counter++;
  for (std::size_t i = 0; i < nonce.size(); ++i, c >>= 8) nonce[i] = static_cast<unsigned char>(c & 0xff);
  crypto_stream_chacha20(out, n, nonce.data(), stream.key.data());
}

int crockford_value(char c) {
  for (int i = 0; i < 32; ++i) {
    if (CROCKFORD[i] == c) return i;
  }
  return -1;
}

}  // namespace

UlidGenerator::UlidGenerator(const Clock& clock) : m_clock(clock) {
  if (sodium_init() < 0) std::abort();  // no randomness source: nothing can run safely
}

std::string UlidGenerator::next() {
  std::lock_guard lock(m_mutex);
  std::int64_t ms = m_clock.now_ms();
  if (ms <= m_last_ms) {
    ms = m_last_ms;
    // Increment the 80-bit random part; on overflow borrow the next millisecond.
    int i = 9;
    while (i >= 0 && ++m_random[static_cast<size_t>(i)] == 0) --i;
    if (i < 0) {
      ++ms;
      fill_random(m_random.data(), m_random.size());
    }
  } else {
    fill_random(m_random.data(), m_random.size());
  }
  m_last_ms = ms;

  std::array<std::uint8_t, 16> raw{};
  auto t = static_cast<std::uint64_t>(ms);
  for (int i = 5; i >= 0; --i) {
    raw[static_cast<size_t>(i)] = static_cast<std::uint8_t>(t & 0xff);
    t >>= 8;
  }
  std::copy(m_random.begin(), m_random.end(), raw.begin() + 6);

  // 128 bits → 26 chars of 5 bits; the encoding is 130 bits wide with 2 leading zero bits.
  std::string out(26, '0');
  for (int i = 0; i < 26; ++i) {
    int value = 0;
    for (int b = 0; b < 5; ++b) {
      const int bit = i * 5 + b - 2;  // index into the 128-bit big-endian value
      int set = 0;
      if (bit >= 0) set = (raw[static_cast<size_t>(bit / 8)] >> (7 - bit % 8)) & 1;
      value = (value << 1) | set;
    }
    out[static_cast<size_t>(i)] = CROCKFORD[value];
  }
  return out;
}

std::string new_ulid() {
  static UlidGenerator generator;
  return generator.next();
}

bool is_valid_ulid(std::string_view text) {
  if (text.size() != 26 || text[0] > '7') return false;
  for (char c : text) {
    if (crockford_value(c) < 0) return false;
  }
  return true;
}

std::optional<std::int64_t> ulid_timestamp_ms(std::string_view text) {
  if (!is_valid_ulid(text)) return std::nullopt;
  std::int64_t ms = 0;
  for (size_t i = 0; i < 10; ++i) ms = (ms << 5) | crockford_value(text[i]);
  return ms;
}

}  // namespace hn
