// vector_index.cpp — hnswlib behind VectorIndex (see vector_index.h).
#include "services/rag/vector_index.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <mutex>

#include <hnswlib/hnswlib.h>

#include "core/file_util.h"
#include "core/hash.h"
#include "core/parallel.h"

namespace hn::services::rag {

namespace fs = std::filesystem;
using Hnsw = hnswlib::HierarchicalNSW<float>;

bool normalise(std::vector<float>& v) {
  if (v.empty()) return false;
  double sum = 0;
  for (float x : v) {
    if (!std::isfinite(x)) return false;
    sum += static_cast<double>(x) * x;
  }
  if (!(sum > 0) || !std::isfinite(sum)) return false;
  const double inv = 1.0 / std::sqrt(sum);
  for (float& x : v) x = static_cast<float>(x * inv);
  return true;
}

struct VectorIndex::Impl {
  explicit Impl(int d) : dim(d), space(static_cast<std::size_t>(d)) {}
  int dim;
  hnswlib::InnerProductSpace space;  // must outlive hnsw
  std::unique_ptr<Hnsw> hnsw;

  Status reserve(std::size_t extra) {
    const std::size_t need = hnsw->cur_element_count + extra;
    if (need <= hnsw->max_elements_) return {};
    std::size_t cap = std::max<std::size_t>(hnsw->max_elements_, 1024);
    while (cap < need) cap *= 2;
    try {
      hnsw->resizeIndex(cap);
    } catch (const std::exception& e) {
      return make_error(ErrorCode::internal_error, std::string("vector index: ") + e.what());
    }
    return {};
  }
};

VectorIndex::VectorIndex(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
VectorIndex::~VectorIndex() = default;

std::unique_ptr<VectorIndex> VectorIndex::create(int dim, std::size_t capacity) {
  auto impl = std::make_unique<Impl>(dim);
  impl->hnsw = std::make_unique<Hnsw>(&impl->space, std::max<std::size_t>(capacity, 16), HNSW_M,
                                      HNSW_EF_CONSTRUCTION);
  impl->hnsw->setEf(HNSW_EF_SEARCH);
  return std::unique_ptr<VectorIndex>(new VectorIndex(std::move(impl)));
}

namespace {

// BLAKE3 of a file's bytes, read in 1 MiB pieces.
Result<std::string> hash_file(const fs::path& file) {
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (f == nullptr) return make_error(ErrorCode::not_found, "cannot open " + file.string());
  Blake3Hasher hasher;
  std::vector<char> buf(1 << 20);
  while (true) {
    const std::size_t n = std::fread(buf.data(), 1, buf.size(), f);
    if (n > 0) hasher.update(std::string_view(buf.data(), n));
    if (n < buf.size()) break;
  }
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return make_error(ErrorCode::io_error, "cannot read " + file.string());
  return hasher.hex_cid();
}

fs::path sidecar_of(const fs::path& file) { return fs::path(file.string() + ".meta"); }

}  // namespace

Result<std::unique_ptr<VectorIndex>> VectorIndex::load(const fs::path& file, int dim, const Json& tag) {
  std::error_code ec;
  if (!fs::exists(file, ec) || !fs::exists(sidecar_of(file), ec))
    return make_error(ErrorCode::not_found, "no vector index at " + file.string());
  HN_TRY_ASSIGN(auto meta_text, read_file(sidecar_of(file), 1 << 20));
  auto meta = parse_json(meta_text);
  if (!meta || !meta->is_object() || !meta->contains("tag") || !meta->contains("blake3") ||
      (*meta)["tag"] != tag || !(*meta)["blake3"].is_string())
    return make_error(ErrorCode::db_corrupt, "vector index sidecar missing, torn or stale");
  HN_TRY_ASSIGN(auto hash, hash_file(file));
  if (hash != (*meta)["blake3"].get<std::string>())
    return make_error(ErrorCode::db_corrupt, "vector index file does not match its sidecar");

  auto impl = std::make_unique<Impl>(dim);
  // hnswlib 0.6.2's loading constructor leaves members uninitialised that its destructor
  // frees and that loadIndex adds to (num_deleted_): give them safe values first.
  impl->hnsw = std::make_unique<Hnsw>(&impl->space);
  Hnsw& h = *impl->hnsw;
  h.data_level0_memory_ = nullptr;
  h.linkLists_ = nullptr;
  h.visited_list_pool_ = nullptr;
  h.cur_element_count = 0;
  h.num_deleted_ = 0;
  h.metric_distance_computations = 0;
  h.metric_hops = 0;
  try {
    h.loadIndex(file.string(), &impl->space, 0);
  } catch (const std::exception& e) {
    h.cur_element_count = 0;
    return make_error(ErrorCode::db_corrupt, std::string("vector index unreadable: ") + e.what());
  }
  const std::size_t links0 = h.maxM0_ * sizeof(hnswlib::tableint) + sizeof(hnswlib::linklistsizeint);
  if (h.data_size_ != static_cast<std::size_t>(dim) * sizeof(float) ||
      h.size_data_per_element_ != links0 + h.data_size_ + sizeof(hnswlib::labeltype)) {
    return make_error(ErrorCode::db_corrupt, "vector index has another dimension");
  }
  h.setEf(HNSW_EF_SEARCH);
  return std::unique_ptr<VectorIndex>(new VectorIndex(std::move(impl)));
}

Status VectorIndex::save(const fs::path& file, const Json& tag) const {
  const fs::path tmp = file.parent_path() / ("." + file.filename().string() + ".tmp");
  std::error_code ec;
  fs::remove(tmp, ec);
  try {
    m_impl->hnsw->saveIndex(tmp.string());
  } catch (const std::exception& e) {
    return make_error(ErrorCode::io_error, std::string("cannot write vector index: ") + e.what());
  }
  int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(ErrorCode::io_error, "cannot write vector index " + tmp.string());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return make_error(ErrorCode::io_error, "cannot fsync " + tmp.string());
  HN_TRY_ASSIGN(auto hash, hash_file(tmp));
  // The sidecar goes first: until the rename, the old file no longer matches it (a crash
  // here means a rebuild, never a wrong index).
  const Json meta{{"tag", tag}, {"blake3", hash}};
  HN_TRY(atomic_write_file(sidecar_of(file), meta.dump()));
  if (::rename(tmp.c_str(), file.c_str()) != 0)
    return make_error(ErrorCode::io_error, "cannot rename " + tmp.string());
  return fsync_directory(file.parent_path());
}

int VectorIndex::dim() const { return m_impl->dim; }

std::size_t VectorIndex::size() const {
  return m_impl->hnsw->cur_element_count - m_impl->hnsw->num_deleted_;
}

std::size_t VectorIndex::deleted_count() const { return m_impl->hnsw->num_deleted_; }

void VectorIndex::set_ef(std::size_t ef) { m_impl->hnsw->setEf(std::max<std::size_t>(ef, 1)); }

Status VectorIndex::add(std::int64_t label, std::span<const float> unit_vector) {
  if (unit_vector.size() != static_cast<std::size_t>(m_impl->dim))
    return make_error(ErrorCode::bad_request, "vector has the wrong dimension");
  HN_TRY(m_impl->reserve(1));
  try {
    m_impl->hnsw->addPoint(unit_vector.data(), static_cast<hnswlib::labeltype>(label));
  } catch (const std::exception& e) {
    return make_error(ErrorCode::internal_error, std::string("vector index: ") + e.what());
  }
  return {};
}

Status VectorIndex::add_batch(const std::vector<std::int64_t>& labels,
                              const std::vector<std::vector<float>>& vectors) {
  if (labels.size() != vectors.size())
    return make_error(ErrorCode::bad_request, "labels and vectors differ in number");
  for (const auto& v : vectors)
    if (v.size() != static_cast<std::size_t>(m_impl->dim))
      return make_error(ErrorCode::bad_request, "vector has the wrong dimension");
  HN_TRY(m_impl->reserve(labels.size()));
  std::atomic<std::size_t> cursor{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::string error;
  run_on_all_cores([&] {
    while (!failed.load()) {
      const std::size_t i = cursor.fetch_add(1);
      if (i >= labels.size()) return;
      try {
        m_impl->hnsw->addPoint(vectors[i].data(), static_cast<hnswlib::labeltype>(labels[i]));
      } catch (const std::exception& e) {
        std::lock_guard lock(error_mutex);
        error = e.what();
        failed = true;
      }
    }
  });
  if (failed) return make_error(ErrorCode::internal_error, "vector index: " + error);
  return {};
}

void VectorIndex::remove(std::int64_t label) {
  auto& h = *m_impl->hnsw;
  auto it = h.label_lookup_.find(static_cast<hnswlib::labeltype>(label));
  if (it == h.label_lookup_.end() || h.isMarkedDeleted(it->second)) return;
  h.markDelete(static_cast<hnswlib::labeltype>(label));
}

bool VectorIndex::contains(std::int64_t label) const {
  const auto& h = *m_impl->hnsw;
  auto it = h.label_lookup_.find(static_cast<hnswlib::labeltype>(label));
  return it != h.label_lookup_.end() && !h.isMarkedDeleted(it->second);
}

std::vector<std::int64_t> VectorIndex::labels() const {
  const auto& h = *m_impl->hnsw;
  std::vector<std::int64_t> out;
  out.reserve(h.label_lookup_.size());
  for (const auto& [label, internal] : h.label_lookup_)
    if (!h.isMarkedDeleted(internal)) out.push_back(static_cast<std::int64_t>(label));
  return out;
}

std::vector<std::pair<std::int64_t, float>> VectorIndex::search(std::span<const float> unit_query,
                                                                std::size_t n) const {
  std::vector<std::pair<std::int64_t, float>> out;
  if (n == 0 || unit_query.size() != static_cast<std::size_t>(m_impl->dim) || size() == 0) return out;
  try {
    auto heap = m_impl->hnsw->searchKnn(unit_query.data(), n);
    out.resize(heap.size());
    // The heap yields the farthest first; distance = 1 - cosine.
    for (std::size_t i = heap.size(); i > 0; --i) {
      out[i - 1] = {static_cast<std::int64_t>(heap.top().second), 1.0f - heap.top().first};
      heap.pop();
    }
  } catch (const std::exception&) {
    out.clear();
  }
  return out;
}

std::optional<float> VectorIndex::similarity(std::span<const float> unit_query, std::int64_t label) const {
  const auto& h = *m_impl->hnsw;
  if (unit_query.size() != static_cast<std::size_t>(m_impl->dim)) return std::nullopt;
  auto it = h.label_lookup_.find(static_cast<hnswlib::labeltype>(label));
  if (it == h.label_lookup_.end() || h.isMarkedDeleted(it->second)) return std::nullopt;
  const float distance = h.fstdistfunc_(unit_query.data(), h.getDataByInternalId(it->second), h.dist_func_param_);
  return 1.0f - distance;
}

}  // namespace hn::services::rag
