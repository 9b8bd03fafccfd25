// An immutable object published by one thread and picked up by many: the
// publisher swaps in a new shared_ptr under a mutex and bumps a version;
// each reader thread keeps its own SnapshotCursor, which costs one acquire
// load of the version per get() in the common case (no lock, no reference
// count traffic, no allocation) and copies the shared_ptr under the mutex
// only when the version moved. The plugin hands its parsed TLS store to the
// handshake threads this way (ats-plugin/src/tls_registry.h).
//
// Why not std::atomic<std::shared_ptr>: libstdc++ implements its load with a
// spin lock bit and two reference-count updates on a cache line every
// handshake thread shares; here the shared line is written once per
// publish, and a thread's old snapshot lives until that thread's next get().
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace atsi {

template <class T>
class Snapshot {
 public:
  // Replaces the value; readers see it at their next get().
  void publish(std::shared_ptr<const T> value) {
    std::lock_guard<std::mutex> lk(mu_);
    value_ = std::move(value);
    version_.fetch_add(1, std::memory_order_release);
  }
  // The value now (may be null). Takes the mutex: for slow paths.
  std::shared_ptr<const T> load() const {
    std::lock_guard<std::mutex> lk(mu_);
    return value_;
  }
  uint64_t version() const noexcept { return version_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const T> value_;
  std::atomic<uint64_t> version_{0};
};

// One thread's view of a Snapshot. Not shared between threads.
template <class T>
class SnapshotCursor {
 public:
  explicit SnapshotCursor(const Snapshot<T>& snapshot) : snapshot_(snapshot) {}

  // The latest value (null before the first publish). The pointer stays valid
  // until this cursor's next get().
  const T* get() {
    uint64_t v = snapshot_.version();
    if (v != seen_) [[unlikely]] {
      // The value loaded is at least as new as version v; if it is newer, the
      // version has moved past v too and the next get() loads again.
      held_ = snapshot_.load();
      seen_ = v;
    }
    return held_.get();
  }
  const Snapshot<T>& snapshot() const { return snapshot_; }

 private:
  const Snapshot<T>& snapshot_;
  uint64_t seen_ = 0;
  std::shared_ptr<const T> held_;
};

}  // namespace atsi
