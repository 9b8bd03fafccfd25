// The plugin's per-route request counters in shared memory (the layout:
// stats_format.h): StatsWriter on the plugin's side, StatsReader on the
// controller's.
//
// The protocol. The writer is ATS: it makes a fresh object each time it
// starts (StatsWriter::create), replacing any left by an earlier run:
//   1. unlink the old name (readers that mapped the old object keep it, with
//      its last counts, until they look again);
//   2. create the new object exclusively and size it with ftruncate (all
//      zeros: its magic is 0);
//   3. fill in the header, then store the magic with release.
// A reader that opens the name meanwhile finds nothing (between 1 and 2), an
// empty object or a header without its magic (between 2 and 3): all three are
// kStatsNotFound, "the plugin has not created its counters (yet)", never a
// half-initialised header taken for a real one. After 3 the header never
// changes but for next_thread and dropped; counters only grow.
//
// Each writer thread claims a block on its first count (an atomic counter in
// the header) and is its only writer; threads past max_threads share the
// overflow block, counted with fetch_add. A reader sums every claimed block
// up to its high-water mark. A new instance id tells it that ATS restarted
// and every count began again from zero (for Prometheus: a counter reset).
//
// The last counts outlive ATS: the object stays until the next ATS replaces
// it (or the controller's remove()), so a reader sees the final figures of a
// stopped ATS, then a new instance.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "errors.h"
#include "stats_format.h"

namespace atsi {

struct StatsOptions {
  uint32_t max_slots = kStatsDefaultSlots;      // 1..kStatsSlotLimit
  uint32_t max_threads = kStatsDefaultThreads;  // 1..kStatsThreadLimit, plus the overflow block
  uint32_t mode = 0640;                         // of the object, whatever the umask
};

class StatsWriter {
 public:
  // One thread's block. Owned blocks have one writer (the thread they were
  // given to); the overflow block is shared.
  class Thread {
   public:
    // Counts one request of `slot` whose response to the client had HTTP
    // status `status` (100..599) and whose cache lookup ended in `cache`.
    // A slot, status or cache result out of range is not counted but adds
    // one to the header's dropped. No lock, no allocation, no system call.
    void count(uint32_t slot, uint32_t status, CacheResult cache) noexcept {
      uint32_t status_class = status / 100 - 1;  // 100..599 -> 0..4; below 100 wraps
      uint32_t cache_index = uint32_t(cache);
      if (slot >= max_slots_ || status_class >= kStatsStatusClasses || cache_index >= kCacheResultCount)
          [[unlikely]] {
        dropped_->fetch_add(1, std::memory_order_relaxed);
        return;
      }
      std::atomic<uint64_t>* c = counters_ + size_t(slot) * kStatsCounterCount;
      if (!shared_) [[likely]] {
        bump(c[status_class]);
        bump(c[kStatsHitFresh + cache_index]);
        if (slot >= high_water_) [[unlikely]] {
          high_water_ = slot + 1;
          block_->high_water.store(high_water_, std::memory_order_release);
        }
      } else {
        c[status_class].fetch_add(1, std::memory_order_relaxed);
        c[kStatsHitFresh + cache_index].fetch_add(1, std::memory_order_relaxed);
        raise_shared(slot + 1);
      }
    }
    // Whether this is the overflow block (more threads than max_threads).
    bool shared() const noexcept { return shared_; }

   private:
    friend class StatsWriter;
    // Single writer: no read-modify-write needed, only a store readers
    // cannot see torn.
    static void bump(std::atomic<uint64_t>& c) noexcept {
      c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
    void raise_shared(uint32_t want) noexcept {
      uint32_t cur = block_->high_water.load(std::memory_order_relaxed);
      while (cur < want && !block_->high_water.compare_exchange_weak(cur, want, std::memory_order_release,
                                                                     std::memory_order_relaxed)) {
      }
    }

    std::atomic<uint64_t>* counters_ = nullptr;
    StatsBlockHeader* block_ = nullptr;
    std::atomic<uint64_t>* dropped_ = nullptr;
    uint32_t max_slots_ = 0;
    uint32_t high_water_ = 0;  // the owner's copy of block_->high_water
    bool shared_ = false;
  };

  // Makes a fresh counters object for `table`, replacing one left by an
  // earlier run (see the protocol above). kInvalidName, kInvalidArg (an
  // option out of range) or kSystem.
  static Error create(std::string_view table, const StatsOptions& options, std::unique_ptr<StatsWriter>& out);

  // Unmaps; the object stays, with its counts, for readers. Every Thread&
  // handed out dies with the writer: keep it for the life of the process.
  ~StatsWriter();
  StatsWriter(const StatsWriter&) = delete;
  StatsWriter& operator=(const StatsWriter&) = delete;

  // The calling thread's block: given on the thread's first call (the only
  // call that may allocate or make a system call, inside pthread_setspecific),
  // then one pthread_getspecific.
  Thread& thread() noexcept {
    if (void* t = ::pthread_getspecific(key_)) [[likely]]
      return *static_cast<Thread*>(t);
    return attach();
  }

  uint64_t instance() const noexcept { return header_->instance; }
  const std::string& object_name() const noexcept { return name_; }
  // What the object may come to take in memory (its whole size), and what
  // its filesystem had free when it was created: the plugin warns when the
  // first exceeds the second (stats_format.h: a page tmpfs cannot give
  // faults the thread that writes it).
  uint64_t size_bytes() const noexcept { return size_; }
  uint64_t filesystem_free_bytes() const noexcept { return fs_free_; }

 private:
  StatsWriter() = default;
  Thread& attach() noexcept;

  std::string name_;
  StatsHeader* header_ = nullptr;
  size_t size_ = 0;
  uint64_t fs_free_ = 0;
  pthread_key_t key_{};
  bool key_made_ = false;
  std::vector<Thread> threads_;  // max_threads owned blocks, then the overflow
};

// What one read saw besides the counters.
struct StatsSnapshot {
  uint64_t instance = 0;    // changes when a new writer (ATS) made the object anew
  uint64_t created_ms = 0;
  uint64_t writer_pid = 0;
  uint64_t dropped = 0;     // count() calls refused (slot, status or cache result out of range)
  uint32_t slots = 0;       // counters holds slots × kStatsCounterCount: the largest high-water mark
  uint32_t max_slots = 0;
  uint32_t max_threads = 0;
  uint32_t blocks = 0;      // blocks read: threads that claimed one, the overflow block counting once
  bool overflow = false;    // more threads than max_threads have counted
};

// The sizes a reader takes from a header, once validated, and uses from then
// on (never the header's own fields again: the object is writable by ATS).
struct StatsLayout {
  uint32_t header_size = 0;
  uint32_t max_threads = 0;
  uint32_t max_slots = 0;
  uint32_t block_header_size = 0;
  uint64_t block_size = 0;
  uint64_t total_size = 0;
  uint64_t instance = 0;
  uint64_t created_ms = 0;
  uint64_t writer_pid = 0;
};

// Checks the header at `base` (8-byte aligned, `size` bytes mapped) and
// every size it gives against `size`; fills `out` from it. kStatsNotFound
// when the header is not there yet (size 0, or the magic is 0: the writer is
// creating it), kInvalidStats when it is wrong.
Error validate_stats(const uint8_t* base, size_t size, StatsLayout& out);

// Sums every claimed block of a validated object up to its high-water mark
// into `counters` (resized to slots × kStatsCounterCount). kInvalidStats when
// a block's high-water mark is past max_slots.
Error sum_stats(const uint8_t* base, const StatsLayout& layout, std::vector<uint64_t>& counters, StatsSnapshot& out);

// The controller's side: read-only, never writes to the object.
class StatsReader {
 public:
  explicit StatsReader(std::string table);
  ~StatsReader();
  StatsReader(const StatsReader&) = delete;
  StatsReader& operator=(const StatsReader&) = delete;

  // Opens the object by name, maps it anew if it is not the one mapped
  // (another inode: ATS restarted), validates it, and sums the counters.
  // kStatsNotFound when there is none (or it is being created: see the
  // protocol above), kInvalidStats, kSystem.
  Error read(std::vector<uint64_t>& counters, StatsSnapshot& out);

  const std::string& table() const noexcept { return table_; }

 private:
  void unmap();

  std::string table_;
  std::string name_;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  uint64_t dev_ = 0, ino_ = 0;
  StatsLayout layout_;
};

// Unlinks the counters object of `table` (none is no error). A running ATS
// keeps counting into the unlinked object; readers see kStatsNotFound until
// an ATS creates a new one.
Error remove_stats(std::string_view table);

}  // namespace atsi
