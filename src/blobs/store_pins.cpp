// store_pins.cpp — M07 §5.3: the blob store's pins, kept in pinned.txt (store.h).
#include "blobs/store.h"

#include <string>

#include "blobs/detail/store_scan.h"
#include "core/file_util.h"
#include "core/hash.h"

namespace hn::blobs {

using detail::check_cid_arg;

// --- pins (M07 §5.3) ---------------------------------------------------------------------

Status BlobStore::load_pins() {
  auto text = read_file(m_dir / PINNED_FILE);
  if (!text.has_value()) {
    if (text.error().code == ErrorCode::not_found) return {};
    return text.take_error();
  }
  std::size_t start = 0;
  int line_no = 0;
  const std::string& s = *text;
  while (start <= s.size()) {
    std::size_t end = s.find('\n', start);
    if (end == std::string::npos) end = s.size();
    std::string_view line(s.data() + start, end - start);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) {
      if (!is_valid_cid(line)) {
        return make_error(ErrorCode::io_error, (m_dir / PINNED_FILE).string() + " line " +
                                                   std::to_string(line_no) + " is not a CID");
      }
      m_pins.emplace(line);
    }
    start = end + 1;
  }
  return {};
}

Status BlobStore::save_pins_locked() const {
  std::string text;
  for (const auto& cid : m_pins) text += cid + "\n";
  return atomic_write_file(m_dir / PINNED_FILE, text);
}

bool BlobStore::is_pinned_locked(std::string_view cid) const { return m_pins.contains(cid); }

Status BlobStore::pin(std::string_view cid) {
  HN_TRY(check_cid_arg(cid));
  std::shared_lock lock(m_lock);  // a GC pass (exclusive) sees a pin entirely or not at all
  std::lock_guard pins(m_pins_mutex);
  if (!m_pins.emplace(cid).second) return {};
  Status saved = save_pins_locked();
  if (!saved.has_value()) m_pins.erase(m_pins.find(cid));
  return saved;
}

Status BlobStore::unpin(std::string_view cid) {
  HN_TRY(check_cid_arg(cid));
  std::shared_lock lock(m_lock);
  std::lock_guard pins(m_pins_mutex);
  auto it = m_pins.find(cid);
  if (it == m_pins.end()) return {};
  std::string removed = *it;
  m_pins.erase(it);
  Status saved = save_pins_locked();
  if (!saved.has_value()) m_pins.insert(std::move(removed));
  return saved;
}

bool BlobStore::is_pinned(std::string_view cid) const {
  std::lock_guard pins(m_pins_mutex);
  return is_pinned_locked(cid);
}

std::vector<std::string> BlobStore::pinned() const {
  std::lock_guard pins(m_pins_mutex);
  return {m_pins.begin(), m_pins.end()};
}

}  // namespace hn::blobs
