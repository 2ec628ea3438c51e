// descriptors.cpp — the RAG service's descriptors (M05 §3.5, CONTRACT §4.4–4.6), its
// local-only extensions rag.ingest_stream and rag.reindex, and rag.query's params and
// predicate. Request schemas check shapes only: the limits a caller can get wrong (k > 20,
// a bad corpus name, a bad CID) are the handlers' and come back as bad_request, as the
// contract names them (§4.4 "bad_request — k > 20"), not as schema_mismatch.
#include "services/rag/rag_service.h"

#include "bus/descriptor.h"

namespace hn::services::rag {
namespace {

bus::CapabilityDescriptor base(const char* name, TrustLevel trust, int max_concurrent,
                               int timeout_seconds) {
  return bus::stable_descriptor(name, trust, max_concurrent, timeout_seconds);
}

// {"params"?: {<params>}, "input": {<input>}}.
Json request_schema(Json params, Json input, Json required_input) {
  return Json{{"type", "object"},
              {"required", Json::array({"input"})},
              {"properties",
               {{"params", {{"type", "object"}, {"properties", std::move(params)}}},
                {"input",
                 {{"type", "object"},
                  {"required", std::move(required_input)},
                  {"properties", std::move(input)}}}}}};
}

const Json STRING = Json{{"type", "string"}};
const Json OBJECT = Json{{"type", "object"}};

Json ingest_input() {
  return Json{{"doc_cid", STRING},       {"title", STRING},
              {"language", STRING},      {"metadata", OBJECT},
              {"media_type", STRING}};
}

// The contract's rag.ingest response (§4.5); also the done data of rag.ingest_stream.
Json ingest_response() {
  return Json::parse(R"({
    "type": "object",
    "required": ["output", "meta"],
    "properties": {
      "output": {"type": "object", "required": ["doc_cid", "chunks_indexed", "tokens_indexed"],
                 "properties": {"doc_cid": {"type": "string"}, "chunks_indexed": {"type": "integer"},
                                "tokens_indexed": {"type": "integer"}}},
      "meta": {"type": "object", "required": ["corpus", "ms", "ingest_event_id"]}
    }
  })");
}

}  // namespace

bus::CapabilityDescriptor rag_query_descriptor() {
  auto d = base(RAG_QUERY, TrustLevel::member, 4, 10);
  d.request_schema = Json{
      {"type", "object"},
      {"required", Json::array({"params", "input"})},
      {"properties",
       {{"params", {{"type", "object"}, {"required", Json::array({"corpus"})}, {"properties", {{"corpus", STRING}}}}},
        {"input",
         {{"type", "object"},
          {"required", Json::array({"query"})},
          {"properties",
           {{"query", STRING},
            {"k", {{"type", "integer"}}},
            {"filter", OBJECT},
            {"include_text", {{"type", "boolean"}}}}}}}}}};
  d.response_schema = Json::parse(R"({
    "type": "object",
    "required": ["output", "meta"],
    "properties": {
      "output": {"type": "object", "required": ["chunks"], "properties": {
        "chunks": {"type": "array", "items": {
          "type": "object",
          "required": ["rank", "score", "text", "metadata"],
          "properties": {
            "rank": {"type": "integer"}, "score": {"type": "number"}, "text": {"type": "string"},
            "metadata": {"type": "object", "required": ["doc_cid", "doc_title", "page", "chunk_id"]}
          }
        }}
      }},
      "meta": {"type": "object", "required": ["corpus", "ms", "embedding_model"]}
    }
  })");
  return d;
}

bus::CapabilityDescriptor rag_ingest_descriptor() {
  auto d = base(RAG_INGEST, TrustLevel::trusted, 2, 300);
  d.request_schema = request_schema(Json{{"corpus", STRING}}, ingest_input(), Json::array({"doc_cid"}));
  d.response_schema = ingest_response();
  return d;
}

bus::CapabilityDescriptor rag_list_corpora_descriptor() {
  auto d = base(RAG_LIST_CORPORA, TrustLevel::member, 8, 5);
  d.request_schema = Json{{"type", "object"}};
  d.response_schema = Json::parse(R"({
    "type": "object",
    "required": ["output"],
    "properties": {
      "output": {"type": "object", "required": ["corpora"], "properties": {
        "corpora": {"type": "array", "items": {
          "type": "object",
          "required": ["name", "docs", "chunks", "size_bytes", "language_majority"]
        }}
      }},
      "meta": {"type": "object"}
    }
  })");
  return d;
}

bus::CapabilityDescriptor rag_ingest_stream_descriptor() {
  // Local-only (self): the node's own CLI and UI show an ingest's progress.
  auto d = base(RAG_INGEST_STREAM, TrustLevel::self, 2, 3600);
  d.request_schema = request_schema(Json{{"corpus", STRING}}, ingest_input(), Json::array({"doc_cid"}));
  d.stream_schema = OBJECT;  // progress frames; the done frame is rag.ingest's response
  return d;
}

bus::CapabilityDescriptor rag_reindex_descriptor() {
  auto d = base(RAG_REINDEX, TrustLevel::self, 1, 3600);
  d.request_schema = request_schema(Json::object(),
                                    Json{{"corpus", STRING}, {"embedding_model", STRING}},
                                    Json::array({"corpus"}));
  d.response_schema = Json{{"type", "object"}, {"required", Json::array({"output", "meta"})}};
  return d;
}

Json query_params(const std::map<std::string, std::string>& corpora) {
  Json names = Json::array();
  Json models = Json::object();
  for (const auto& [name, model] : corpora) {
    names.push_back(name);
    models[name] = model;
  }
  Json p{{"corpora", names}, {"embedding_models", models}, {"k_max", RAG_MAX_K}};
  if (!corpora.empty()) {
    // M05 §3.5's single-corpus shape, for the first (a node may hold several: "corpora").
    p["corpus"] = corpora.begin()->first;
    p["embedding_model"] = corpora.begin()->second;
  }
  return p;
}

bool query_params_compatible(const Json& offered, const Json& requested) {
  if (!requested.is_object() || !offered.is_object()) return false;
  const auto want = requested.find("corpus");
  if (want == requested.end() || !want->is_string()) return false;
  if (auto one = offered.find("corpus"); one != offered.end() && *one == *want) return true;
  if (auto all = offered.find("corpora"); all != offered.end() && all->is_array()) {
    for (const auto& name : *all) {
      if (name == *want) return true;
    }
  }
  return false;
}

}  // namespace hn::services::rag
