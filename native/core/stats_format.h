// The layout of the plugin's per-route request counters: one shared-memory
// object per table, /ats-ingress.NAME.stats (stats_object_name() in
// shm_names.h), written by the ATS plugin (StatsWriter, stats_region.h) and
// read by the controller (StatsReader) for its per-Ingress metrics.
//
// The direction is the route table's reversed: ATS creates the object when it
// starts and counts into it on its net threads at TXN_CLOSE; the controller
// only reads. Each backend of the route table may name a stats slot
// (0..65535, assigned by the controller); per slot there are
// kStatsCounterCount u64 counters, in the order of StatsCounter.
//
//   offset 0            StatsHeader, padded to header_size (one page)
//   header_size         block 0: StatsBlockHeader, padded to block_header_size,
//                       then max_slots × counters_per_slot u64 counters
//   + block_size        block 1 ...
//   ...                 block max_threads: the overflow block, shared by every
//                       thread past max_threads (counted with fetch_add)
//
// Thread-major: each writer thread counts only in its own block, and blocks
// are page-aligned, so no two threads write to one cache line or one page
// (the overflow block aside). A thread's block is single-writer: a relaxed
// load and a relaxed store per counter, no read-modify-write.
//
// Sparse: the object is sized with ftruncate, and tmpfs gives memory only to
// pages that are touched. The defaults (16,384 slots, 64 threads) make a block
// 64 B + 16,384 × 72 B = 1,179,712 B, rounded up to 289 pages (1,183,744 B),
// and the object 4 KiB + 65 blocks = 73.4 MiB of virtual size. What it
// really costs is one page for the header plus, per thread that counted,
// the pages up to its high-water mark: the reader reads (and so faults in)
// every counter below it. Slots are dense from 0, so with 1,000 routes that
// get traffic on each of 64 threads: 64 × 18 pages = 4.5 MiB; the whole
// 73.4 MiB only when every thread has counted a request of slot 16,383. The
// filesystem must have room for that worst case: a write to a page tmpfs
// cannot allocate faults (SIGBUS). StatsWriter reports both figures.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace atsi {

// "ATSISTA1" as the u64 of those bytes on a little-endian machine.
inline constexpr uint64_t kStatsMagic = 0x3141545349535441ull;
static_assert(kStatsMagic == (uint64_t('A') | uint64_t('T') << 8 | uint64_t('S') << 16 | uint64_t('I') << 24 |
                              uint64_t('S') << 32 | uint64_t('T') << 40 | uint64_t('A') << 48 |
                              uint64_t('1') << 56));
// Bump on any incompatible change of the layout or of the counters' meaning.
inline constexpr uint32_t kStatsFormatVersion = 1;

// The counters of one slot, in this order (the addon exports the names as
// `statsCounterNames`). A request counts once in a status class (of the
// response sent to the client) and once in a cache result.
enum StatsCounter : uint32_t {
  kStats1xx = 0,
  kStats2xx,
  kStats3xx,
  kStats4xx,
  kStats5xx,
  kStatsHitFresh,
  kStatsHitStale,
  kStatsMiss,
  kStatsNotCacheable,
  kStatsCounterCount
};
inline constexpr const char* kStatsCounterNames[kStatsCounterCount] = {
    "1xx", "2xx", "3xx", "4xx", "5xx", "hit_fresh", "hit_stale", "miss", "not_cacheable"};
inline constexpr uint32_t kStatsStatusClasses = 5;

// How a transaction's cache lookup ended; the counter is kStatsHitFresh + it.
enum class CacheResult : uint32_t {
  kHitFresh = 0,
  kHitStale = 1,
  kMiss = 2,
  kNotCacheable = 3,  // no lookup: bypassed, a method that is never cached, skipped
};
inline constexpr uint32_t kCacheResultCount = 4;
static_assert(kStatsHitFresh + kCacheResultCount == kStatsCounterCount);

inline constexpr uint64_t kStatsPageSize = 4096;
inline constexpr uint32_t kStatsHeaderSize = 4096;
inline constexpr uint32_t kStatsBlockHeaderSize = 64;
// Stats slots are u16 in the route table; threads are bounded so that every
// size fits comfortably in 64 bits and the object in kStatsMaxBytes.
inline constexpr uint32_t kStatsSlotLimit = 65536;
inline constexpr uint32_t kStatsThreadLimit = 1024;
inline constexpr uint32_t kStatsDefaultSlots = 16384;
inline constexpr uint32_t kStatsDefaultThreads = 64;
// (1,024 + 1) blocks of 65,536 slots are 4.8 GB: the largest object a
// writer makes. Readers refuse larger ones.
inline constexpr uint64_t kStatsMaxBytes = 1ull << 33;

struct StatsHeader {
  // kStatsMagic, stored last with release when the object is created: a
  // reader that loads it with acquire sees every other field initialised.
  std::atomic<uint64_t> magic;
  uint32_t format_version;  // kStatsFormatVersion
  uint32_t header_size;     // bytes before block 0, a multiple of kStatsPageSize
  uint32_t max_threads;     // owned blocks; the overflow block comes after them
  uint32_t max_slots;       // per block
  uint32_t counters_per_slot;  // kStatsCounterCount
  uint32_t block_header_size;  // bytes before a block's counters, a multiple of 8
  uint64_t block_size;      // bytes from one block to the next, a multiple of kStatsPageSize
  uint64_t total_size;      // header_size + (max_threads + 1) * block_size
  uint64_t instance;        // random at creation, never 0: a new one means counts restarted from 0
  uint64_t created_ms;      // milliseconds since the Unix epoch
  uint64_t writer_pid;      // for people (in the writer's PID namespace)
  // The fields below change while the writer runs.
  alignas(64) std::atomic<uint32_t> next_thread;  // blocks claimed so far; past max_threads, the overflow is in use
  uint32_t reserved0;
  std::atomic<uint64_t> dropped;  // count() calls refused: slot, status or cache result out of range
};
static_assert(sizeof(StatsHeader) <= kStatsHeaderSize);
static_assert(std::atomic<uint64_t>::is_always_lock_free && std::atomic<uint32_t>::is_always_lock_free,
              "stats need lock-free atomics");
static_assert(sizeof(std::atomic<uint64_t>) == 8 && sizeof(std::atomic<uint32_t>) == 4);

struct StatsBlockHeader {
  // 1 + the largest slot this block has counted (0: none), raised with
  // release after the counts: a reader reads no counter at or past it.
  std::atomic<uint32_t> high_water;
  uint32_t reserved;
};
static_assert(sizeof(StatsBlockHeader) <= kStatsBlockHeaderSize);

// The sizes of an object of `max_slots` × `max_threads` (both within their
// limits), as a writer lays it out.
inline constexpr uint64_t stats_block_size(uint32_t max_slots) {
  uint64_t raw = kStatsBlockHeaderSize + uint64_t(max_slots) * kStatsCounterCount * sizeof(uint64_t);
  return (raw + kStatsPageSize - 1) / kStatsPageSize * kStatsPageSize;
}
inline constexpr uint64_t stats_total_size(uint32_t max_slots, uint32_t max_threads) {
  return kStatsHeaderSize + (uint64_t(max_threads) + 1) * stats_block_size(max_slots);
}
static_assert(stats_block_size(kStatsDefaultSlots) == 289 * kStatsPageSize);
static_assert(stats_total_size(kStatsSlotLimit, kStatsThreadLimit) <= kStatsMaxBytes);

}  // namespace atsi
