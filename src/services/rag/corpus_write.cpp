// corpus_write.cpp — CorpusStore's writers: add_document (one SQLite transaction: the
// document, its chunks with their vectors, their FTS rows, the text stamp; then the vector
// index, the lexical index and the cache), remove_document, and reindex (staged vectors swapped in by one transaction).
#include <algorithm>
#include <set>

#include "core/hash.h"
#include "core/ulid.h"
#include "services/rag/corpus_store_impl.h"

namespace hn::services::rag {

namespace {

std::mutex g_hook_mutex;
std::function<void()> g_add_hook;

void run_add_hook() {
  std::function<void()> hook;
  {
    std::lock_guard lock(g_hook_mutex);
    hook = g_add_hook;
  }
  if (hook) hook();
}

// Deletes a document's FTS rows, chunks and row; its chunks go to `removed`.
Status delete_document_rows(Db& db, std::int64_t doc_id, std::vector<RemovedChunk>& removed) {
  HN_TRY_ASSIGN(auto ids, db.prepare("SELECT id, text FROM chunks WHERE doc_id = ?1"));
  ids.bind(1, doc_id);
  while (true) {
    HN_TRY_ASSIGN(auto row, ids.step());
    if (!row) break;
    removed.push_back(RemovedChunk{ids.column_int(0), ids.column_text(1)});
  }
  // External-content FTS5: a row leaves the index through the 'delete' command with the
  // values it was indexed with.
  HN_TRY_ASSIGN(auto fts, db.prepare("INSERT INTO chunks_fts(chunks_fts, rowid, text, doc_id) "
                                     "SELECT 'delete', id, text, doc_id FROM chunks WHERE doc_id = ?1"));
  fts.bind(1, doc_id);
  HN_TRY(fts.run());
  HN_TRY_ASSIGN(auto chunks, db.prepare("DELETE FROM chunks WHERE doc_id = ?1"));
  chunks.bind(1, doc_id);
  HN_TRY(chunks.run());
  HN_TRY_ASSIGN(auto doc, db.prepare("DELETE FROM documents WHERE id = ?1"));
  doc.bind(1, doc_id);
  return doc.run();
}

Status set_meta(Db& db, std::string_view key, std::string_view value) {
  HN_TRY_ASSIGN(auto s, db.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)"));
  s.bind(1, key);
  s.bind(2, value);
  return s.run();
}

// Inside a write's transaction: the database's next text stamp (lexical_file.h), written to
// `meta`. Every write of chunk text calls it, so a lexical.idx saved before is stale.
Result<TextStamp> bump_text_stamp(Db& db) {
  HN_TRY_ASSIGN(auto writes, meta_value(db, "text_writes"));
  TextStamp next{to_int(writes) + 1, new_ulid()};
  HN_TRY(set_meta(db, "text_writes", std::to_string(next.writes)));
  HN_TRY(set_meta(db, "text_nonce", next.nonce));
  return next;
}

Error bad(std::string message) { return make_error(ErrorCode::bad_request, std::move(message)); }

// The terms of removed chunks, for the lexical index (under write_mutex: its tokenizer).
std::vector<ChunkTerms> terms_of(CorpusStore::Impl& im, const std::vector<RemovedChunk>& removed) {
  std::vector<ChunkTerms> out;
  out.reserve(removed.size());
  for (const auto& c : removed) out.push_back(count_terms(*im.write_tokenizer, c.text));
  return out;
}

// Under the exclusive state lock: the removed chunks leave both indexes.
void forget_removed(CorpusStore::Impl& im, const std::vector<RemovedChunk>& removed,
                    const std::vector<ChunkTerms>& terms) {
  for (std::size_t i = 0; i < removed.size(); ++i) {
    im.lexical.remove(removed[i].id, terms[i]);
    if (im.index) im.index->remove(removed[i].id);
  }
  if (im.index) im.unsaved += static_cast<std::int64_t>(removed.size());
  im.lexical_unsaved += static_cast<std::int64_t>(removed.size());
}

}  // namespace

void set_add_document_hook_for_test(std::function<void()> hook) {
  std::lock_guard lock(g_hook_mutex);
  g_add_hook = std::move(hook);
}

Status CorpusStore::add_document(const DocumentInfo& doc, const std::vector<Chunk>& chunks,
                                 const std::vector<std::vector<float>>& vectors,
                                 const std::string& embedding_model) {
  // Everything is checked before the first write: bad input leaves the corpus as it was.
  if (!is_valid_cid(doc.doc_cid)) return bad("doc_cid must be blake3:<64 hex>");
  if (!doc.metadata.is_object() && !doc.metadata.is_null()) return bad("metadata must be an object");
  if (chunks.empty()) return bad("a document needs at least one chunk");
  std::set<int> ordinals;
  for (const auto& c : chunks) {
    if (c.text.empty()) return bad("chunk text is empty");
    if (c.ordinal < 0 || !ordinals.insert(c.ordinal).second) return bad("chunk ordinals must be unique and >= 0");
  }
  const bool with_vectors = !vectors.empty();
  std::vector<std::vector<float>> unit;
  if (with_vectors) {
    if (vectors.size() != chunks.size()) return bad("one vector per chunk");
    if (embedding_model.empty()) return bad("vectors need the embedding model's name");
    unit = vectors;
    for (auto& v : unit) {
      if (v.size() != unit.front().size()) return bad("vectors differ in dimension");
      if (!normalise(v)) return bad("a vector is empty, zero or not finite");
    }
  }
  const int dim = with_vectors ? static_cast<int>(unit.front().size()) : 0;
  // Chunks go in ordinal order so ids follow (doc, ordinal).
  std::vector<std::size_t> order(chunks.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return chunks[a].ordinal < chunks[b].ordinal; });

  std::lock_guard write(m_impl->write_mutex);
  Impl& im = *m_impl;
  std::int64_t old_id = -1;
  bool adopt_model = false;
  {
    std::shared_lock lock(im.state_mutex);
    if (with_vectors && im.dim != 0 && (im.model != embedding_model || im.dim != dim)) {
      // A corpus has one model at a time; it may change only while it holds no vector.
      if (im.index && im.index->size() > 0)
        return make_error(ErrorCode::bad_request, "the corpus's vectors come from another model (reindex first)",
                          Json{{"corpus_model", im.model}, {"corpus_dim", im.dim}, {"model", embedding_model},
                               {"dim", dim}});
    }
    if (im.reindexing && with_vectors) return bad("a reindex is in progress");
    adopt_model = with_vectors && (im.model != embedding_model || im.dim != dim);
    auto it = im.doc_ids.find(doc.doc_cid);
    if (it != im.doc_ids.end()) old_id = it->second;
  }

  // The new chunks' terms, in id order, for the lexical index once committed.
  std::vector<ChunkTerms> added_terms;
  added_terms.reserve(order.size());
  for (std::size_t i : order) added_terms.push_back(count_terms(*im.write_tokenizer, chunks[i].text));

  std::vector<RemovedChunk> removed;
  TextStamp stamp;
  std::int64_t new_id = 0;
  std::int64_t tokens = 0;
  for (const auto& c : chunks) tokens += c.tokens;
  const Json metadata = doc.metadata.is_object() ? doc.metadata : Json::object();
  HN_TRY(in_transaction(im.db, [&]() -> Status {
    if (old_id >= 0) HN_TRY(delete_document_rows(im.db, old_id, removed));
    HN_TRY_ASSIGN(auto ins, im.db.prepare(
                                "INSERT INTO documents(doc_cid, title, language, media_type, metadata, model, "
                                "chunks, tokens) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
    ins.bind(1, doc.doc_cid);
    ins.bind(2, doc.title);
    ins.bind(3, doc.language);
    ins.bind(4, doc.media_type);
    ins.bind(5, metadata.dump());
    ins.bind(6, with_vectors ? embedding_model : std::string());
    ins.bind(7, static_cast<std::int64_t>(chunks.size()));
    ins.bind(8, tokens);
    HN_TRY(ins.run());
    new_id = sqlite3_last_insert_rowid(im.db.handle());
    HN_TRY_ASSIGN(auto chunk, im.db.prepare("INSERT INTO chunks(doc_id, ordinal, page, tokens, text, vector) "
                                            "VALUES(?1, ?2, ?3, ?4, ?5, ?6)"));
    HN_TRY_ASSIGN(auto fts, im.db.prepare("INSERT INTO chunks_fts(rowid, text, doc_id) VALUES(?1, ?2, ?3)"));
    for (std::size_t i : order) {
      const Chunk& c = chunks[i];
      chunk.reset();
      chunk.bind(1, new_id);
      chunk.bind(2, static_cast<std::int64_t>(c.ordinal));
      chunk.bind(3, static_cast<std::int64_t>(c.page));
      chunk.bind(4, static_cast<std::int64_t>(c.tokens));
      chunk.bind(5, c.text);
      if (with_vectors) {
        const auto blob = vector_to_blob(unit[i]);
        chunk.bind_blob(6, blob.data(), blob.size());
      } else {
        chunk.bind_null(6);
      }
      HN_TRY(chunk.run());
      const std::int64_t chunk_id = sqlite3_last_insert_rowid(im.db.handle());
      fts.reset();
      fts.bind(1, chunk_id);
      fts.bind(2, c.text);
      fts.bind(3, new_id);
      HN_TRY(fts.run());
    }
    if (adopt_model) {
      HN_TRY(set_meta(im.db, "model", embedding_model));
      HN_TRY(set_meta(im.db, "dim", std::to_string(dim)));
    }
    HN_TRY_ASSIGN(stamp, bump_text_stamp(im.db));
    run_add_hook();
    return {};
  }));

  // Committed: the database holds the document whole. Now the index and the cache.
  HN_TRY_ASSIGN(auto first_stmt, im.db.prepare("SELECT MIN(id) FROM chunks WHERE doc_id = ?1"));
  first_stmt.bind(1, new_id);
  HN_TRY(first_stmt.step());
  const std::int64_t first = first_stmt.column_int(0);
  const std::vector<ChunkTerms> removed_terms = terms_of(im, removed);
  Status index_status;
  {
    std::unique_lock lock(im.state_mutex);
    if (adopt_model) {
      im.model = embedding_model;
      im.dim = dim;
      im.index = VectorIndex::create(dim);
    }
    forget_removed(im, removed, removed_terms);
    for (std::size_t j = 0; j < added_terms.size(); ++j)
      im.lexical.add(first + static_cast<std::int64_t>(j), added_terms[j]);
    im.lexical_unsaved += static_cast<std::int64_t>(added_terms.size());
    im.text_stamp = stamp;
    if (im.index) {
      if (with_vectors) {
        std::vector<std::int64_t> ids(order.size());
        std::vector<std::vector<float>> sorted(order.size());
        for (std::size_t j = 0; j < order.size(); ++j) {
          ids[j] = first + static_cast<std::int64_t>(j);
          sorted[j] = std::move(unit[order[j]]);
        }
        // A failure here (out of memory) leaves the database right; the next open re-adds.
        index_status = im.index->add_batch(ids, sorted);
      }
      im.unsaved += static_cast<std::int64_t>(with_vectors ? chunks.size() : 0);
    }
    if (old_id >= 0) im.cache_erase(old_id);
    DocEntry entry;
    entry.info = doc;
    entry.info.metadata = metadata;
    entry.info.chunks = static_cast<std::int64_t>(chunks.size());
    entry.info.tokens = tokens;
    entry.model = with_vectors ? embedding_model : std::string();
    entry.first_chunk = first;
    entry.last_chunk = first + static_cast<std::int64_t>(chunks.size()) - 1;
    im.cache_put(new_id, std::move(entry));
  }
  HN_TRY(index_status);
  std::shared_lock lock(im.state_mutex);
  return im.save_indexes(false);
}

Status CorpusStore::remove_document(const std::string& doc_cid) {
  std::lock_guard write(m_impl->write_mutex);
  Impl& im = *m_impl;
  std::int64_t id = -1;
  {
    std::shared_lock lock(im.state_mutex);
    auto it = im.doc_ids.find(doc_cid);
    if (it == im.doc_ids.end())
      return make_error(ErrorCode::not_found, "no such document in the corpus", Json{{"doc_cid", doc_cid}});
    id = it->second;
  }
  std::vector<RemovedChunk> removed;
  TextStamp stamp;
  HN_TRY(in_transaction(im.db, [&]() -> Status {
    HN_TRY(delete_document_rows(im.db, id, removed));
    HN_TRY_ASSIGN(stamp, bump_text_stamp(im.db));
    return {};
  }));
  const std::vector<ChunkTerms> removed_terms = terms_of(im, removed);
  {
    std::unique_lock lock(im.state_mutex);
    forget_removed(im, removed, removed_terms);
    im.text_stamp = stamp;
    im.cache_erase(id);
  }
  std::shared_lock lock(im.state_mutex);
  return im.save_indexes(false);
}

Status CorpusStore::begin_reindex(const std::string& embedding_model, int dim) {
  if (embedding_model.empty() || dim <= 0 || dim > 65536) return bad("reindex needs a model and a dimension");
  std::lock_guard write(m_impl->write_mutex);
  HN_TRY(m_impl->db.exec("DELETE FROM reindex_vectors"));
  m_impl->reindexing = true;
  m_impl->reindex_model = embedding_model;
  m_impl->reindex_dim = dim;
  return {};
}

Status CorpusStore::put_reindexed(const std::vector<std::int64_t>& ids, const std::vector<std::vector<float>>& vectors) {
  std::lock_guard write(m_impl->write_mutex);
  Impl& im = *m_impl;
  if (!im.reindexing) return bad("no reindex in progress (begin_reindex first)");
  if (ids.size() != vectors.size()) return bad("one vector per chunk id");
  std::vector<std::vector<float>> unit = vectors;
  for (auto& v : unit) {
    if (v.size() != static_cast<std::size_t>(im.reindex_dim)) return bad("vector has the wrong dimension");
    if (!normalise(v)) return bad("a vector is empty, zero or not finite");
  }
  return in_transaction(im.db, [&]() -> Status {
    HN_TRY_ASSIGN(auto exists, im.db.prepare("SELECT 1 FROM chunks WHERE id = ?1"));
    HN_TRY_ASSIGN(auto put, im.db.prepare("INSERT OR REPLACE INTO reindex_vectors(chunk_id, vector) VALUES(?1, ?2)"));
    for (std::size_t i = 0; i < ids.size(); ++i) {
      exists.reset();
      exists.bind(1, ids[i]);
      HN_TRY_ASSIGN(auto row, exists.step());
      if (!row) return make_error(ErrorCode::not_found, "no chunk " + std::to_string(ids[i]));
      put.reset();
      put.bind(1, ids[i]);
      const auto blob = vector_to_blob(unit[i]);
      put.bind_blob(2, blob.data(), blob.size());
      HN_TRY(put.run());
    }
    return {};
  });
}

Status CorpusStore::commit_reindex() {
  std::lock_guard write(m_impl->write_mutex);
  Impl& im = *m_impl;
  if (!im.reindexing) return bad("no reindex in progress (begin_reindex first)");
  std::int64_t generation = 0;
  {
    std::shared_lock lock(im.state_mutex);
    generation = im.generation + 1;
  }
  HN_TRY(in_transaction(im.db, [&]() -> Status {
    HN_TRY_ASSIGN(auto lacking, im.db.prepare("SELECT COUNT(*) FROM chunks c WHERE NOT EXISTS "
                                              "(SELECT 1 FROM reindex_vectors r WHERE r.chunk_id = c.id)"));
    HN_TRY(lacking.step());
    if (const auto n = lacking.column_int(0); n > 0)
      return make_error(ErrorCode::bad_request, std::to_string(n) + " chunks have no reindexed vector yet",
                        Json{{"missing", n}});
    HN_TRY(im.db.exec("UPDATE chunks SET vector = (SELECT vector FROM reindex_vectors r WHERE r.chunk_id = chunks.id)"));
    HN_TRY_ASSIGN(auto model, im.db.prepare("UPDATE documents SET model = ?1"));
    model.bind(1, im.reindex_model);
    HN_TRY(model.run());
    HN_TRY(set_meta(im.db, "model", im.reindex_model));
    HN_TRY(set_meta(im.db, "dim", std::to_string(im.reindex_dim)));
    HN_TRY(set_meta(im.db, "generation", std::to_string(generation)));
    return im.db.exec("DELETE FROM reindex_vectors");
  }));
  im.reindexing = false;
  // The database has the new vectors; build their index aside (queries keep the old one
  // meanwhile), then swap it in and save it.
  HN_TRY_ASSIGN(auto fresh, build_index(im.db, im.reindex_dim));
  {
    std::unique_lock lock(im.state_mutex);
    im.model = im.reindex_model;
    im.dim = im.reindex_dim;
    im.generation = generation;
    im.index = std::move(fresh);
    for (auto& [id, entry] : im.docs) entry.model = im.model;
    im.unsaved = 1;
  }
  std::shared_lock lock(im.state_mutex);
  return im.save_indexes(true);
}

}  // namespace hn::services::rag
