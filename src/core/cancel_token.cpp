// cancel_token.cpp — the shared flag and its callbacks.
#include "core/cancel_token.h"

namespace hn {

CancelToken::CancelToken() : m_state(std::make_shared<State>()) {}

void CancelToken::cancel() const {
  std::map<std::uint64_t, std::function<void()>> callbacks;
  {
    std::lock_guard lock(m_state->mutex);
    if (m_state->flag.exchange(true)) return;
    callbacks.swap(m_state->callbacks);
  }
  for (auto& [id, cb] : callbacks) cb();
}

std::uint64_t CancelToken::on_cancel(std::function<void()> cb) const {
  {
    std::lock_guard lock(m_state->mutex);
    if (!m_state->flag.load()) {
      const std::uint64_t id = m_state->next_id++;
      m_state->callbacks.emplace(id, std::move(cb));
      return id;
    }
  }
  cb();
  return 0;
}

void CancelToken::forget(std::uint64_t id) const {
  if (id == 0) return;
  std::lock_guard lock(m_state->mutex);
  m_state->callbacks.erase(id);
}

}  // namespace hn
