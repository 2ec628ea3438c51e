// detail/view_rows.h — what the view's write side (market_view.cpp) and its queries
// (market_view_query.cpp) share: the prepared statements and the row shape of a post.
#pragma once

#include "services/market/market_view.h"

namespace hn::services::market {

// The columns every post query selects, in the order row_to_post reads them.
inline constexpr const char* COLUMNS =
    "p.event_id, p.lamport, p.author, p.client_id, p.category, p.title, p.body, p.location, "
    "p.tags, "
    "p.created_at, p.expires_at, p.expires_ms, p.expired_by, p.expiry_reason, p.expired_lamport";

// A row of COLUMNS back into a Post (the view wrote every field itself).
Post row_to_post(const events::detail::Stmt& s);

struct MarketView::Statements {
  events::detail::Stmt insert, insert_tag, insert_fts, delete_fts, delete_tags, by_id, by_client, expire, update,
      newest, due, count_all, count_active, begin, commit, rollback, ranked, by_rowid;
};

}  // namespace hn::services::market
