// answer.h — ask with sources (issue #15): the local-only stream capability
// `rag.answer@1.0`, one server-side flow that the CLI (`hearthnet ask --corpus`) and the
// dashboard's Ask tab share. It composes over the bus only: `rag.query@1.0` for the corpus
// (which may live on another node), a prompt that quotes the chunks as numbered sources
// [1]…[k] and asks the model to cite them, `llm.chat@1.0` streamed (its token frames
// forwarded as they come, the caller's cancellation passed on), then one `sources` frame
// {sources: [{n, doc_title, page, doc_cid, chunk_id, score}]} and the done frame.
// M05 §1 keeps rag.query itself free of any LLM hop; this is a separate composition the
// node offers its own operator (trust `self`), never remote callers (doc/design/rag.md
// "Ask with sources").
//
// No hit in the corpus: the model is not called; the answer is one token frame saying so,
// an empty sources frame and a done frame with "no_sources": true.
//
// Thread-safety: the handler runs on the rag service's queue threads, concurrently; it
// holds no state of its own. The bus reference must outlive the capability.
#pragma once

#include <string>
#include <vector>

#include "bus/bus.h"
#include "core/json.h"

namespace hn::services::rag {

inline constexpr const char* RAG_ANSWER_CAPABILITY = "rag.answer";
// The most characters of chunk text the prompt quotes in all (about 3,000 tokens), so
// k chunks of RAG_CHUNK_TOKENS fit a small model's context; each source gets an equal share.
inline constexpr std::size_t RAG_ANSWER_CONTEXT_CHARS = 12000;

// One numbered source of an answer (the `sources` frame's items).
struct AnswerSource {
  int n = 0;  // 1-based, as cited in the prompt: [n]
  std::string doc_title;
  int page = 0;  // 0 when the document has no pages
  std::string doc_cid;
  std::string chunk_id;
  double score = 0;
  std::string text;  // the quoted chunk text (not sent in the sources frame)
};

// The sources of a rag.query response body ({"output":{"chunks":[…]}}, CONTRACT §4.4), in
// rank order; malformed entries are skipped.
std::vector<AnswerSource> sources_of_query(const Json& query_response);

// The llm.chat messages: a system message quoting each source as "[n] title, page p:" +
// its text (trimmed to an equal share of context_chars), then the question as the user's.
Json answer_messages(const std::string& question, const std::vector<AnswerSource>& sources,
                     std::size_t context_chars = RAG_ANSWER_CONTEXT_CHARS);

// {"sources": [{n, doc_title, page, doc_cid, chunk_id, score}]}.
Json sources_frame(const std::vector<AnswerSource>& sources);

// The rag.answer@1.0 descriptor: stream only, trust self, max_concurrent 2.
bus::CapabilityDescriptor rag_answer_descriptor();

// The capability (descriptor + stream handler). Its calls go through `bus`; the executor is
// left to the service host (the rag service's queue).
bus::LocalCapability rag_answer_capability(bus::CapabilityBus& bus);

}  // namespace hn::services::rag
