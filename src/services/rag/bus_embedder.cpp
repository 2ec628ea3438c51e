// bus_embedder.cpp — embed.text and embed.tokenize through the bus.
#include "services/rag/bus_embedder.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "core/constants.h"

namespace hn::services::rag {
namespace {

const Version V10{1, 0};

std::string model_of(const bus::CapabilityEntry& e) {
  const Json& p = e.descriptor.params.get();
  return p.is_object() ? p.value("model", std::string()) : std::string();
}

// Cuts a text to embed.text's limit of characters (CONTRACT §4.3) at a UTF-8 boundary.
// The chunker keeps chunks under it already; this guards the query text.
std::string within_limit(const std::string& text) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && ++chars > EMBED_MAX_TEXT_CHARS) {
      return text.substr(0, i);
    }
  }
  return text;
}

}  // namespace

BusEmbedder::BusEmbedder(bus::CapabilityBus& bus, std::string configured)
    : m_bus(bus), m_configured(std::move(configured)) {}

std::string BusEmbedder::choose_model(const std::string& corpus_model) const {
  if (!m_configured.empty()) return m_configured;
  if (!corpus_model.empty()) return corpus_model;
  // Local providers come first in find()'s order.
  for (const auto& e : m_bus.registry().find(EMBED_TEXT, V10)) {
    if (auto m = model_of(e); !m.empty()) return m;
  }
  return {};
}

bool BusEmbedder::offered(const std::string& model) const {
  if (model.empty()) return false;
  const auto found = m_bus.registry().find(EMBED_TEXT, V10);
  return std::any_of(found.begin(), found.end(),
                     [&](const bus::CapabilityEntry& e) { return model_of(e) == model; });
}

Result<std::vector<std::vector<float>>> BusEmbedder::embed(
    const std::string& model, const std::vector<std::string>& texts, const bus::CancelToken& cancel,
    const std::function<Status(std::size_t done)>& on_batch, std::size_t batch_size) {
  const std::size_t per_call =
      batch_size == 0 ? EMBED_MAX_TEXTS : std::min(batch_size, EMBED_MAX_TEXTS);
  std::vector<std::vector<float>> out;
  out.reserve(texts.size());
  for (std::size_t start = 0; start < texts.size(); start += per_call) {
    const std::size_t end = std::min(texts.size(), start + per_call);
    Json batch = Json::array();
    for (std::size_t i = start; i < end; ++i) batch.push_back(within_limit(texts[i]));
    bus::CallOptions o;
    o.cancel = cancel;
    ++m_calls;
    HN_TRY_ASSIGN(auto r, m_bus.call(EMBED_TEXT, V10,
                                     Json{{"params", {{"model", model}}},
                                          {"input", {{"texts", std::move(batch)}}}},
                                     o));
    const Json* vectors = nullptr;
    if (auto out_it = r.find("output"); out_it != r.end() && out_it->is_object()) {
      if (auto v = out_it->find("embeddings"); v != out_it->end() && v->is_array()) vectors = &*v;
    }
    if (vectors == nullptr || vectors->size() != end - start) {
      return make_error(ErrorCode::internal_error,
                        "embed.text answered without one embedding per text");
    }
    for (const auto& v : *vectors) {
      if (!v.is_array() || v.empty()) {
        return make_error(ErrorCode::internal_error, "embed.text answered an empty embedding");
      }
      std::vector<float> vec;
      vec.reserve(v.size());
      for (const auto& x : v) {
        if (!x.is_number()) {
          return make_error(ErrorCode::internal_error, "embed.text answered a non-numeric embedding");
        }
        vec.push_back(x.get<float>());
      }
      if (!out.empty() && vec.size() != out.front().size()) {
        return make_error(ErrorCode::internal_error, "embed.text answered vectors of two sizes");
      }
      out.push_back(std::move(vec));
    }
    if (on_batch) HN_TRY(on_batch(end));
  }
  return out;
}

std::optional<ModelTokenizer> BusEmbedder::tokenizer(const std::string& model) {
  if (model.empty()) return std::nullopt;
  bus::CallOptions o;
  o.target_node = m_bus.our_node_id();  // local-only: this node's own tokenizer
  auto call = [this, model, o](Json texts) -> Result<Json> {
    return m_bus.call(EMBED_TOKENIZE, V10,
                      Json{{"params", {{"model", model}}}, {"input", {{"texts", std::move(texts)}}}}, o);
  };
  auto probe = call(Json::array({"probe"}));
  if (!probe) return std::nullopt;
  ModelTokenizer t;
  t.max_tokens = (*probe)["output"].value("max_tokens", 0);
  struct Memo {
    std::mutex mutex;
    std::unordered_map<std::string, int> counts;  // for the one-by-one counter
    bool failed = false;  // the tokenizer went away: approximate from here on
  };
  auto memo = std::make_shared<Memo>();
  // Many texts, EMBED_MAX_TEXTS to a call (embed.tokenize's limit, as embed.text's).
  t.count_batch = [call, memo](const std::vector<std::string_view>& texts) -> std::vector<int> {
    std::vector<int> out(texts.size());
    std::size_t done = 0;
    bool failed = false;
    {
      std::lock_guard lock(memo->mutex);
      failed = memo->failed;
    }
    while (!failed && done < texts.size()) {
      const std::size_t end = std::min(texts.size(), done + EMBED_MAX_TEXTS);
      Json batch = Json::array();
      for (std::size_t i = done; i < end; ++i) batch.push_back(std::string(texts[i]));
      auto r = call(std::move(batch));
      const Json counts = r ? (*r)["output"].value("counts", Json()) : Json();
      const bool ok = counts.is_array() && counts.size() == end - done &&
                      std::all_of(counts.begin(), counts.end(), [](const Json& c) { return c.is_number_integer(); });
      if (!ok) {
        std::lock_guard lock(memo->mutex);
        memo->failed = failed = true;
        break;
      }
      for (std::size_t i = done; i < end; ++i) out[i] = counts[i - done].get<int>();
      done = end;
    }
    for (std::size_t i = done; i < texts.size(); ++i) out[i] = approximate_tokens(texts[i]);
    return out;
  };
  // One text at a time; the chunker asks for the same pieces more than once (window and
  // overlap): a memo.
  t.count = [count_batch = t.count_batch, memo](std::string_view text) -> int {
    std::string key(text);
    {
      std::lock_guard lock(memo->mutex);
      if (auto it = memo->counts.find(key); it != memo->counts.end()) return it->second;
    }
    const int n = count_batch({text}).front();
    std::lock_guard lock(memo->mutex);
    if (!memo->failed && memo->counts.size() < 100000) memo->counts.emplace(std::move(key), n);
    return n;
  };
  return t;
}

}  // namespace hn::services::rag
