// fts_tokenizer.cpp — FTS5's unicode61 tokenizer through the fts5_api (see fts_tokenizer.h).
#include "services/rag/fts_tokenizer.h"

#include <sqlite3.h>

#include <algorithm>
#include <climits>

namespace hn::services::rag {

struct FtsTokenizer::Impl {
  fts5_tokenizer api{};
  Fts5Tokenizer* instance = nullptr;
};

namespace {

// The connection's fts5_api (SQLite's documented way: SELECT fts5(?1) with a pointer).
fts5_api* fts5_api_of(sqlite3* db) {
  fts5_api* api = nullptr;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &stmt, nullptr) == SQLITE_OK) {
    sqlite3_bind_pointer(stmt, 1, static_cast<void*>(&api), "fts5_api_ptr", nullptr);
    (void)sqlite3_step(stmt);
  }
  sqlite3_finalize(stmt);
  return api;
}

struct Sink {
  const std::function<void(std::string_view)>* on_token;
};

int on_fts_token(void* ctx, int /*flags*/, const char* token, int size, int /*start*/,
                 int /*end*/) {
  if (size > 0)
    (*static_cast<Sink*>(ctx)->on_token)(std::string_view(token, static_cast<std::size_t>(size)));
  return SQLITE_OK;
}

}  // namespace

FtsTokenizer::FtsTokenizer(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

FtsTokenizer::~FtsTokenizer() {
  if (m_impl && m_impl->instance != nullptr) m_impl->api.xDelete(m_impl->instance);
}

Result<std::unique_ptr<FtsTokenizer>> FtsTokenizer::create(sqlite3* db) {
  fts5_api* api = fts5_api_of(db);
  if (api == nullptr) return make_error(ErrorCode::internal_error, "SQLite has no FTS5");
  auto impl = std::make_unique<Impl>();
  void* user = nullptr;
  if (api->xFindTokenizer(api, FTS_TOKENIZER, &user, &impl->api) != SQLITE_OK)
    return make_error(ErrorCode::internal_error,
                      std::string("FTS5 has no tokenizer ") + FTS_TOKENIZER);
  const char* args[] = {FTS_TOKENIZER_ARGS[0], FTS_TOKENIZER_ARGS[1]};
  if (impl->api.xCreate(user, args, 2, &impl->instance) != SQLITE_OK || impl->instance == nullptr)
    return make_error(ErrorCode::internal_error, "FTS5 tokenizer not created");
  return std::unique_ptr<FtsTokenizer>(new FtsTokenizer(std::move(impl)));
}

void FtsTokenizer::tokenize(std::string_view text,
                            const std::function<void(std::string_view)>& on_token) {
  Sink sink{&on_token};
  // Chunks are at most EMBED_MAX_TEXT_CHARS characters; a longer text is cut, never overflowed.
  const int size = static_cast<int>(std::min<std::size_t>(text.size(), INT_MAX));
  (void)m_impl->api.xTokenize(m_impl->instance, &sink, FTS5_TOKENIZE_DOCUMENT, text.data(), size,
                              on_fts_token);
}

std::vector<std::string> FtsTokenizer::query_terms(std::string_view text, std::size_t max_terms) {
  std::vector<std::string> terms;
  std::function<void(std::string_view)> add = [&](std::string_view t) {
    if (terms.size() < max_terms && std::find(terms.begin(), terms.end(), t) == terms.end())
      terms.emplace_back(t);
  };
  Sink sink{&add};
  const int size = static_cast<int>(std::min<std::size_t>(text.size(), INT_MAX));
  (void)m_impl->api.xTokenize(m_impl->instance, &sink, FTS5_TOKENIZE_QUERY, text.data(), size,
                              on_fts_token);
  return terms;
}

}  // namespace hn::services::rag
