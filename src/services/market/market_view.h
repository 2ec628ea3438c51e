// market_view.h — MarketView (M06 §3.2): the marketplace's materialised view of the
// market.post.created|updated|expired events (X02 §3.4), held in SQLite with an FTS5 index
// over title, body and tags for lexical search (BM25). The ReplayEngine feeds it in replay
// order; its state goes into the node's signed snapshots (snapshot_state), so a restart
// restores it and replays only what follows, and retention may prune market events.
//
// Rules applied on replay, so every node derives the same posts from the same log:
//   created  the first (author, client_id) in replay order makes the post; a later one
//            with the same pair is ignored (market.post is idempotent on client_id).
//   updated  only the post's author; fields replace the post's (CONTRACT §7.2).
//   expired  the post's author for any reason; a trusted member or an anchor
//            (`level_of`, the community's current view) for any reason but user_request;
//            anyone for `stale` once the post's expires_at has passed (M06 §4.2). The
//            first expiry of a target wins; later ones are ignored (de-duplicated by
//            target). An expiry of an unknown post is ignored.
//   Malformed data (a peer's bug or malice) is skipped and counted, never applied in part.
//
// Thread-safety: safe for concurrent use (one mutex over the one connection): the engine
// applies under its own lock, handlers read from their queue threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/query_words.h"
#include "core/types.h"
#include "events/detail/sqlite.h"
#include "events/replay.h"
#include "services/market/post.h"

namespace hn::services::market {

inline constexpr int MARKET_LIST_DEFAULT_LIMIT = 50;  // CONTRACT §4.11
inline constexpr int MARKET_LIST_MAX_LIMIT = 500;

// A member's level as the community sees it now; nullopt for non-members.
using LevelOf = std::function<std::optional<TrustLevel>(const NodeId&)>;

// CONTRACT §4.11 filters, plus the paging cursor (doc/design/market.md).
struct ListQuery {
  std::optional<Category> category;
  std::vector<std::string> tags;  // a post must carry every one
  Lamport since_lamport = 0;      // only posts with lamport > since_lamport
  int limit = MARKET_LIST_DEFAULT_LIMIT;
  std::optional<std::pair<Lamport, std::string>> before;  // (lamport, event_id) of the last seen
  std::vector<std::string> hidden_authors;  // revoked members: their posts are not shown
};

struct ListPage {
  std::vector<Post> posts;  // newest first: lamport, then event_id, descending
  bool more = false;        // another page follows the last post
};

// One lexical hit: the post and its BM25 score (higher is better, > 0).
struct LexicalHit {
  Post post;
  double score = 0;
};

class MarketView final : public events::MaterialisedView {
 public:
  // An in-memory SQLite database (the log and the snapshots are what persists).
  static Result<std::unique_ptr<MarketView>> open(LevelOf level_of);
  ~MarketView() override;

  // MaterialisedView (X02 §3.4).
  std::string name() const override { return "marketplace"; }
  void reset() override;
  void apply(const events::Event& event) override;
  Json snapshot_state() const override;
  Status restore_state(const Json& state) override;

  // The event types it takes.
  static std::vector<events::EventType> event_types();

  // Current posts (not expired at now_ms).
  Result<ListPage> list(const ListQuery& query, std::int64_t now_ms) const;
  // Any post, expired or not.
  Result<std::optional<Post>> get(const EventId& id) const;
  // The post author made with client_id, expired or not.
  Result<std::optional<Post>> find_by_client(const NodeId& author,
                                             std::string_view client_id) const;
  // Current posts matching any word of `words` (FTS5 BM25), best first.
  Result<std::vector<LexicalHit>> search(const std::vector<std::string>& words, int limit,
                                         std::int64_t now_ms,
                                         const std::vector<std::string>& hidden_authors = {}) const;
  // The newest current posts (candidates for semantic search).
  Result<std::vector<Post>> newest(int limit, std::int64_t now_ms) const;
  // Posts past their expires_at with no expiry event yet, oldest expiry first; only
  // `author`'s when given.
  Result<std::vector<Post>> due(std::int64_t now_ms, int limit,
                                const std::optional<NodeId>& author = std::nullopt) const;
  // The highest Lamport among the market events applied.
  Lamport max_lamport() const;
  // {"posts": all, "active": not expired at now_ms, "skipped": malformed events skipped}
  Json counts(std::int64_t now_ms) const;

 private:
  struct Statements;
  MarketView(events::detail::Db db, LevelOf level_of);
  Status prepare();
  Status clear_locked();
  Status insert_locked(const Post& post);
  Status index_locked(const Post& post, std::int64_t id);
  Status unindex_locked(std::int64_t id);
  Status in_transaction_locked(const std::function<Status()>& work);
  void apply_created(const events::Event& event);
  void apply_updated(const events::Event& event);
  void apply_expired(const events::Event& event);
  Result<std::optional<Post>> get_locked(const EventId& id) const;
  Result<std::vector<Post>> collect_locked(events::detail::Stmt& stmt) const;

  LevelOf m_level_of;
  mutable std::mutex m_mutex;
  mutable events::detail::Db m_db;
  std::unique_ptr<Statements> m_st;
  Lamport m_max_lamport = 0;
  std::int64_t m_skipped = 0;
};

// Splits a search query into FTS5-safe words (core/query_words.h; at most 16).
inline std::vector<std::string> query_words(std::string_view query) {
  return hn::query_words(query, 16);
}

}  // namespace hn::services::market
