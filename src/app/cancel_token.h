// A cancel token: an object the caller of a job or a generation holds and trips from any thread
// (a signal handler, an HTTP handler); the work checks it at its own safe points (a training job
// at optimizer-step boundaries, a generation between tokens). No global state: each job has its
// own token. Cancelling is sticky; there is no un-cancel.
#pragma once

#include <atomic>

namespace tuna {

class CancelToken {
 public:
  // Async-signal-safe (a lock-free atomic store).
  void cancel() noexcept { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const noexcept { return cancelled_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> cancelled_{false};
  static_assert(std::atomic<bool>::is_always_lock_free, "cancel() must be signal-safe");
};

}  // namespace tuna
