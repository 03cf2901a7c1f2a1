#pragma once
// The one thread pool of flakescope: `jobs` threads (the caller's among them) take the indices
// [0, count) in order. The first exception a task throws stops the launching of further tasks and
// is rethrown in the caller once every thread has stopped, so an error is never lost in a thread
// and never leaves threads running.
#include <atomic>
#include <cstddef>
#include <functional>

namespace flakescope {

// `stop` (optional) is checked before each task: once set, no new task starts (the running ones
// finish). Returns the number of tasks that ran.
std::size_t parallel_for(std::size_t count, std::size_t jobs,
                         const std::function<void(std::size_t index)>& task,
                         const std::atomic<bool>* stop = nullptr);

}  // namespace flakescope
