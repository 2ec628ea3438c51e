// answer.cpp — rag.answer@1.0 (see answer.h): rag.query, the prompt with numbered sources,
// llm.chat streamed and forwarded, then the sources frame. Everything goes through the bus.
#include "services/rag/answer.h"

#include <chrono>

#include "core/constants.h"

namespace hn::services::rag {
namespace {

const Version V1{1, 0};

constexpr const char* REQUEST_SCHEMA = R"({
  "type": "object",
  "required": ["input"],
  "properties": {
    "params": {"type": "object"},
    "input": {
      "type": "object",
      "required": ["question", "corpus"],
      "additionalProperties": false,
      "properties": {
        "question": {"type": "string", "minLength": 1, "maxLength": 8192},
        "corpus": {"type": "string", "minLength": 1, "maxLength": 64},
        "k": {"type": "integer", "minimum": 1, "maximum": 20},
        "model": {"type": "string", "minLength": 1, "maxLength": 512},
        "max_tokens": {"type": "integer", "minimum": 1, "maximum": 1000000},
        "temperature": {"type": "number", "minimum": 0, "maximum": 2},
        "seed": {"type": ["integer", "null"]},
        "stream": {"type": "boolean", "default": true}
      }
    }
  }
})";

// A token frame of llm.chat (forwarded as is) or the sources frame.
constexpr const char* FRAME_SCHEMA = R"({
  "type": "object",
  "properties": {
    "text": {"type": "string"},
    "logprob": {"type": "number"},
    "sources": {
      "type": "array",
      "items": {
        "type": "object",
        "required": ["n", "doc_title", "page", "doc_cid", "chunk_id", "score"],
        "properties": {
          "n": {"type": "integer", "minimum": 1},
          "doc_title": {"type": "string"},
          "page": {"type": "integer", "minimum": 0},
          "doc_cid": {"type": "string"},
          "chunk_id": {"type": "string"},
          "score": {"type": "number"}
        }
      }
    }
  }
})";

std::int64_t elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - since)
      .count();
}

std::string string_at(const Json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// At most `limit` bytes of text, cut at a UTF-8 character boundary, "…" marking a cut.
std::string trimmed(const std::string& text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end) + "…";
}

// The same error with a sentence that says what to do next and where it happened.
Error explained(Error e, const std::string& stage, const std::string& corpus) {
  Json detail = e.detail.is_object() ? e.detail : Json::object();
  detail["stage"] = stage;
  detail["corpus"] = corpus;
  if (stage == "retrieval" && e.code == ErrorCode::not_found) {
    e.message = "no corpus \"" + corpus + "\" on the mesh (`hearthnet rag list` shows the corpora): " +
                e.message;
  } else if (stage == "generation" && (e.code == ErrorCode::not_found || e.code == ErrorCode::schema_mismatch)) {
    e.message = "no language model on the mesh answers llm.chat (configure a [[llm.backends]] entry on a "
                "node, or pick one of `hearthnet models` with --model): " +
                e.message;
  }
  e.detail = std::move(detail);
  return e;
}

Result<Json> handle_answer(bus::CapabilityBus& bus, const bus::CallContext& ctx, const Json& body,
                           const bus::FrameSink& emit) {
  const auto started = std::chrono::steady_clock::now();
  const Json& in = body.at("input");
  const std::string question = in.at("question").get<std::string>();
  const std::string corpus = in.at("corpus").get<std::string>();
  const int k = in.value("k", RAG_DEFAULT_K);

  bus::CallOptions o;  // the node's own call, on behalf of its operator
  o.caller_trust = TrustLevel::self;
  // No shared trace id: a remote call's request_id is its trace id, so rag.query and
  // llm.chat sent to the same peer under one id would be refused as a replay.
  o.cancel = ctx.cancel;
  if (ctx.request.deadline_ms > 0) o.deadline_ms = ctx.request.deadline_ms;

  // 1. Retrieval: the corpus may be on any node (rag.query routes by params.corpus).
  const Json query{{"params", {{"corpus", corpus}}},
                   {"input", {{"query", question}, {"k", k}, {"include_text", true}}}};
  auto retrieved = bus.call("rag.query", V1, query, o);
  if (!retrieved) return explained(retrieved.take_error(), "retrieval", corpus);
  const std::vector<AnswerSource> sources = sources_of_query(*retrieved);
  const std::int64_t retrieval_ms = elapsed_ms(started);
  Json done{{"corpus", corpus},
            {"sources", static_cast<std::int64_t>(sources.size())},
            {"retrieval_ms", retrieval_ms}};
  if (auto meta = retrieved->find("meta"); meta != retrieved->end() && meta->is_object()) {
    if (auto m = meta->find("embedding_model"); m != meta->end()) done["embedding_model"] = *m;
  }

  // 2. Nothing to quote: say so without asking a model (it would only guess).
  if (sources.empty()) {
    HN_TRY(emit(bus::StreamFrame{
        "token", Json{{"text", "The corpus \"" + corpus + "\" holds nothing that matches this question."}}}));
    HN_TRY(emit(bus::StreamFrame{"sources", sources_frame(sources)}));
    done["no_sources"] = true;
    done["ms"] = elapsed_ms(started);
    return done;
  }

  // 3. Generation: llm.chat streamed, its token frames forwarded as they come.
  Json chat_input{{"messages", answer_messages(question, sources)}, {"stream", true}};
  for (const char* key : {"max_tokens", "temperature", "seed"}) {
    if (auto it = in.find(key); it != in.end()) chat_input[key] = *it;
  }
  Json chat{{"input", std::move(chat_input)}};
  if (in.contains("model")) chat["params"] = {{"model", in.at("model")}};
  auto generated = bus.stream("llm.chat", V1, chat, [&](bus::StreamFrame f) -> Status { return emit(std::move(f)); },
                              o);
  if (!generated) return explained(generated.take_error(), "generation", corpus);

  // 4. The sources the prompt numbered, then done (the model's usage beside ours).
  HN_TRY(emit(bus::StreamFrame{"sources", sources_frame(sources)}));
  if (generated->is_object()) {
    for (auto it = generated->begin(); it != generated->end(); ++it) {
      if (!done.contains(it.key())) done[it.key()] = it.value();
    }
  }
  done["ms"] = elapsed_ms(started);
  return done;
}

}  // namespace

std::vector<AnswerSource> sources_of_query(const Json& query_response) {
  std::vector<AnswerSource> out;
  if (!query_response.is_object()) return out;
  auto output = query_response.find("output");
  if (output == query_response.end() || !output->is_object()) return out;
  auto chunks = output->find("chunks");
  if (chunks == output->end() || !chunks->is_array()) return out;
  for (const auto& c : *chunks) {
    if (!c.is_object()) continue;
    auto meta = c.find("metadata");
    if (meta == c.end() || !meta->is_object()) continue;
    AnswerSource s;
    s.n = static_cast<int>(out.size()) + 1;
    s.doc_title = string_at(*meta, "doc_title");
    s.doc_cid = string_at(*meta, "doc_cid");
    s.chunk_id = string_at(*meta, "chunk_id");
    if (auto p = meta->find("page"); p != meta->end() && p->is_number_integer()) s.page = p->get<int>();
    if (auto sc = c.find("score"); sc != c.end() && sc->is_number()) s.score = sc->get<double>();
    s.text = string_at(c, "text");
    if (s.doc_cid.empty() && s.chunk_id.empty()) continue;
    out.push_back(std::move(s));
  }
  return out;
}

Json answer_messages(const std::string& question, const std::vector<AnswerSource>& sources,
                     std::size_t context_chars) {
  std::string system =
      "You answer questions from the community's documents. Use only the numbered sources below. "
      "Cite every source you use by its number in square brackets, like [1]. If the sources do "
      "not contain the answer, say so.\n\nSources:\n";
  const std::size_t share = sources.empty() ? context_chars : context_chars / sources.size();
  for (const auto& s : sources) {
    system += "\n[" + std::to_string(s.n) + "] " + (s.doc_title.empty() ? s.doc_cid : s.doc_title);
    if (s.page > 0) system += ", page " + std::to_string(s.page);
    system += ":\n" + trimmed(s.text, share) + "\n";
  }
  return Json::array({Json{{"role", "system"}, {"content", system}}, Json{{"role", "user"}, {"content", question}}});
}

Json sources_frame(const std::vector<AnswerSource>& sources) {
  Json items = Json::array();
  for (const auto& s : sources) {
    items.push_back(Json{{"n", s.n},
                         {"doc_title", s.doc_title},
                         {"page", s.page},
                         {"doc_cid", s.doc_cid},
                         {"chunk_id", s.chunk_id},
                         {"score", s.score}});
  }
  return Json{{"sources", std::move(items)}};
}

bus::CapabilityDescriptor rag_answer_descriptor() {
  bus::CapabilityDescriptor d;
  d.name = RAG_ANSWER_CAPABILITY;
  d.version = V1;
  d.stability = Stability::beta;
  d.request_schema = Json::parse(REQUEST_SCHEMA);
  d.stream_schema = Json::parse(FRAME_SCHEMA);
  d.max_concurrent = 2;  // each answer holds a rag thread while the model generates
  d.trust_required = TrustLevel::self;
  d.timeout_seconds = LLM_GENERATION_DEFAULT_TIMEOUT_SECONDS + 30;
  d.idempotent = false;
  return d;
}

bus::LocalCapability rag_answer_capability(bus::CapabilityBus& bus) {
  bus::LocalCapability cap;
  cap.descriptor = rag_answer_descriptor();
  bus::CapabilityBus* b = &bus;
  cap.stream_handler = [b](const bus::CallContext& ctx, const Json& body,
                           const bus::FrameSink& emit) -> Result<Json> {
    return handle_answer(*b, ctx, body, emit);
  };
  return cap;
}

}  // namespace hn::services::rag
