// source_index.cpp — the source index view (source_index.h).
#include "services/files/source_index.h"

#include "core/hash.h"

namespace hn::services::files {

void SourceIndex::reset() {
  std::lock_guard lock(m_mutex);
  m_events.clear();
}

void SourceIndex::apply(const events::Event& event) {
  // CONTRACT §7.2: {"cid", "sizes_bytes"} / {"cid"}. Malformed data is ignored (the log
  // verified the signature, not the shape).
  const auto cid = event.data.find("cid");
  if (cid == event.data.end() || !cid->is_string() ||
      !is_valid_cid(cid->get_ref<const std::string&>())) {
    return;
  }
  const std::string c = cid->get<std::string>();
  std::lock_guard lock(m_mutex);
  if (event.event_type == events::EventType::file_cid_advertised) {
    auto& e = m_events[c];
    e.holders.insert(event.author);
    if (auto s = event.data.find("sizes_bytes"); s != event.data.end() && s->is_number_integer()) {
      e.size_bytes = s->get<std::int64_t>();
    }
  } else if (event.event_type == events::EventType::file_cid_unpinned) {
    if (auto it = m_events.find(c); it != m_events.end()) {
      it->second.holders.erase(event.author);
      if (it->second.holders.empty()) m_events.erase(it);
    }
  }
}

Json SourceIndex::snapshot_state() const {
  std::lock_guard lock(m_mutex);
  Json out = Json::object();
  for (const auto& [cid, e] : m_events) {
    Json holders = Json::array();
    for (const auto& n : e.holders) holders.push_back(n.str());
    out[cid] = Json{{"holders", holders}, {"size_bytes", e.size_bytes}};
  }
  return out;
}

Status SourceIndex::restore_state(const Json& state) {
  if (!state.is_object()) return make_error(ErrorCode::bad_request, "file.sources: not an object");
  std::map<std::string, Entry> next;
  for (const auto& [cid, v] : state.items()) {
    if (!is_valid_cid(cid) || !v.is_object() || !v.contains("holders") ||
        !v["holders"].is_array()) {
      return make_error(ErrorCode::bad_request, "file.sources: malformed entry");
    }
    Entry e;
    for (const auto& h : v["holders"]) {
      if (!h.is_string()) return make_error(ErrorCode::bad_request, "file.sources: bad holder");
      e.holders.insert(NodeId(h.get<std::string>()));
    }
    if (v.contains("size_bytes") && v["size_bytes"].is_number_integer()) {
      e.size_bytes = v["size_bytes"].get<std::int64_t>();
    }
    next[cid] = std::move(e);
  }
  std::lock_guard lock(m_mutex);
  m_events = std::move(next);
  return {};
}

void SourceIndex::record(const NodeId& node, const std::vector<std::string>& cids) {
  std::lock_guard lock(m_mutex);
  for (const auto& c : cids) m_direct[c].holders.insert(node);
}

void SourceIndex::forget(const NodeId& node, const std::string& cid) {
  std::lock_guard lock(m_mutex);
  for (auto* m : {&m_direct, &m_events}) {
    if (auto it = m->find(cid); it != m->end()) it->second.holders.erase(node);
  }
}

std::vector<NodeId> SourceIndex::holders(const std::string& cid) const {
  std::set<NodeId> out;
  std::lock_guard lock(m_mutex);
  for (const auto* m : {&m_events, &m_direct}) {
    if (auto it = m->find(cid); it != m->end()) out.insert(it->second.holders.begin(), it->second.holders.end());
  }
  return {out.begin(), out.end()};
}

std::map<std::string, SourceIndex::Entry> SourceIndex::all() const {
  std::lock_guard lock(m_mutex);
  auto out = m_events;
  for (const auto& [cid, e] : m_direct) {
    auto& o = out[cid];
    o.holders.insert(e.holders.begin(), e.holders.end());
    if (o.size_bytes < 0) o.size_bytes = e.size_bytes;
  }
  return out;
}

}  // namespace hn::services::files
