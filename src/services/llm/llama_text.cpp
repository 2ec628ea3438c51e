// llama_text.cpp — Utf8Assembler and StopMatcher.
#include "services/llm/llama_text.h"

#include <algorithm>
#include <utility>

namespace hn::services::llm {
namespace {

constexpr std::string_view REPLACEMENT = "\xEF\xBF\xBD";  // U+FFFD

// The length of the UTF-8 sequence a lead byte starts; 0 for a byte that cannot lead.
std::size_t sequence_length(unsigned char b) {
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return 2;
  if (b >= 0xE0 && b <= 0xEF) return 3;
  if (b >= 0xF0 && b <= 0xF4) return 4;
  return 0;
}

// Whether s[i..i+n) is a valid n-byte sequence (no overlongs, surrogates or > U+10FFFF),
// checking only the bytes present; `complete` is false when s ends before n bytes.
bool valid_prefix(std::string_view s, std::size_t i, std::size_t n, bool& complete) {
  const auto lead = static_cast<unsigned char>(s[i]);
  complete = i + n <= s.size();
  const std::size_t have = std::min(n, s.size() - i);
  for (std::size_t k = 1; k < have; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (k == 1) {
      if (lead == 0xE0) lo = 0xA0;
      if (lead == 0xED) hi = 0x9F;
      if (lead == 0xF0) lo = 0x90;
      if (lead == 0xF4) hi = 0x8F;
    }
    if (c < lo || c > hi) return false;
  }
  return true;
}

}  // namespace

std::string Utf8Assembler::push(std::string_view bytes) {
  std::string in = std::move(m_carry);
  in.append(bytes);
  m_carry.clear();
  std::string out;
  out.reserve(in.size());
  std::size_t i = 0;
  while (i < in.size()) {
    const std::size_t n = sequence_length(static_cast<unsigned char>(in[i]));
    if (n == 0) {
      out.append(REPLACEMENT);
      ++i;
      continue;
    }
    bool complete = false;
    if (!valid_prefix(in, i, n, complete)) {
      out.append(REPLACEMENT);
      ++i;
      continue;
    }
    if (!complete) {
      m_carry = in.substr(i);
      break;
    }
    out.append(in, i, n);
    i += n;
  }
  return out;
}

std::string Utf8Assembler::finish() {
  std::string out = m_carry.empty() ? std::string() : std::string(REPLACEMENT);
  m_carry.clear();
  return out;
}

StopMatcher::StopMatcher(std::vector<std::string> stops) : m_stops(std::move(stops)) {
  std::erase_if(m_stops, [](const std::string& s) { return s.empty(); });
}

std::string StopMatcher::push(std::string_view text) {
  if (m_stopped) return {};
  m_pending.append(text);
  if (m_stops.empty()) return std::exchange(m_pending, {});
  // The earliest stop sequence wins.
  std::size_t cut = std::string::npos;
  for (const auto& s : m_stops) cut = std::min(cut, m_pending.find(s));
  if (cut != std::string::npos) {
    m_stopped = true;
    std::string out = m_pending.substr(0, cut);
    m_pending.clear();
    return out;
  }
  // Hold back the longest tail that is a proper prefix of some stop sequence.
  std::size_t hold = 0;
  for (const auto& s : m_stops) {
    const std::size_t max = std::min(s.size() - 1, m_pending.size());
    for (std::size_t k = max; k > hold; --k) {
      if (std::string_view(m_pending).substr(m_pending.size() - k) ==
          std::string_view(s).substr(0, k)) {
        hold = k;
        break;
      }
    }
  }
  std::string out = m_pending.substr(0, m_pending.size() - hold);
  m_pending.erase(0, m_pending.size() - hold);
  return out;
}

std::string StopMatcher::finish() {
  if (m_stopped) return {};
  return std::exchange(m_pending, {});
}

}  // namespace hn::services::llm
