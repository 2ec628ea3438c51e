// retrieval.cpp — the metadata filter and RRF (see retrieval.h).
#include "services/rag/retrieval.h"

#include <algorithm>
#include <unordered_map>

#include "services/rag/corpus_store.h"

namespace hn::services::rag {

namespace {

bool is_document_field(std::string_view key) {
  return key == "doc_cid" || key == "title" || key == "language" || key == "media_type";
}

// The value a condition reads: a document field or a metadata key; null when absent.
Json lookup(const DocumentInfo& doc, const std::string& key) {
  if (key == "doc_cid") return doc.doc_cid;
  if (key == "title") return doc.title;
  if (key == "language") return doc.language;
  if (key == "media_type") return doc.media_type;
  if (doc.metadata.is_object()) {
    auto it = doc.metadata.find(key);
    if (it != doc.metadata.end()) return *it;
  }
  return nullptr;
}

}  // namespace

Result<DocFilter> parse_filter(const Json& filter) {
  DocFilter out;
  if (filter.is_null()) return out;
  if (!filter.is_object()) return make_error(ErrorCode::bad_request, "filter must be an object");
  for (auto it = filter.begin(); it != filter.end(); ++it) {
    const std::string& key = it.key();
    DocFilter::Condition cond;
    const bool is_min = key.rfind("min_", 0) == 0 && key.size() > 4;
    const bool is_max = key.rfind("max_", 0) == 0 && key.size() > 4;
    if ((is_min || is_max) && !is_document_field(key)) {
      if (!it.value().is_number())
        return make_error(ErrorCode::bad_request, "filter " + key + " needs a number");
      cond.kind = is_min ? DocFilter::Condition::Kind::min : DocFilter::Condition::Kind::max;
      cond.key = key.substr(4);
    } else {
      cond.key = key;
    }
    cond.value = it.value();
    out.conditions.push_back(std::move(cond));
  }
  return out;
}

bool matches(const DocFilter& filter, const DocumentInfo& doc) {
  for (const auto& cond : filter.conditions) {
    const Json value = lookup(doc, cond.key);
    switch (cond.kind) {
      case DocFilter::Condition::Kind::equals:
        if (value.is_null() || value != cond.value) return false;
        break;
      case DocFilter::Condition::Kind::min:
        if (!value.is_number() || value.get<double>() < cond.value.get<double>()) return false;
        break;
      case DocFilter::Condition::Kind::max:
        if (!value.is_number() || value.get<double>() > cond.value.get<double>()) return false;
        break;
    }
  }
  return true;
}

std::vector<FusedHit> fuse_rrf(const std::vector<std::int64_t>& lexical, const std::vector<std::int64_t>& dense,
                               const std::vector<float>& similarities) {
  std::unordered_map<std::int64_t, std::size_t> at;
  std::vector<FusedHit> hits;
  auto slot = [&](std::int64_t id) -> FusedHit& {
    auto [it, fresh] = at.emplace(id, hits.size());
    if (fresh) hits.push_back(FusedHit{id});
    return hits[it->second];
  };
  for (std::size_t i = 0; i < lexical.size(); ++i) {
    FusedHit& h = slot(lexical[i]);
    if (h.lexical_rank != 0) continue;
    h.lexical_rank = static_cast<int>(i + 1);
    h.score += 1.0 / (RRF_K + h.lexical_rank);
  }
  for (std::size_t i = 0; i < dense.size(); ++i) {
    FusedHit& h = slot(dense[i]);
    if (h.dense_rank != 0) continue;
    h.dense_rank = static_cast<int>(i + 1);
    h.similarity = i < similarities.size() ? similarities[i] : 0.0f;
    h.score += 1.0 / (RRF_K + h.dense_rank);
  }
  std::sort(hits.begin(), hits.end(), [](const FusedHit& a, const FusedHit& b) {
    if (a.score != b.score) return a.score > b.score;
    const float sa = a.dense_rank ? a.similarity : -2.0f;
    const float sb = b.dense_rank ? b.similarity : -2.0f;
    if (sa != sb) return sa > sb;
    return a.id < b.id;
  });
  return hits;
}

}  // namespace hn::services::rag
