// parallel.h — run one piece of CPU work on every core at once, on helper threads that live
// as long as the process (a batch of signature checks, say): starting and ending a thread
// per batch cost more than the work it shared on a 2-core machine.
//
// Thread-safety: run_on_all_cores may be called from any thread. One caller at a time gets
// the helpers; a caller that finds them busy (or runs in a forked child, which has none)
// does the work alone — `work` must therefore split itself (e.g. take chunks off a shared
// atomic cursor) and be correct with any number of concurrent runners, one included.
#pragma once

#include <cstddef>
#include <functional>

namespace hn {

// Calls `work` on this thread and on each of the other cores' helpers, and returns when
// every call has returned. `work` must not throw.
void run_on_all_cores(const std::function<void()>& work);

// How many threads run_on_all_cores can use at most (this one included).
std::size_t parallel_runners();

}  // namespace hn
