// llama_text.h — the text side of in-process generation, kept apart from llama.cpp so it is
// tested (and fuzzed) on its own: token pieces are raw bytes, and a token may end inside a
// UTF-8 character; stop sequences may span tokens and must never reach the caller.
//
// Utf8Assembler turns a stream of byte pieces into valid UTF-8 text (an incomplete trailing
// character waits for the next piece; invalid bytes become U+FFFD), so every `token` frame
// is valid JSON text. StopMatcher holds back the shortest tail that could still grow into a
// stop sequence and cuts the text where one appears (CONTRACT §4.1 `stop`).
//
// Thread-safety: plain values; one per generation, used by one thread at a time.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hn::services::llm {

class Utf8Assembler {
 public:
  // Appends `bytes`; returns the complete characters now available.
  std::string push(std::string_view bytes);
  // What is left at the end (an incomplete character becomes U+FFFD).
  std::string finish();

 private:
  std::string m_carry;  // at most 3 bytes: the start of an incomplete character
};

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops);
  // Adds generated text; returns what may be shown now. After a stop sequence appears,
  // stopped() is true, the text before it is returned and the rest is dropped.
  std::string push(std::string_view text);
  // The held-back tail, at the end of a generation that did not stop on a sequence.
  std::string finish();
  bool stopped() const { return m_stopped; }

 private:
  std::vector<std::string> m_stops;  // empty strings removed
  std::string m_pending;
  bool m_stopped = false;
};

}  // namespace hn::services::llm
