#include "core/parallel_for.h"

#include <algorithm>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace flakescope {

std::size_t parallel_for(std::size_t count, std::size_t jobs,
                         const std::function<void(std::size_t index)>& task,
                         const std::atomic<bool>* stop) {
  std::atomic<std::size_t> next{0}, ran{0};
  std::atomic<bool> failed{false};
  std::exception_ptr failure;
  std::mutex mutex;
  auto loop = [&] {
    for (;;) {
      if (failed.load() || (stop && stop->load())) return;
      const std::size_t i = next.fetch_add(1);
      if (i >= count) return;
      try {
        task(i);
        ran.fetch_add(1);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!failure) failure = std::current_exception();
        failed.store(true);
        return;
      }
    }
  };
  std::vector<std::thread> threads;
  const std::size_t n = std::min(std::max<std::size_t>(jobs, 1), count);
  for (std::size_t t = 1; t < n; ++t) threads.emplace_back(loop);
  loop();
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
  return ran.load();
}

}  // namespace flakescope
