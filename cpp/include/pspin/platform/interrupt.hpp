// Cooperative interruption of long calls (Ctrl-C), without any knowledge of Python.
//
// A caller that can be interrupted installs an InterruptPoller on its own thread
// for the duration of one call (InterruptScope). Kernels take an Interrupt token
// on the calling thread before a parallel region and ask `stop()` between units
// of work (rows, tiles, sweeps, tasks), passing the work done since the last ask:
//  - on the thread that installed the poller, after about kPollWork multiply-adds
//    the clock is read, and at most every `interval` the caller's check runs (the
//    Python bindings re-acquire the GIL there and run the signal handlers);
//  - on every thread, stop() is true once a check has said stop (an atomic flag
//    shared with the team), so workers skip their remaining work.
// After the parallel region the kernel returns (its outputs are then garbage) and
// the caller, seeing stopped(), discards them and reports the interruption. No
// exception crosses a parallel region. Without a poller, or while no stop was
// requested, stop() changes no arithmetic: results are bit-identical either way.
#pragma once
#include <omp.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <thread>

namespace pspin {

class InterruptPoller {
 public:
  using Check = bool (*)(void* context);  // true: stop (the caller keeps why)

  InterruptPoller(Check check, void* context, std::chrono::nanoseconds interval)
      : check_(check), context_(context), interval_(interval),
        next_(std::chrono::steady_clock::now() + interval) {}

  bool stopped() const { return stop_.load(std::memory_order_relaxed); }

  // Owner thread only: accumulates work and, now and then, reads the clock and checks.
  bool poll(double work) {
    pending_ += work;
    if (pending_ < kPollWork) return false;
    pending_ = 0.0;
    const auto now = std::chrono::steady_clock::now();
    if (now < next_) return false;
    if (check_(context_)) {
      stop_.store(true, std::memory_order_relaxed);
      return true;
    }
    next_ = std::chrono::steady_clock::now() + interval_;
    return false;
  }

  // Multiply-adds (or comparable units) between clock reads: ~10-100 us of work,
  // so the clock costs well under 0.1 %.
  static constexpr double kPollWork = 1 << 16;

 private:
  Check check_;
  void* context_;
  std::chrono::nanoseconds interval_;
  std::chrono::steady_clock::time_point next_;
  double pending_ = 0.0;
  std::atomic<bool> stop_{false};
};

namespace detail {
// The poller installed on this thread (null: the call is not interruptible).
inline InterruptPoller*& installed_poller() {
  thread_local InterruptPoller* poller = nullptr;
  return poller;
}
// The poller of the call whose parallel region this (worker) thread is running
// (InterruptShare), so that kernels nested in that region see its flag.
inline InterruptPoller*& shared_poller() {
  thread_local InterruptPoller* poller = nullptr;
  return poller;
}
}  // namespace detail

// Installs a poller on the calling thread for one call; restores the previous one.
class InterruptScope {
 public:
  explicit InterruptScope(InterruptPoller* poller) : previous_(detail::installed_poller()) {
    detail::installed_poller() = poller;
  }
  ~InterruptScope() { detail::installed_poller() = previous_; }
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

 private:
  InterruptPoller* previous_;
};

// The interruption state of the current call, taken on the calling thread and
// shared (by reference or copy) with the threads of its parallel regions.
class Interrupt {
 public:
  Interrupt()
      : poller_(detail::installed_poller() != nullptr ? detail::installed_poller() : detail::shared_poller()) {}
  // A token that never stops (no thread-local lookup).
  explicit Interrupt(std::nullptr_t) : poller_(nullptr) {}

  // Whether to stop now; `work` is the work done since this thread last asked.
  bool stop(double work = InterruptPoller::kPollWork) const {
    if (poller_ == nullptr) return false;
    if (poller_->stopped()) return true;
    if (detail::installed_poller() != poller_) return false;  // a worker: the owner polls
    return poller_->poll(work);
  }
  // Whether a stop was requested (any thread; never polls).
  bool stopped() const { return poller_ != nullptr && poller_->stopped(); }
  // Whether this thread polls (it installed the poller).
  bool polling() const { return poller_ != nullptr && detail::installed_poller() == poller_; }

 private:
  friend class InterruptShare;
  InterruptPoller* poller_;
};

// A thread's own throttle in front of an Interrupt, for fine-grained loops (rows of
// a few hundred multiply-adds): adds up the work in a local and asks the shared
// token only once about kPollWork has been done, so a poll site costs an add and
// a compare (the token's thread-local lookup would cost more than a short row).
class InterruptMeter {
 public:
  explicit InterruptMeter(const Interrupt& stop) : stop_(stop) {}
  bool stop(double work) {
    work_ += work;
    if (work_ < InterruptPoller::kPollWork) return false;
    const double done = work_;
    work_ = 0.0;
    return stop_.stop(done);
  }
  bool stopped() const { return stop_.stopped(); }

 private:
  const Interrupt& stop_;
  double work_ = 0.0;
};

// for (t = 0; t < count; ++t) body(t) over the OpenMP team, one task at a time in
// dynamic order (as `omp parallel for schedule(dynamic, 1)`), when `parallel`.
// When the calling thread polls `stop` and runs out of tasks before the others,
// it keeps polling until they are done: a long last task on another thread
// cannot hold back Ctrl-C. Which thread runs which task never changes a result.
template <class Body>
void parallel_tasks(std::int64_t count, bool parallel, const Interrupt& stop, Body&& body) {
  if (!parallel || !stop.polling()) {
#pragma omp parallel for schedule(dynamic, 1) if (parallel)
    for (std::int64_t t = 0; t < count; ++t) body(t);
    return;
  }
  std::atomic<std::int64_t> next{0}, done{0};
#pragma omp parallel
  {
    for (std::int64_t t = next.fetch_add(1); t < count; t = next.fetch_add(1)) {
      body(t);
      done.fetch_add(1, std::memory_order_release);
    }
    if (stop.polling()) {
      const auto since = std::chrono::steady_clock::now();
      while (done.load(std::memory_order_acquire) < count) {
        stop.stop();
        // Spin (politely) through short waits, sleep through long ones.
        if (std::chrono::steady_clock::now() - since < std::chrono::milliseconds(10)) std::this_thread::yield();
        else std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
  }
}

// Inside a parallel region whose body calls kernels that take their own Interrupt
// (samplers, descents): makes this thread's nested tokens share the call's flag.
class InterruptShare {
 public:
  explicit InterruptShare(const Interrupt& stop) : previous_(detail::shared_poller()) {
    detail::shared_poller() = stop.poller_;
  }
  ~InterruptShare() { detail::shared_poller() = previous_; }
  InterruptShare(const InterruptShare&) = delete;
  InterruptShare& operator=(const InterruptShare&) = delete;

 private:
  InterruptPoller* previous_;
};

}  // namespace pspin
