// http_embedders.cpp — HttpEmbedder: one synchronous HTTP/1.1 POST per call (Boost.Beast).
#include "services/embed/http_embedders.h"

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdlib>

namespace hn::services::embed {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

}  // namespace

HttpEmbedder::HttpEmbedder(HttpEmbedderOptions options) : m_options(std::move(options)) {}

std::string HttpEmbedder::kind() const {
  return m_options.api == HttpEmbedApi::ollama ? "ollama" : "openai";
}

Status HttpEmbedder::start() {
  const std::string& url = m_options.url;
  const std::string scheme = "http://";
  if (!url.starts_with(scheme)) {
    return make_error(ErrorCode::bad_request, "embedding via '" + m_options.backend_name +
                                                  "': url '" + url +
                                                  "' is not http://host[:port][/path]");
  }
  std::string rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string base = slash == std::string::npos ? "" : rest.substr(slash);
  while (!base.empty() && base.back() == '/') base.pop_back();
  const auto colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']') == std::string::npos) {
    m_host = authority.substr(0, colon);
    m_port = authority.substr(colon + 1);
  } else {
    m_host = authority;
    m_port = "80";
  }
  if (m_host.empty() || m_port.empty() ||
      m_port.find_first_not_of("0123456789") != std::string::npos) {
    return make_error(ErrorCode::bad_request, "embedding via '" + m_options.backend_name +
                                                  "': url '" + url + "' has no host:port");
  }
  if (m_options.api == HttpEmbedApi::ollama) {
    m_path = base + "/api/embed";
  } else {
    m_path = base.ends_with("/v1") ? base + "/embeddings" : base + "/v1/embeddings";
  }
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
  if (m_path.empty()) HN_TRY(start());
  if (cancel.is_cancelled()) {
    return make_error(ErrorCode::timeout, "cancelled by the caller", Json{{"cancelled", true}});
  }
  const Json request{{"model", m_options.model}, {"input", texts}};
  std::string answer;
  unsigned status = 0;
  try {
    asio::io_context io;
    beast::tcp_stream stream(io);
    asio::ip::tcp::resolver resolver(io);
    stream.expires_after(m_options.timeout);
    beast::error_code ec;
    auto endpoints = resolver.resolve(m_host, m_port, ec);
    if (!ec) stream.connect(endpoints, ec);
    if (ec) {
      return make_error(ErrorCode::partition, "embedding server '" + m_options.backend_name +
                                                  "' unreachable: " + ec.message());
    }
    http::request<http::string_body> req{http::verb::post, m_path, 11};
    req.set(http::field::host, m_host + ":" + m_port);
    req.set(http::field::content_type, "application/json");
    req.set(http::field::accept, "application/json");
    if (!m_options.api_key_env.empty()) {
      if (const char* key = std::getenv(m_options.api_key_env.c_str()); key != nullptr && *key) {
        req.set(http::field::authorization, std::string("Bearer ") + key);
      }
    }
    req.body() = request.dump();
    req.prepare_payload();
    http::write(stream, req, ec);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(256u << 20);
    if (!ec) http::read(stream, buffer, parser, ec);
    if (ec == beast::error::timeout) {
      return make_error(ErrorCode::timeout,
                        "embedding server '" + m_options.backend_name + "' did not answer in time");
    }
    if (ec) {
      return make_error(ErrorCode::partition,
                        "embedding server '" + m_options.backend_name + "': " + ec.message());
    }
    status = parser.get().result_int();
    answer = std::move(parser.get().body());
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::internal_error, std::string("embedding server: ") + e.what());
  }
  if (status == 404) {
    return make_error(ErrorCode::not_found, "embedding server '" + m_options.backend_name +
                                                "' does not serve model '" + m_options.model +
                                                "' (HTTP 404)");
  }
  if (status != 200) {
    return make_error(ErrorCode::internal_error, "embedding server '" + m_options.backend_name +
                                                     "' answered HTTP " + std::to_string(status));
  }
  HN_TRY_ASSIGN(auto vectors, parse_embed_answer(m_options.api, answer, texts.size()));
  if (!vectors.empty()) m_dim.store(static_cast<int>(vectors.front().size()));
  if (normalize) {
    for (auto& v : vectors) l2_normalize(v);
  }
  return vectors;
}

Json HttpEmbedder::health() const {
  return Json{{"ok", !m_path.empty()},
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
