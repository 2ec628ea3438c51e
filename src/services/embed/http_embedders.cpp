// http_embedders.cpp — HttpEmbedder: one HTTP(S) POST per call over httpc.
#include "services/embed/http_embedders.h"

#include <cstdlib>

#include "httpc/json_answers.h"

namespace hn::services::embed {
namespace {

// Answers of 256 texts × thousands of dimensions as JSON text are large.
constexpr std::size_t MAX_ANSWER_BYTES = 256u << 20;

}  // namespace

HttpEmbedder::HttpEmbedder(HttpEmbedderOptions options) : m_options(std::move(options)) {}

std::string HttpEmbedder::kind() const {
  return m_options.api == HttpEmbedApi::ollama ? "ollama" : "openai";
}

Result<httpc::Url> HttpEmbedder::endpoint() const {
  auto url = httpc::parse_url(m_options.url);
  if (!url) {
    return make_error(ErrorCode::bad_request, "embedding via '" + m_options.backend_name +
                                                  "': " + url.error().message);
  }
  if (m_options.api == HttpEmbedApi::ollama) return url->with_path("/api/embed");
  return url->path.ends_with("/v1") ? url->with_path("/embeddings")
                                    : url->with_path("/v1/embeddings");
}

Status HttpEmbedder::start() {
  HN_TRY(endpoint());
  m_started = true;
  return {};
}

Result<std::vector<Vector>> parse_embed_answer(HttpEmbedApi api, std::string_view body,
                                               std::size_t texts) {
  Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return make_error(ErrorCode::internal_error, "embedding server: answer is not JSON");
  }
  std::vector<Vector> out(texts);
  std::vector<bool> seen(texts, false);
  auto take = [&](const Json& arr, std::size_t i) -> Status {
    if (i >= texts || seen[i] || !arr.is_array() || arr.empty()) {
      return make_error(ErrorCode::internal_error, "embedding server: malformed vector");
    }
    Vector v;
    v.reserve(arr.size());
    for (const auto& x : arr) {
      if (!x.is_number()) {
        return make_error(ErrorCode::internal_error, "embedding server: non-number in vector");
      }
      v.push_back(x.get<float>());
    }
    if (i > 0 && seen[0] && v.size() != out[0].size()) {
      return make_error(ErrorCode::internal_error, "embedding server: vectors differ in length");
    }
    out[i] = std::move(v);
    seen[i] = true;
    return {};
  };
  if (api == HttpEmbedApi::ollama) {
    auto it = j.find("embeddings");
    if (it == j.end() || !it->is_array() || it->size() != texts) {
      return make_error(ErrorCode::internal_error, "embedding server: no 'embeddings' array");
    }
    for (std::size_t i = 0; i < texts; ++i) HN_TRY(take((*it)[i], i));
  } else {
    auto it = j.find("data");
    if (it == j.end() || !it->is_array() || it->size() != texts) {
      return make_error(ErrorCode::internal_error, "embedding server: no 'data' array");
    }
    for (std::size_t k = 0; k < texts; ++k) {
      const Json& item = (*it)[k];
      if (!item.is_object() || !item.contains("embedding")) {
        return make_error(ErrorCode::internal_error, "embedding server: malformed data item");
      }
      std::size_t index = k;
      if (auto ix = item.find("index"); ix != item.end()) {
        if (!ix->is_number_unsigned()) {
          return make_error(ErrorCode::internal_error, "embedding server: bad index");
        }
        index = ix->get<std::size_t>();
      }
      HN_TRY(take(item["embedding"], index));
    }
  }
  // Every text got a vector, all of one length.
  for (std::size_t i = 0; i < texts; ++i) {
    if (!seen[i] || out[i].size() != out[0].size()) {
      return make_error(ErrorCode::internal_error, "embedding server: vectors missing or uneven");
    }
  }
  return out;
}

Result<std::vector<Vector>> HttpEmbedder::embed(const std::vector<std::string>& texts,
                                                bool normalize, const bus::CancelToken& cancel) {
  HN_TRY_ASSIGN(auto url, endpoint());
  if (cancel.is_cancelled()) {
    return make_error(ErrorCode::timeout, "cancelled by the caller", Json{{"cancelled", true}});
  }
  httpc::Request req;
  req.url = url;
  req.body = Json{{"model", m_options.model}, {"input", texts}}.dump();
  req.connect_timeout = m_options.timeout;
  req.idle_timeout = m_options.timeout;
  if (!m_options.api_key_env.empty()) {
    if (const char* key = std::getenv(m_options.api_key_env.c_str()); key != nullptr && *key) {
      req.headers.emplace_back("Authorization", std::string("Bearer ") + key);
    }
  }
  req.headers.emplace_back("Content-Type", "application/json");
  req.headers.emplace_back("Accept", "application/json");
  auto answer = httpc::fetch(req, cancel, MAX_ANSWER_BYTES);
  if (!answer) {
    Error e = answer.error();
    if (httpc::is_unreachable(e)) e.code = ErrorCode::partition;  // nothing was sent
    return e;
  }
  if (answer->head.status != 200) {
    return httpc::error_from_http(answer->head, answer->body,
                                  "embedding server '" + m_options.backend_name + "'");
  }
  HN_TRY_ASSIGN(auto vectors, parse_embed_answer(m_options.api, answer->body, texts.size()));
  if (!vectors.empty()) m_dim.store(static_cast<int>(vectors.front().size()));
  if (normalize) {
    for (auto& v : vectors) l2_normalize(v);
  }
  return vectors;
}

Json HttpEmbedder::health() const {
  return Json{{"ok", m_started.load()},
              {"kind", kind()},
              {"model", m_options.model},
              {"dim", m_dim.load()},
              {"backend", m_options.backend_name}};
}

std::unique_ptr<Embedder> make_http_embedder(const config::LlmBackendConfig& backend,
                                             const std::string& model) {
  const std::string& type = backend.type();
  HttpEmbedderOptions o;
  if (type == "ollama") {
    o.api = HttpEmbedApi::ollama;
  } else if (type == "llama_server" || type == "vllm" || type == "lmstudio" || type == "nemotron" ||
             type == "openbmb") {
    o.api = HttpEmbedApi::openai;
  } else {
    return nullptr;
  }
  o.backend_name = backend.name;
  o.url = backend.url.value_or("");
  o.model = model;
  o.api_key_env = backend.api_key_env.value_or("");
  return std::make_unique<HttpEmbedder>(std::move(o));
}

}  // namespace hn::services::embed
