// ingest_stages.cpp — IngestPipeline::chunk_and_embed: a document to chunks and vectors.
// A PDF's pages are chunked in groups (chunk_pages: a few batched embed.tokenize calls per
// group) on a helper thread while the ingest thread embeds the groups already chunked, so
// the embedder — the part that should bound an ingest — waits only for the first group
// (bench/RESULTS.md "RAG ingest"). Nothing is written here: the caller stores the whole
// document in one transaction afterwards.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <span>
#include <thread>

#include "services/rag/ingest.h"

namespace hn::services::rag {
namespace {

// PDF pages are chunked in groups that double from FIRST_GROUP_PAGES (the embedder waits
// only for a few pages) to LAST_GROUP_PAGES (few, full embed.text calls: a call's last
// decode is a partial one, so many small calls cost the embedder more than a few big ones).
constexpr std::size_t FIRST_GROUP_PAGES = 8;
constexpr std::size_t LAST_GROUP_PAGES = 128;

// The chunking thread's groups, handed to the ingest thread in order.
struct Handoff {
  std::mutex mutex;
  std::condition_variable ready_cv;
  std::deque<std::pair<std::vector<Chunk>, int>> ready;  // a group's chunks, pages done after it
  bool done = false;
  bool stop = false;
};

// Joins the chunking thread on every way out, telling it to stop first.
class Joiner {
 public:
  Joiner(Handoff& h, std::thread& t) : m_h(h), m_t(t) {}
  ~Joiner() {
    {
      std::lock_guard lock(m_h.mutex);
      m_h.stop = true;
    }
    if (m_t.joinable()) m_t.join();
  }
  Joiner(const Joiner&) = delete;
  Joiner& operator=(const Joiner&) = delete;

 private:
  Handoff& m_h;
  std::thread& m_t;
};

Error no_text() { return make_error(ErrorCode::bad_request, "the document has no text to index"); }

}  // namespace

Result<IngestPipeline::Embedded> IngestPipeline::chunk_and_embed(
    const Loaded& doc, const ChunkOptions& options, const std::string& model, IngestProgress& state,
    const ProgressFn& report, const bus::CancelToken& cancel) {
  Embedded out;
  int batches = 0;
  // Embeds `chunks` (appended to out) in the pipeline's batches, with progress and the hook.
  auto embed = [&](std::vector<Chunk> chunks) -> Status {
    if (cancel.is_cancelled()) return make_error(ErrorCode::timeout, "cancelled by the caller");
    const auto before = static_cast<std::int64_t>(out.chunks.size());
    if (!model.empty()) {
      std::vector<std::string> texts;
      texts.reserve(chunks.size());
      for (const auto& c : chunks) texts.push_back(c.text);
      auto on_batch = [&](std::size_t done) -> Status {
        if (m_hooks.kill_after_batches > 0 && ++batches >= m_hooks.kill_after_batches)
          ingest_kill_self("embedding");
        state.chunks_done = before + static_cast<std::int64_t>(done);
        return report ? report(state) : Status{};
      };
      HN_TRY_ASSIGN(auto vectors,
                    m_embedder.embed(model, texts, cancel, on_batch, m_hooks.batch_texts));
      for (auto& v : vectors) out.vectors.push_back(std::move(v));
    } else {
      state.chunks_done = before + static_cast<std::int64_t>(chunks.size());
      if (report) HN_TRY(report(state));
    }
    for (auto& c : chunks) out.chunks.push_back(std::move(c));
    return {};
  };

  const auto bytes = std::as_bytes(std::span(doc.bytes));
  if (doc.media_type != "application/pdf") {
    state.pages_total = 1;
    HN_TRY_ASSIGN(auto chunks, chunk_document(bytes, doc.media_type, options));
    if (chunks.empty()) return no_text();
    state.pages_done = 1;
    state.chunks_total = static_cast<std::int64_t>(chunks.size());
    if (report) HN_TRY(report(state));
    HN_TRY(embed(std::move(chunks)));
    return out;
  }

  HN_TRY_ASSIGN(auto pages, pdf_pages(bytes));
  state.pages_total = static_cast<int>(pages.size());
  Handoff h;
  std::thread chunker([&h, &pages, &options] {
    int ordinal = 0;
    std::size_t size = FIRST_GROUP_PAGES;
    for (std::size_t first = 0; first < pages.size();
         first += size, size = std::min(2 * size, LAST_GROUP_PAGES)) {
      {
        std::lock_guard lock(h.mutex);
        if (h.stop) break;
      }
      const std::size_t end = std::min(pages.size(), first + size);
      const std::vector<PageText> group(
          std::make_move_iterator(pages.begin() + static_cast<std::ptrdiff_t>(first)),
          std::make_move_iterator(pages.begin() + static_cast<std::ptrdiff_t>(end)));
      auto chunks = chunk_pages(group, options, ordinal);
      ordinal += static_cast<int>(chunks.size());
      {
        std::lock_guard lock(h.mutex);
        h.ready.emplace_back(std::move(chunks), static_cast<int>(end));
      }
      h.ready_cv.notify_one();
    }
    {
      std::lock_guard lock(h.mutex);
      h.done = true;
    }
    h.ready_cv.notify_one();
  });
  Joiner joiner(h, chunker);
  while (true) {
    std::vector<Chunk> group;
    {
      // Every group ready by now goes into one call, up to a full batch.
      std::unique_lock lock(h.mutex);
      h.ready_cv.wait(lock, [&] { return !h.ready.empty() || h.done; });
      if (h.ready.empty()) break;
      while (!h.ready.empty() &&
             (group.empty() || group.size() + h.ready.front().first.size() <= EMBED_MAX_TEXTS)) {
        for (auto& c : h.ready.front().first) group.push_back(std::move(c));
        state.pages_done = h.ready.front().second;
        h.ready.pop_front();
      }
    }
    state.chunks_total += static_cast<std::int64_t>(group.size());
    if (report) HN_TRY(report(state));
    if (!group.empty()) HN_TRY(embed(std::move(group)));
  }
  if (out.chunks.empty()) return no_text();
  return out;
}

}  // namespace hn::services::rag
