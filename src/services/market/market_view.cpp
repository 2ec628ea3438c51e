// market_view.cpp — the marketplace view on SQLite + FTS5.
#include "services/market/market_view.h"

#include <algorithm>

#include "core/time.h"
#include "services/market/detail/view_rows.h"

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

}  // namespace

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

}  // namespace hn::services::market
