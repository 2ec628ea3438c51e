// market_view_query.cpp — the marketplace view's reads: get, list, search, newest, due,
// counts.
#include <algorithm>

#include "services/market/detail/view_rows.h"

namespace hn::services::market {
using events::detail::Stmt;

Post row_to_post(const Stmt& s) {
  Post p;
  p.event_id = EventId(s.column_text(0));
  p.lamport = s.column_int(1);
  p.author = NodeId(s.column_text(2));
  p.client_id = s.column_text(3);
  p.category = parse_category(s.column_text(4)).value_or(Category::info);
  p.title = s.column_text(5);
  p.body = s.column_text(6);
  if (!s.column_is_null(7)) {
    const Json loc = Json::parse(s.column_text(7), nullptr, false);
    if (loc.is_object()) {
      p.location = Location{loc.value("lat", 0.0), loc.value("lng", 0.0), loc.value("label", "")};
    }
  }
  const Json tags = Json::parse(s.column_text(8), nullptr, false);
  if (tags.is_array()) {
    for (const auto& t : tags) {
      if (t.is_string()) p.tags.push_back(t.get<std::string>());
    }
  }
  p.created_at = s.column_text(9);
  p.expires_at = s.column_text(10);
  p.expires_ms = s.column_int(11);
  if (!s.column_is_null(12)) {
    p.expired_via_event_id = EventId(s.column_text(12));
    p.expiry_reason = parse_expiry_reason(s.column_text(13));
    p.expired_lamport = s.column_int(14);
  }
  return p;
}

Result<std::vector<Post>> MarketView::collect_locked(Stmt& stmt) const {
  std::vector<Post> out;
  while (true) {
    HN_TRY_ASSIGN(auto row, stmt.step());
    if (!row) break;
    out.push_back(row_to_post(stmt));
  }
  return out;
}

Result<std::optional<Post>> MarketView::get_locked(const EventId& id) const {
  auto& s = m_st->by_id;
  s.reset();
  s.bind(1, id.str());
  HN_TRY_ASSIGN(auto row, s.step());
  if (!row) return std::optional<Post>();
  return std::optional<Post>(row_to_post(s));  // the statement stays on the row (id: column 15)
}

Result<std::optional<Post>> MarketView::get(const EventId& id) const {
  std::lock_guard lock(m_mutex);
  auto r = get_locked(id);
  m_st->by_id.reset();
  return r;
}

Result<std::optional<Post>> MarketView::find_by_client(const NodeId& author,
                                                       std::string_view client_id) const {
  std::lock_guard lock(m_mutex);
  auto& s = m_st->by_client;
  s.reset();
  s.bind(1, author.str());
  s.bind(2, client_id);
  HN_TRY_ASSIGN(auto row, s.step());
  if (!row) return std::optional<Post>();
  Post p = row_to_post(s);
  s.reset();
  return std::optional<Post>(std::move(p));
}

Result<ListPage> MarketView::list(const ListQuery& q, std::int64_t now_ms) const {
  // With tags, the first tag's index (tag, lamport, event_id) drives the scan in page order;
  // without, the partial index over current posts does.
  const bool by_tag = !q.tags.empty();
  std::string sql = std::string("SELECT ") + COLUMNS +
                    (by_tag ? " FROM post_tags t JOIN posts p ON p.id = t.post WHERE t.tag = ?1 AND"
                            : " FROM posts p WHERE") +
                    " p.expired_by IS NULL AND p.expires_ms > ?2 AND p.lamport > ?3";
  int next = 4;
  if (q.category) sql += " AND p.category = ?" + std::to_string(next++);
  if (q.before) {
    sql += " AND (p.lamport, p.event_id) < (?" + std::to_string(next) + ", ?" +
           std::to_string(next + 1) + ")";
    next += 2;
  }
  for (std::size_t i = 1; i < q.tags.size(); ++i) {
    sql += " AND EXISTS (SELECT 1 FROM post_tags o WHERE o.post = p.id AND o.tag = ?" +
           std::to_string(next++) + ")";
  }
  for (std::size_t i = 0; i < q.hidden_authors.size(); ++i) {
    sql += " AND p.author <> ?" + std::to_string(next++);
  }
  sql += by_tag ? " ORDER BY t.lamport DESC, t.event_id DESC"
                : " ORDER BY p.lamport DESC, p.event_id DESC";
  sql += " LIMIT ?" + std::to_string(next);
  const int limit = std::clamp(q.limit, 1, MARKET_LIST_MAX_LIMIT);

  std::lock_guard lock(m_mutex);
  HN_TRY_ASSIGN(auto s, m_db.prepare(sql));
  s.bind(1, by_tag ? q.tags.front() : std::string());
  s.bind(2, now_ms);
  s.bind(3, q.since_lamport);
  int i = 4;
  if (q.category) s.bind(i++, to_string(*q.category));
  if (q.before) {
    s.bind(i++, q.before->first);
    s.bind(i++, q.before->second);
  }
  for (std::size_t t = 1; t < q.tags.size(); ++t) s.bind(i++, q.tags[t]);
  for (const auto& author : q.hidden_authors) s.bind(i++, author);
  s.bind(i, static_cast<std::int64_t>(limit + 1));
  HN_TRY_ASSIGN(auto posts, collect_locked(s));
  ListPage page;
  page.more = posts.size() > static_cast<std::size_t>(limit);
  if (page.more) posts.pop_back();
  page.posts = std::move(posts);
  return page;
}

Result<std::vector<LexicalHit>> MarketView::search(
    const std::vector<std::string>& words, int limit, std::int64_t now_ms,
    const std::vector<std::string>& hidden_authors) const {
  std::vector<LexicalHit> hits;
  if (words.empty()) return hits;
  const std::string match = fts_match_expression(words);
  const auto want = static_cast<std::size_t>(std::max(1, limit));
  // Ranked inside FTS5 first — row ids and scores only (`rank` is bm25 with title 4, body 1,
  // tags 2, set in the schema) — then only the best posts are read. Joining every match to
  // its post before sorting (the first version) carried each matching row's columns through
  // SQLite's sorter: ~1,000 rows a word at 100k posts (bench/RESULTS.md "Marketplace").
  // The index holds current posts only, but a post past its expiry stays there until the
  // sweeper's event, and revoked authors are hidden: those are skipped, and when that leaves
  // fewer than wanted while FTS5 had more, it is asked again for four times as many.
  std::int64_t ask = static_cast<std::int64_t>(want + 8 + hidden_authors.size());
  std::lock_guard lock(m_mutex);
  while (true) {
    std::vector<std::pair<std::int64_t, double>> ranked;
    auto& r = m_st->ranked;
    r.reset();
    r.bind(1, match);
    r.bind(2, ask);
    while (true) {
      HN_TRY_ASSIGN(auto row, r.step());
      if (!row) break;
      ranked.emplace_back(r.column_int(0), -r.column_double(1));  // bm25: lower is better
    }
    r.reset();
    hits.clear();
    for (const auto& [id, score] : ranked) {
      auto& p = m_st->by_rowid;
      p.reset();
      p.bind(1, id);
      HN_TRY_ASSIGN(auto row, p.step());
      if (!row || p.column_int(11) <= now_ms ||
          std::find(hidden_authors.begin(), hidden_authors.end(), p.column_text(2)) !=
              hidden_authors.end()) {
        continue;
      }
      hits.push_back(LexicalHit{row_to_post(p), score});
      p.reset();
      if (hits.size() == want) break;
    }
    m_st->by_rowid.reset();
    if (hits.size() >= want || static_cast<std::int64_t>(ranked.size()) < ask) break;
    ask *= 4;
  }
  return hits;
}

Result<std::vector<Post>> MarketView::newest(int limit, std::int64_t now_ms) const {
  std::lock_guard lock(m_mutex);
  auto& s = m_st->newest;
  s.reset();
  s.bind(1, now_ms);
  s.bind(2, static_cast<std::int64_t>(std::max(1, limit)));
  return collect_locked(s);
}

Result<std::vector<Post>> MarketView::due(std::int64_t now_ms, int limit,
                                          const std::optional<NodeId>& author) const {
  std::lock_guard lock(m_mutex);
  auto& s = m_st->due;
  s.reset();
  s.bind(1, now_ms);
  s.bind(2, static_cast<std::int64_t>(std::max(1, limit)));
  if (author)
    s.bind(3, author->str());
  else
    s.bind_null(3);
  return collect_locked(s);
}

Lamport MarketView::max_lamport() const {
  std::lock_guard lock(m_mutex);
  return m_max_lamport;
}

Json MarketView::counts(std::int64_t now_ms) const {
  std::lock_guard lock(m_mutex);
  auto& all = m_st->count_all;
  all.reset();
  auto has_total = all.step();
  const std::int64_t total = (has_total && *has_total) ? all.column_int(0) : -1;
  all.reset();
  auto& active = m_st->count_active;
  active.reset();
  active.bind(1, now_ms);
  auto has_active = active.step();
  const std::int64_t current = (has_active && *has_active) ? active.column_int(0) : -1;
  active.reset();
  return Json{{"posts", total}, {"active", current}, {"skipped", m_skipped}};
}

}  // namespace hn::services::market
