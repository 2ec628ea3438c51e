// embeddings.cpp — OpenAI-compatible and Ollama embedding calls.
#include "services/llm/http/embeddings.h"

#include <cmath>

namespace hn::services::llm::http {
namespace {

Result<std::vector<float>> read_vector(const Json& v, std::string_view backend) {
  if (!v.is_array() || v.empty()) {
    return make_error(ErrorCode::internal_error,
                      "backend '" + std::string(backend) + "' sent an embedding that is not a vector");
  }
  std::vector<float> out;
  out.reserve(v.size());
  for (const auto& x : v) {
    if (!x.is_number()) {
      return make_error(ErrorCode::internal_error,
                        "backend '" + std::string(backend) + "' sent a non-number in an embedding");
    }
    out.push_back(x.get<float>());
  }
  return out;
}

Status finish(Embeddings& e, std::size_t expected, bool normalize, std::string_view backend) {
  if (e.vectors.size() != expected) {
    return make_error(ErrorCode::internal_error, "backend '" + std::string(backend) + "' sent " +
                                                     std::to_string(e.vectors.size()) +
                                                     " embeddings for " + std::to_string(expected) +
                                                     " texts");
  }
  e.dim = e.vectors.empty() ? 0 : static_cast<int>(e.vectors[0].size());
  for (auto& v : e.vectors) {
    if (static_cast<int>(v.size()) != e.dim) {
      return make_error(ErrorCode::internal_error,
                        "backend '" + std::string(backend) + "' sent vectors of different sizes");
    }
    if (normalize) l2_normalize(v);
  }
  return {};
}

}  // namespace

void l2_normalize(std::vector<float>& v) {
  double sum = 0;
  for (float x : v) sum += static_cast<double>(x) * x;
  if (sum <= 0) return;
  const double inv = 1.0 / std::sqrt(sum);
  for (float& x : v) x = static_cast<float>(x * inv);
}

Result<Embeddings> OpenAiEmbeddings::embed(const std::string& model,
                                           const std::vector<std::string>& texts, bool normalize,
                                           const bus::CancelToken& cancel) {
  const Url base = m_s.url.path.ends_with("/v1") ? m_s.url : m_s.url.with_path("/v1");
  HN_TRY_ASSIGN(auto j, exchange_json(m_s, "POST", base.with_path("/embeddings"), {},
                                 Json{{"model", model}, {"input", texts}}, cancel));
  if (!j.is_object()) {
    return make_error(ErrorCode::internal_error, "backend '" + m_s.name + "' sent no object");
  }
  Embeddings e;
  const Json& data = field(j, "data");
  if (!data.is_array()) {
    return make_error(ErrorCode::internal_error, "backend '" + m_s.name + "' sent no data array");
  }
  e.vectors.resize(data.size());
  for (std::size_t i = 0; i < data.size(); ++i) {
    const Json& item = data[i];
    std::size_t index = i;
    if (field(item, "index").is_number_unsigned()) index = field(item, "index").get<std::size_t>();
    if (index >= data.size() || !item.is_object()) {
      return make_error(ErrorCode::internal_error, "backend '" + m_s.name + "' sent a bad index");
    }
    HN_TRY_ASSIGN(auto v, read_vector(field(item, "embedding"), m_s.name));
    e.vectors[index] = std::move(v);
  }
  if (const Json& pt = field(field(j, "usage"), "prompt_tokens"); pt.is_number_integer()) {
    e.tokens_in = pt.get<int>();
  }
  HN_TRY(finish(e, texts.size(), normalize, m_s.name));
  return e;
}

Result<Embeddings> OllamaEmbeddings::embed(const std::string& model,
                                           const std::vector<std::string>& texts, bool normalize,
                                           const bus::CancelToken& cancel) {
  HN_TRY_ASSIGN(auto j, exchange_json(m_s, "POST", m_s.url.with_path("/api/embed"), {},
                                 Json{{"model", model}, {"input", texts}}, cancel));
  if (!j.is_object()) {
    return make_error(ErrorCode::internal_error, "backend '" + m_s.name + "' sent no object");
  }
  Embeddings e;
  const Json& list = field(j, "embeddings");
  if (!list.is_array()) {
    return make_error(ErrorCode::internal_error, "backend '" + m_s.name + "' sent no embeddings");
  }
  for (const auto& v : list) {
    HN_TRY_ASSIGN(auto vec, read_vector(v, m_s.name));
    e.vectors.push_back(std::move(vec));
  }
  if (field(j, "prompt_eval_count").is_number_integer()) {
    e.tokens_in = field(j, "prompt_eval_count").get<int>();
  }
  HN_TRY(finish(e, texts.size(), normalize, m_s.name));
  return e;
}

}  // namespace hn::services::llm::http
