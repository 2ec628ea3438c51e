// market_view.cpp — the marketplace view on SQLite + FTS5.
#include "services/market/market_view.h"

#include <algorithm>

#include "core/time.h"

namespace hn::services::market {
using events::detail::Db;
using events::detail::Stmt;

namespace {

constexpr const char* SCHEMA = R"sql(
CREATE TABLE posts(
  id INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  lamport INTEGER NOT NULL,
  author TEXT NOT NULL,
  client_id TEXT NOT NULL,
  category TEXT NOT NULL,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  location TEXT,
  tags TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  expires_ms INTEGER NOT NULL,
  expired_by TEXT,
  expiry_reason TEXT,
  expired_lamport INTEGER);
CREATE UNIQUE INDEX posts_client ON posts(author, client_id);
CREATE INDEX posts_order ON posts(lamport DESC, event_id DESC) WHERE expired_by IS NULL;
CREATE INDEX posts_category ON posts(category, lamport DESC, event_id DESC) WHERE expired_by IS NULL;
CREATE INDEX posts_due ON posts(expires_ms) WHERE expired_by IS NULL;
CREATE TABLE post_tags(tag TEXT NOT NULL, lamport INTEGER NOT NULL, event_id TEXT NOT NULL, post INTEGER NOT NULL,
  PRIMARY KEY(tag, lamport, event_id)) WITHOUT ROWID;
CREATE INDEX post_tags_post ON post_tags(post);
CREATE VIRTUAL TABLE posts_fts USING fts5(title, body, tags, tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO posts_fts(posts_fts, rank) VALUES('rank', 'bm25(4.0, 1.0, 2.0)');
)sql";

constexpr const char* COLUMNS =
    "p.event_id, p.lamport, p.author, p.client_id, p.category, p.title, p.body, p.location, "
    "p.tags, "
    "p.created_at, p.expires_at, p.expires_ms, p.expired_by, p.expiry_reason, p.expired_lamport";

std::string location_text(const std::optional<Location>& loc) {
  if (!loc) return {};
  return Json{{"lat", loc->lat}, {"lng", loc->lng}, {"label", loc->label}}.dump();
}

std::string joined(const std::vector<std::string>& tags) {
  std::string out;
  for (const auto& t : tags) {
    if (!out.empty()) out += ' ';
    out += t;
  }
  return out;
}

// A row of COLUMNS back into a Post (the view wrote every field itself).
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

}  // namespace

struct MarketView::Statements {
  Stmt insert, insert_tag, insert_fts, delete_fts, delete_tags, by_id, by_client, expire, update,
      newest, due, count_all, count_active, begin, commit, rollback, ranked, by_rowid;
};

std::vector<events::EventType> MarketView::event_types() {
  return {events::EventType::market_post_created, events::EventType::market_post_updated,
          events::EventType::market_post_expired};
}

Result<std::unique_ptr<MarketView>> MarketView::open(LevelOf level_of) {
  HN_TRY_ASSIGN(auto db, Db::open(":memory:", true));
  HN_TRY(db.exec(SCHEMA));
  std::unique_ptr<MarketView> view(new MarketView(std::move(db), std::move(level_of)));
  HN_TRY(view->prepare());
  return view;
}

MarketView::MarketView(Db db, LevelOf level_of)
    : m_level_of(std::move(level_of)), m_db(std::move(db)), m_st(std::make_unique<Statements>()) {}

MarketView::~MarketView() = default;

Status MarketView::prepare() {
  const std::string cols = COLUMNS;
  auto& st = *m_st;
  HN_TRY_ASSIGN(
      auto insert,
      m_db.prepare(
          "INSERT INTO posts(event_id, lamport, author, client_id, category, title, body, "
          "location, tags, "
          "created_at, expires_at, expires_ms, expired_by, expiry_reason, expired_lamport) "
          "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) "
          "ON CONFLICT DO NOTHING RETURNING id"));
  st.insert = std::move(insert);
  HN_TRY_ASSIGN(
      auto insert_tag,
      m_db.prepare(
          "INSERT OR IGNORE INTO post_tags(tag, lamport, event_id, post) VALUES(?1, ?2, ?3, ?4)"));
  st.insert_tag = std::move(insert_tag);
  HN_TRY_ASSIGN(
      auto insert_fts,
      m_db.prepare("INSERT INTO posts_fts(rowid, title, body, tags) VALUES(?1, ?2, ?3, ?4)"));
  st.insert_fts = std::move(insert_fts);
  HN_TRY_ASSIGN(auto delete_fts, m_db.prepare("DELETE FROM posts_fts WHERE rowid = ?1"));
  st.delete_fts = std::move(delete_fts);
  HN_TRY_ASSIGN(auto delete_tags, m_db.prepare("DELETE FROM post_tags WHERE post = ?1"));
  st.delete_tags = std::move(delete_tags);
  HN_TRY_ASSIGN(auto by_id,
                m_db.prepare("SELECT " + cols + ", p.id FROM posts p WHERE p.event_id = ?1"));
  st.by_id = std::move(by_id);
  HN_TRY_ASSIGN(
      auto by_client,
      m_db.prepare("SELECT " + cols + " FROM posts p WHERE p.author = ?1 AND p.client_id = ?2"));
  st.by_client = std::move(by_client);
  HN_TRY_ASSIGN(
      auto expire,
      m_db.prepare("UPDATE posts SET expired_by = ?2, expiry_reason = ?3, expired_lamport = ?4 "
                   "WHERE id = ?1 AND expired_by IS NULL"));
  st.expire = std::move(expire);
  HN_TRY_ASSIGN(auto update, m_db.prepare("UPDATE posts SET category = ?2, title = ?3, body = ?4, "
                                          "location = ?5, tags = ?6 WHERE id = ?1"));
  st.update = std::move(update);
  HN_TRY_ASSIGN(auto newest,
                m_db.prepare("SELECT " + cols +
                             " FROM posts p WHERE p.expired_by IS NULL AND p.expires_ms > ?1 "
                             "ORDER BY p.lamport DESC, p.event_id DESC LIMIT ?2"));
  st.newest = std::move(newest);
  HN_TRY_ASSIGN(auto due,
                m_db.prepare("SELECT " + cols +
                             " FROM posts p WHERE p.expired_by IS NULL AND p.expires_ms <= ?1 "
                             "AND (?3 IS NULL OR p.author = ?3) ORDER BY p.expires_ms LIMIT ?2"));
  st.due = std::move(due);
  // Search (MarketView::search): the best FTS5 matches by rank alone, then their posts.
  HN_TRY_ASSIGN(auto ranked, m_db.prepare("SELECT rowid, rank FROM posts_fts WHERE posts_fts "
                                          "MATCH ?1 ORDER BY rank LIMIT ?2"));
  st.ranked = std::move(ranked);
  HN_TRY_ASSIGN(auto by_rowid, m_db.prepare("SELECT " + cols + " FROM posts p WHERE p.id = ?1"));
  st.by_rowid = std::move(by_rowid);
  HN_TRY_ASSIGN(auto count_all, m_db.prepare("SELECT count(*) FROM posts"));
  st.count_all = std::move(count_all);
  HN_TRY_ASSIGN(
      auto count_active,
      m_db.prepare("SELECT count(*) FROM posts WHERE expired_by IS NULL AND expires_ms > ?1"));
  st.count_active = std::move(count_active);
  HN_TRY_ASSIGN(auto begin, m_db.prepare("BEGIN"));
  st.begin = std::move(begin);
  HN_TRY_ASSIGN(auto commit, m_db.prepare("COMMIT"));
  st.commit = std::move(commit);
  HN_TRY_ASSIGN(auto rollback, m_db.prepare("ROLLBACK"));
  st.rollback = std::move(rollback);
  return {};
}

Status MarketView::clear_locked() {
  HN_TRY(m_db.exec("DELETE FROM posts; DELETE FROM post_tags; DELETE FROM posts_fts;"));
  m_max_lamport = 0;
  m_skipped = 0;
  return {};
}

void MarketView::reset() {
  std::lock_guard lock(m_mutex);
  (void)clear_locked();
}

// Under m_mutex: work inside BEGIN … COMMIT, rolled back when any step fails.
Status MarketView::in_transaction_locked(const std::function<Status()>& work) {
  m_st->begin.reset();
  HN_TRY(m_st->begin.run());
  Status done = work();
  if (done) {
    m_st->commit.reset();
    done = m_st->commit.run();
  }
  if (!done) {
    m_st->rollback.reset();
    (void)m_st->rollback.run();
  }
  return done;
}

// Under m_mutex: the post's tag rows and FTS row (current posts only).
Status MarketView::index_locked(const Post& p, std::int64_t id) {
  for (const auto& tag : p.tags) {
    auto& t = m_st->insert_tag;
    t.reset();
    t.bind(1, tag);
    t.bind(2, p.lamport);
    t.bind(3, p.event_id.str());
    t.bind(4, id);
    HN_TRY(t.run());
  }
  auto& f = m_st->insert_fts;
  f.reset();
  f.bind(1, id);
  f.bind(2, p.title);
  f.bind(3, p.body);
  f.bind(4, joined(p.tags));
  return f.run();
}

// Under m_mutex: removes what index_locked wrote for row id.
Status MarketView::unindex_locked(std::int64_t id) {
  auto& dt = m_st->delete_tags;
  dt.reset();
  dt.bind(1, id);
  HN_TRY(dt.run());
  auto& df = m_st->delete_fts;
  df.reset();
  df.bind(1, id);
  return df.run();
}

// Under m_mutex: one post with its tags and its FTS row (expired posts leave the index).
Status MarketView::insert_locked(const Post& p) {
  auto& s = m_st->insert;
  s.reset();
  s.bind(1, p.event_id.str());
  s.bind(2, p.lamport);
  s.bind(3, p.author.str());
  s.bind(4, p.client_id);
  s.bind(5, to_string(p.category));
  s.bind(6, p.title);
  s.bind(7, p.body);
  if (p.location)
    s.bind(8, location_text(p.location));
  else
    s.bind_null(8);
  s.bind(9, Json(p.tags).dump());
  s.bind(10, p.created_at);
  s.bind(11, p.expires_at);
  s.bind(12, p.expires_ms);
  if (p.expired_via_event_id) {
    s.bind(13, p.expired_via_event_id->str());
    s.bind(14, to_string(*p.expiry_reason));
    s.bind(15, p.expired_lamport.value_or(0));
  } else {
    s.bind_null(13);
    s.bind_null(14);
    s.bind_null(15);
  }
  HN_TRY_ASSIGN(auto row, s.step());
  if (!row) return {};  // (author, client_id) or event_id already there: the first one wins
  const std::int64_t id = s.column_int(0);
  HN_TRY(s.run());
  // Tags and the FTS row serve current posts only; an expiry removes both.
  if (!p.expired_via_event_id) HN_TRY(index_locked(p, id));
  return {};
}

void MarketView::apply(const events::Event& event) {
  std::lock_guard lock(m_mutex);
  m_max_lamport = std::max(m_max_lamport, event.lamport);
  switch (event.event_type) {
    case events::EventType::market_post_created:
      apply_created(event);
      break;
    case events::EventType::market_post_updated:
      apply_updated(event);
      break;
    case events::EventType::market_post_expired:
      apply_expired(event);
      break;
    default:
      break;
  }
}

void MarketView::apply_created(const events::Event& event) {
  auto post = post_from_event(event);
  if (!post) {
    ++m_skipped;
    return;
  }
  (void)in_transaction_locked([&] { return insert_locked(*post); });
}

void MarketView::apply_updated(const events::Event& event) {
  auto u = parse_updated_data(event.data);
  if (!u) {
    ++m_skipped;
    return;
  }
  auto found = get_locked(u->target_event_id);
  if (!found || !*found || (*found)->author != event.author || (*found)->expired_via_event_id)
    return;
  Post p = std::move(**found);
  if (u->category) p.category = *u->category;
  if (u->title) p.title = *u->title;
  if (u->body) p.body = *u->body;
  if (u->location) p.location = *u->location;
  if (u->tags) p.tags = *u->tags;
  auto& by_id = m_st->by_id;  // get_locked left the row id in column 15
  const std::int64_t id = by_id.column_int(15);
  by_id.reset();
  auto& s = m_st->update;
  s.reset();
  s.bind(1, id);
  s.bind(2, to_string(p.category));
  s.bind(3, p.title);
  s.bind(4, p.body);
  if (p.location)
    s.bind(5, location_text(p.location));
  else
    s.bind_null(5);
  s.bind(6, Json(p.tags).dump());
  (void)in_transaction_locked([&]() -> Status {
    HN_TRY(s.run());
    HN_TRY(unindex_locked(id));
    return index_locked(p, id);
  });
}

void MarketView::apply_expired(const events::Event& event) {
  auto e = parse_expired_data(event.data);
  if (!e) {
    ++m_skipped;
    return;
  }
  auto found = get_locked(e->target_event_id);
  if (!found || !*found || (*found)->expired_via_event_id) return;  // unknown, or expired before
  const Post& post = **found;
  const std::int64_t id = m_st->by_id.column_int(15);
  m_st->by_id.reset();
  bool allowed = event.author == post.author;
  if (!allowed && e->reason != ExpiryReason::user_request && m_level_of) {
    const auto level = m_level_of(event.author);
    allowed = level && (*level == TrustLevel::trusted || *level == TrustLevel::anchor);
  }
  if (!allowed && e->reason == ExpiryReason::stale) {
    const auto at = parse_rfc3339_ms(event.wall_clock);
    allowed = at && *at >= post.expires_ms;
  }
  if (!allowed) return;
  auto& s = m_st->expire;
  s.reset();
  s.bind(1, id);
  s.bind(2, event.event_id.str());
  s.bind(3, to_string(e->reason));
  s.bind(4, event.lamport);
  (void)in_transaction_locked([&]() -> Status {
    HN_TRY(s.run());
    return unindex_locked(id);
  });
}

Json MarketView::snapshot_state() const {
  std::lock_guard lock(m_mutex);
  Json posts = Json::array();
  auto stmt = m_db.prepare(std::string("SELECT ") + COLUMNS +
                           " FROM posts p ORDER BY p.lamport, p.event_id");
  if (stmt) {
    auto all = collect_locked(*stmt);
    if (all) {
      for (const auto& p : *all) posts.push_back(p.to_state());
    }
  }
  return Json{{"version", 1},
              {"max_lamport", m_max_lamport},
              {"skipped", m_skipped},
              {"posts", std::move(posts)}};
}

Status MarketView::restore_state(const Json& state) {
  if (!state.is_object() || state.value("version", 0) != 1 || !state.contains("posts") ||
      !state["posts"].is_array() || !state.value("max_lamport", Json()).is_number_integer()) {
    return make_error(ErrorCode::bad_request, "marketplace state: not a version 1 state");
  }
  std::vector<Post> posts;
  posts.reserve(state["posts"].size());
  for (const auto& s : state["posts"]) {
    HN_TRY_ASSIGN(auto p, post_from_state(s));
    posts.push_back(std::move(p));
  }
  std::lock_guard lock(m_mutex);
  // All or nothing: one transaction; a failure leaves the previous rows.
  HN_TRY(in_transaction_locked([&]() -> Status {
    HN_TRY(m_db.exec("DELETE FROM posts; DELETE FROM post_tags; DELETE FROM posts_fts;"));
    for (const auto& p : posts) HN_TRY(insert_locked(p));
    return {};
  }));
  m_max_lamport = state["max_lamport"].get<Lamport>();
  m_skipped = state.value("skipped", std::int64_t{0});
  return {};
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
  std::string match;
  for (const auto& w : words) {
    if (!match.empty()) match += " OR ";
    match += '"' + w + '"';
  }
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

std::vector<std::string> query_words(std::string_view query) {
  std::vector<std::string> words;
  std::string word;
  auto flush = [&] {
    if (!word.empty() && words.size() < 16 &&
        std::find(words.begin(), words.end(), word) == words.end()) {
      words.push_back(word);
    }
    word.clear();
  };
  for (char ch : query) {
    const auto c = static_cast<unsigned char>(ch);
    const bool keep =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
    if (keep) {
      word += static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
    } else {
      flush();
    }
  }
  flush();
  return words;
}

}  // namespace hn::services::market
