// corpus_store.cpp — CorpusStore: open (schema, document cache, the lexical index loaded
// from its file or rebuilt from the chunks, the vector index loaded and reconciled with the
// database, or rebuilt), saving both indexes, info and the listing of corpora. Writes are in
// corpus_write.cpp, retrieval in corpus_query.cpp.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <unordered_set>

#include "core/file_util.h"
#include "services/rag/corpus_store_impl.h"

namespace hn::services::rag {

namespace {

constexpr const char* SCHEMA = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  doc_cid TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  language TEXT NOT NULL,
  media_type TEXT NOT NULL,
  metadata TEXT NOT NULL,
  model TEXT NOT NULL,
  chunks INTEGER NOT NULL,
  tokens INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS chunks(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  doc_id INTEGER NOT NULL REFERENCES documents(id),
  ordinal INTEGER NOT NULL,
  page INTEGER NOT NULL,
  tokens INTEGER NOT NULL,
  text TEXT NOT NULL,
  vector BLOB,
  UNIQUE(doc_id, ordinal));
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(text, doc_id UNINDEXED,
  content = 'chunks', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2');
-- (fts_tokenizer.h names the same tokenizer: the in-memory lexical index cuts text as this does.)
CREATE TABLE IF NOT EXISTS reindex_vectors(chunk_id INTEGER PRIMARY KEY, vector BLOB NOT NULL);
INSERT OR IGNORE INTO meta(key, value) VALUES('schema', '1');
)sql";

constexpr const char* DB_FILE = "corpus.db";
constexpr const char* INDEX_FILE = "vectors.hnsw";

}  // namespace

Result<std::string> meta_value(Db& db, std::string_view key) {
  HN_TRY_ASSIGN(auto s, db.prepare("SELECT value FROM meta WHERE key = ?1"));
  s.bind(1, key);
  HN_TRY_ASSIGN(auto row, s.step());
  return row ? s.column_text(0) : std::string();
}

std::int64_t to_int(const std::string& text) {
  try {
    return text.empty() ? 0 : std::stoll(text);
  } catch (...) {
    return 0;
  }
}

bool valid_corpus_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool blob_to_vector(std::string_view blob, int dim, std::vector<float>& out) {
  if (dim <= 0 || blob.size() != static_cast<std::size_t>(dim) * sizeof(float)) return false;
  out.resize(static_cast<std::size_t>(dim));
  std::memcpy(out.data(), blob.data(), blob.size());
  return true;
}

std::string_view vector_to_blob(const std::vector<float>& v) {
  return std::string_view(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

Status in_transaction(Db& db, const std::function<Status()>& work) {
  HN_TRY(db.exec("BEGIN IMMEDIATE"));
  Status st = work();
  if (st) st = db.exec("COMMIT");
  if (!st) (void)db.exec("ROLLBACK");
  return st;
}

Result<std::unique_ptr<VectorIndex>> build_index(Db& db, int dim) {
  HN_TRY_ASSIGN(auto count_stmt, db.prepare("SELECT COUNT(*) FROM chunks WHERE vector IS NOT NULL"));
  HN_TRY(count_stmt.step());
  auto index = VectorIndex::create(dim, static_cast<std::size_t>(count_stmt.column_int(0)) + 1024);
  HN_TRY_ASSIGN(auto s, db.prepare("SELECT id, vector FROM chunks WHERE vector IS NOT NULL ORDER BY id"));
  std::vector<std::int64_t> ids;
  std::vector<std::vector<float>> vectors;
  std::vector<float> v;
  while (true) {
    HN_TRY_ASSIGN(auto row, s.step());
    if (row && blob_to_vector(s.column_blob(1), dim, v)) {
      ids.push_back(s.column_int(0));
      vectors.push_back(v);
    }
    if (ids.size() >= 4096 || (!row && !ids.empty())) {
      HN_TRY(index->add_batch(ids, vectors));
      ids.clear();
      vectors.clear();
    }
    if (!row) break;
  }
  return Result<std::unique_ptr<VectorIndex>>(std::move(index));
}

CorpusStore::Impl::Reader::~Reader() {
  std::lock_guard lock(m_impl.readers_mutex);
  if (m_impl.readers.size() < 8) m_impl.readers.push_back(std::move(m_db));
}

Result<std::unique_ptr<CorpusStore::Impl::Reader>> CorpusStore::Impl::reader() {
  {
    std::lock_guard lock(readers_mutex);
    if (!readers.empty()) {
      Db db = std::move(readers.back());
      readers.pop_back();
      return std::make_unique<Reader>(*this, std::move(db));
    }
  }
  HN_TRY_ASSIGN(auto db, Db::open(db_path.string(), false));
  HN_TRY(db.exec("PRAGMA query_only=1"));
  return std::make_unique<Reader>(*this, std::move(db));
}

std::int64_t CorpusStore::Impl::doc_of_chunk(std::int64_t chunk_id) const {
  auto it = doc_by_first_chunk.upper_bound(chunk_id);
  if (it == doc_by_first_chunk.begin()) return -1;
  --it;
  auto d = docs.find(it->second);
  if (d == docs.end() || chunk_id > d->second.last_chunk) return -1;
  return it->second;
}

void CorpusStore::Impl::cache_put(std::int64_t id, DocEntry entry) {
  doc_ids[entry.info.doc_cid] = id;
  if (entry.last_chunk >= entry.first_chunk) doc_by_first_chunk[entry.first_chunk] = id;
  docs[id] = std::move(entry);
}

void CorpusStore::Impl::cache_erase(std::int64_t id) {
  auto it = docs.find(id);
  if (it == docs.end()) return;
  doc_ids.erase(it->second.info.doc_cid);
  auto f = doc_by_first_chunk.find(it->second.first_chunk);
  if (f != doc_by_first_chunk.end() && f->second == id) doc_by_first_chunk.erase(f);
  docs.erase(it);
}

Status CorpusStore::Impl::save_indexes(bool force) {
  bool vectors_saved = false;
  if (index && unsaved > 0) {
    const auto threshold = std::max<std::int64_t>(INDEX_SAVE_EVERY, static_cast<std::int64_t>(index->size() / 8));
    if (force || unsaved >= threshold) {
      HN_TRY(index->save(index_path, index_tag()));
      unsaved = 0;
      vectors_saved = true;
    }
  }
  if (lexical_saved == text_stamp) return {};
  const auto threshold = std::max<std::int64_t>(INDEX_SAVE_EVERY, static_cast<std::int64_t>(lexical.size() / 8));
  if (!force && !vectors_saved && lexical_unsaved < threshold) return {};
  HN_TRY(save_lexical_file(lexical_path, lexical, text_stamp));
  lexical_saved = text_stamp;
  lexical_unsaved = 0;
  return {};
}

namespace {

// Loads the document cache (fields, metadata, chunk id ranges).
Status load_documents(CorpusStore::Impl& impl) {
  HN_TRY_ASSIGN(auto s, impl.db.prepare(
                            "SELECT d.id, d.doc_cid, d.title, d.language, d.media_type, d.metadata, d.model, "
                            "d.chunks, d.tokens, MIN(c.id), MAX(c.id) FROM documents d "
                            "LEFT JOIN chunks c ON c.doc_id = d.id GROUP BY d.id ORDER BY d.id"));
  while (true) {
    HN_TRY_ASSIGN(auto row, s.step());
    if (!row) break;
    DocEntry e;
    e.info.doc_cid = s.column_text(1);
    e.info.title = s.column_text(2);
    e.info.language = s.column_text(3);
    e.info.media_type = s.column_text(4);
    auto meta = parse_json(s.column_text(5));
    e.info.metadata = meta && meta->is_object() ? *meta : Json::object();
    e.model = s.column_text(6);
    e.info.chunks = s.column_int(7);
    e.info.tokens = s.column_int(8);
    if (!s.column_is_null(9)) {
      e.first_chunk = s.column_int(9);
      e.last_chunk = s.column_int(10);
    }
    impl.cache_put(s.column_int(0), std::move(e));
  }
  return {};
}

// The in-memory lexical index from every chunk's text (FTS5's tokenizer).
Status build_lexical(CorpusStore::Impl& impl) {
  impl.lexical = LexicalIndex();
  HN_TRY_ASSIGN(auto s, impl.db.prepare("SELECT id, text FROM chunks ORDER BY id"));
  while (true) {
    HN_TRY_ASSIGN(auto row, s.step());
    if (!row) break;
    impl.lexical.add(s.column_int(0), count_terms(*impl.write_tokenizer, s.column_text(1)));
  }
  impl.lexical.shrink_to_fit();
  return {};
}

// Why a loaded lexical index cannot be the database's chunks ("" when it can): its stamp
// matched, so this catches only a database written by a build that kept no stamp.
std::string disagreement(const LexicalIndex& lexical, const CorpusStore::Impl& impl) {
  std::int64_t chunks = 0;
  std::int64_t last = 0;
  for (const auto& [id, entry] : impl.docs) {
    if (entry.last_chunk < entry.first_chunk) continue;
    chunks += entry.last_chunk - entry.first_chunk + 1;
    last = std::max(last, entry.last_chunk);
  }
  if (static_cast<std::int64_t>(lexical.size()) != chunks || lexical.last_chunk_id() != last)
    return "disagrees: " + std::to_string(lexical.size()) + " chunks up to id " +
           std::to_string(lexical.last_chunk_id()) + ", the database " + std::to_string(chunks) + " up to " +
           std::to_string(last);
  return {};
}

// The lexical index from lexical.idx when it carries the database's text stamp and agrees
// with the documents, else rebuilt from the chunks and saved (an empty one is not saved).
Status open_lexical(CorpusStore::Impl& impl) {
  const auto t0 = std::chrono::steady_clock::now();
  remove_lexical_temp_files(impl.dir);
  auto loaded = load_lexical_file(impl.lexical_path, impl.text_stamp);
  std::string why;
  if (!loaded && loaded.error().code == ErrorCode::not_found) {
    why = "missing";
  } else if (!loaded) {
    const Json& detail = loaded.error().detail;
    why = (detail.is_object() ? detail.value("reason", std::string("corrupt")) : std::string("corrupt")) + ": " +
          loaded.error().message;
  } else {
    why = disagreement(*loaded, impl);
  }
  if (why.empty()) {
    impl.lexical = std::move(loaded).value();
    impl.lexical_saved = impl.text_stamp;
    impl.report.lexical_loaded = true;
  } else {
    impl.report.lexical_rebuilt = why;
    HN_TRY(build_lexical(impl));
    std::error_code ec;
    if (impl.lexical.size() == 0) {
      fs::remove(impl.lexical_path, ec);  // nothing to load: no file is as good as an empty one
      impl.lexical_saved = impl.text_stamp;
    } else if (save_lexical_file(impl.lexical_path, impl.lexical, impl.text_stamp)) {
      impl.lexical_saved = impl.text_stamp;
    }  // else the file stays behind (and is not trusted); the next save tries again
  }
  impl.report.lexical_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  impl.report.lexical_bytes = static_cast<std::int64_t>(impl.lexical.memory_bytes());
  return {};
}

// Rebuilds the index from every vector in the database.
Status rebuild_index(CorpusStore::Impl& impl) {
  HN_TRY_ASSIGN(impl.index, build_index(impl.db, impl.dim));
  impl.report.rebuilt = true;
  impl.unsaved = 1;
  return impl.save_indexes(true);
}

// Brings a loaded index in line with the database: adds the vectors it lacks, marks deleted
// those of chunks the database no longer has.
Status reconcile_index(CorpusStore::Impl& impl) {
  HN_TRY_ASSIGN(auto s, impl.db.prepare("SELECT id FROM chunks WHERE vector IS NOT NULL"));
  std::unordered_set<std::int64_t> in_db;
  std::vector<std::int64_t> missing;
  while (true) {
    HN_TRY_ASSIGN(auto row, s.step());
    if (!row) break;
    const std::int64_t id = s.column_int(0);
    in_db.insert(id);
    if (!impl.index->contains(id)) missing.push_back(id);
  }
  for (std::int64_t label : impl.index->labels()) {
    if (in_db.count(label) == 0) {
      impl.index->remove(label);
      ++impl.report.dropped;
    }
  }
  HN_TRY_ASSIGN(auto get, impl.db.prepare("SELECT vector FROM chunks WHERE id = ?1"));
  std::vector<std::int64_t> ids;
  std::vector<std::vector<float>> vectors;
  std::vector<float> v;
  for (std::size_t i = 0; i < missing.size(); ++i) {
    get.reset();
    get.bind(1, missing[i]);
    HN_TRY_ASSIGN(auto row, get.step());
    if (row && blob_to_vector(get.column_blob(0), impl.dim, v)) {
      ids.push_back(missing[i]);
      vectors.push_back(v);
    }
    if (ids.size() >= 4096 || (i + 1 == missing.size() && !ids.empty())) {
      HN_TRY(impl.index->add_batch(ids, vectors));
      impl.report.added += static_cast<std::int64_t>(ids.size());
      ids.clear();
      vectors.clear();
    }
  }
  impl.unsaved = impl.report.added + impl.report.dropped;
  return impl.save_indexes(true);
}

Status open_index(CorpusStore::Impl& impl) {
  std::error_code ec;
  fs::remove(impl.dir / ("." + std::string(INDEX_FILE) + ".tmp"), ec);
  if (impl.dim <= 0) {
    fs::remove(impl.index_path, ec);
    fs::remove(fs::path(impl.index_path.string() + ".meta"), ec);
    return {};
  }
  auto loaded = VectorIndex::load(impl.index_path, impl.dim, impl.index_tag());
  if (!loaded) return rebuild_index(impl);
  impl.index = std::move(loaded).value();
  impl.report.loaded = true;
  HN_TRY(reconcile_index(impl));
  // Removed vectors still take room in the graph and slow its search: compact when they
  // outnumber the live ones.
  if (impl.index->deleted_count() > std::max<std::size_t>(1024, impl.index->size())) {
    impl.report.loaded = false;
    return rebuild_index(impl);
  }
  return {};
}

}  // namespace

CorpusStore::CorpusStore(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

CorpusStore::~CorpusStore() {
  if (!m_impl) return;
  std::lock_guard write(m_impl->write_mutex);
  std::shared_lock lock(m_impl->state_mutex);
  (void)m_impl->save_indexes(true);
}

Result<std::unique_ptr<CorpusStore>> CorpusStore::open(const fs::path& dir, const std::string& name) {
  if (!valid_corpus_name(name))
    return make_error(ErrorCode::bad_request, "invalid corpus name (want [a-z0-9-]+, at most 64)",
                      Json{{"corpus", name}});
  auto impl = std::make_unique<Impl>();
  impl->name = name;
  impl->dir = dir / name;
  impl->db_path = impl->dir / DB_FILE;
  impl->index_path = impl->dir / INDEX_FILE;
  impl->lexical_path = impl->dir / LEXICAL_FILE;
  if (auto st = ensure_directory(impl->dir); !st)
    return make_error(ErrorCode::storage_error, st.error().message);
  HN_TRY_ASSIGN(impl->db, Db::open(impl->db_path.string(), true));
  HN_TRY(impl->db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"));
  HN_TRY(in_transaction(impl->db, [&]() -> Status {
    HN_TRY(impl->db.exec(SCHEMA));
    // A reindex that never committed is abandoned: the old vectors stay (the header's rule).
    return impl->db.exec("DELETE FROM reindex_vectors");
  }));
  HN_TRY_ASSIGN(impl->model, meta_value(impl->db, "model"));
  HN_TRY_ASSIGN(auto dim_text, meta_value(impl->db, "dim"));
  HN_TRY_ASSIGN(auto gen_text, meta_value(impl->db, "generation"));
  impl->dim = static_cast<int>(to_int(dim_text));
  impl->generation = to_int(gen_text);
  HN_TRY_ASSIGN(auto writes_text, meta_value(impl->db, "text_writes"));
  impl->text_stamp.writes = to_int(writes_text);
  HN_TRY_ASSIGN(impl->text_stamp.nonce, meta_value(impl->db, "text_nonce"));
  HN_TRY_ASSIGN(impl->write_tokenizer, FtsTokenizer::create(impl->db.handle()));
  HN_TRY_ASSIGN(impl->query_tokenizer, FtsTokenizer::create(impl->db.handle()));
  HN_TRY(load_documents(*impl));
  HN_TRY(open_lexical(*impl));
  HN_TRY(open_index(*impl));
  return std::unique_ptr<CorpusStore>(new CorpusStore(std::move(impl)));
}

const std::string& CorpusStore::name() const { return m_impl->name; }

std::string CorpusStore::embedding_model() const {
  std::shared_lock lock(m_impl->state_mutex);
  return m_impl->model;
}

int CorpusStore::dim() const {
  std::shared_lock lock(m_impl->state_mutex);
  return m_impl->dim;
}

const IndexReport& CorpusStore::open_report() const { return m_impl->report; }

Status CorpusStore::flush() {
  std::lock_guard write(m_impl->write_mutex);
  std::shared_lock lock(m_impl->state_mutex);
  return m_impl->save_indexes(true);
}

bool CorpusStore::has_document(const std::string& doc_cid, const std::string& embedding_model) const {
  std::shared_lock lock(m_impl->state_mutex);
  auto it = m_impl->doc_ids.find(doc_cid);
  if (it == m_impl->doc_ids.end()) return false;
  return embedding_model.empty() || m_impl->docs.at(it->second).model == embedding_model;
}

std::vector<DocumentInfo> CorpusStore::documents() const {
  std::shared_lock lock(m_impl->state_mutex);
  std::vector<std::pair<std::int64_t, const DocumentInfo*>> rows;
  rows.reserve(m_impl->docs.size());
  for (const auto& [id, entry] : m_impl->docs) rows.emplace_back(id, &entry.info);
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<DocumentInfo> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(*r.second);
  return out;
}

CorpusInfo CorpusStore::info() const {
  std::shared_lock lock(m_impl->state_mutex);
  CorpusInfo out;
  out.name = m_impl->name;
  out.embedding_model = m_impl->model;
  out.dim = m_impl->dim;
  out.docs = static_cast<std::int64_t>(m_impl->docs.size());
  std::map<std::string, std::int64_t> languages;
  for (const auto& [id, entry] : m_impl->docs) {
    out.chunks += entry.info.chunks;
    if (!entry.info.language.empty()) ++languages[entry.info.language];
  }
  std::int64_t best = 0;
  for (const auto& [lang, n] : languages) {  // ties: the alphabetically first
    if (n > best) {
      best = n;
      out.language_majority = lang;
    }
  }
  std::error_code ec;
  for (const char* suffix : {"", "-wal"}) {
    const auto size = fs::file_size(fs::path(m_impl->db_path.string() + suffix), ec);
    if (!ec) out.size_bytes += static_cast<std::int64_t>(size);
  }
  for (const auto& file : {m_impl->index_path, fs::path(m_impl->index_path.string() + ".meta"), m_impl->lexical_path}) {
    const auto size = fs::file_size(file, ec);
    if (!ec) out.size_bytes += static_cast<std::int64_t>(size);
  }
  return out;
}

std::vector<std::string> list_corpora(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code e2;
    if (valid_corpus_name(name) && fs::is_regular_file(it->path() / DB_FILE, e2)) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace hn::services::rag
