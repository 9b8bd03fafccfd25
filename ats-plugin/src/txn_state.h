// What the plugin's hooks know of a transaction it routed, packed into two
// words that ATS keeps per transaction (user arguments; router.cc), so that
// nothing is allocated per request: the state word (flags, table, stats
// slot) and the next-hop word (backend, first endpoint, hops tried, table
// generation). And the pure decisions the hooks make from them: the cache
// result a request is counted under, and the next endpoint to try when a
// pod does not accept the connection. No ts.h: tested without ATS.
#pragma once

#include <cstdint>

#include "stats_format.h"

namespace atsi::plugin {

static_assert(sizeof(uintptr_t) == 8, "the per-transaction words are 64 bits");

// ------------------------------------------------------------ state word

enum TxnFlag : uint32_t {
  kTxnRouted = 1u << 0,      // sent to a pod by the plugin: the next-hop word is set
  kTxnCounted = 1u << 1,     // counted at TXN_CLOSE in `slot` of `table`'s counters
  kTxnAuthorized = 1u << 2,  // the request has Authorization and ignore_authentication is 0
  kTxnStorable = 1u << 3,    // the pod's response is one the cache may store (READ_RESPONSE_HDR)
  kTxnNote = 1u << 4,        // the note word holds a TxnNote to free at TXN_CLOSE (router.cc)
};

// The tables a process serves (one per --table name) are numbered from 0.
inline constexpr uint32_t kMaxTables = 256;

struct TxnState {
  uint32_t flags = 0;
  uint32_t table = 0;  // < kMaxTables
  uint32_t slot = 0;   // < kStatsSlotLimit
};

// bits 0-7 flags, 8-15 table, 16-31 slot. Never 0 for a transaction the
// plugin handled (kTxnRouted or kTxnCounted is set).
constexpr uintptr_t pack_state(const TxnState& s) {
  return uintptr_t(s.flags & 0xffu) | uintptr_t(s.table & 0xffu) << 8 | uintptr_t(s.slot & 0xffffu) << 16;
}
constexpr TxnState unpack_state(uintptr_t w) {
  return TxnState{uint32_t(w & 0xffu), uint32_t(w >> 8 & 0xffu), uint32_t(w >> 16 & 0xffffu)};
}
static_assert(kStatsSlotLimit == 1u << 16 && kMaxTables == 1u << 8);

// ------------------------------------------------------------ cache result

// How ATS's cache lookup ended (TSHttpTxnCacheLookupStatusGet), in ATS's
// numbering (TS_CACHE_LOOKUP_*; router.cc checks it), or kLookupNone when
// there was no lookup at all (the call failed).
enum class Lookup : int { kNone = -1, kMiss = 0, kHitStale = 1, kHitFresh = 2, kSkipped = 3 };

// The cache result a finished request is counted under:
//   hit_fresh      ATS answered from a fresh stored response.
//   hit_stale      ATS found a stale one: it was served stale (serve-stale),
//                  revalidated with the pod (a 304 refreshed it), or
//                  replaced by the pod's new answer.
//   miss           nothing stored (or only a variant for other request
//                  headers), the pod answered, and ATS was going to store
//                  its answer: the next request is a hit (unless the write
//                  itself fails: a concurrent writer, a size limit).
//   not_cacheable  everything else: no lookup (a method that is never
//                  cached, cache: bypass, the plugin's own answers), a
//                  skipped lookup, and a miss whose answer the cache may
//                  not store (no explicit freshness, private, no-store,
//                  Set-Cookie, an authorized request, an error page, no
//                  answer from any pod).
constexpr CacheResult cache_result(Lookup lookup, bool storable) {
  switch (lookup) {
    case Lookup::kHitFresh:
      return CacheResult::kHitFresh;
    case Lookup::kHitStale:
      return CacheResult::kHitStale;
    case Lookup::kMiss:
      return storable ? CacheResult::kMiss : CacheResult::kNotCacheable;
    case Lookup::kSkipped:
    case Lookup::kNone:
      break;
  }
  return CacheResult::kNotCacheable;
}

// The status a finished request is counted under: the one sent to the
// client, or 499 (nginx's "client closed request", counted in 4xx) when the
// transaction ended before a response was sent.
inline constexpr uint32_t kStatusClientClosed = 499;

// ------------------------------------------------------------ next hop

// When a pod does not accept the connection, ATS retries through its next
// hop API (TSHttpTxnResponseActionSet; router.cc says why that and not the
// server address). Before each attempt its OS_DNS hook runs; `hop` counts
// those calls for the transaction (0: before the first attempt), and the
// attempt about to start is on the backend's endpoint at position
// (first + hop) mod count. What the hook does then:
//   kPrepare  make the endpoint at `position` the one to try should this
//             attempt fail (ATS takes the next hop before the hook runs);
//   kLast     nothing is left to prepare: this attempt is on the last
//             endpoint not yet tried;
//   kGiveUp   every endpoint (or kMaxHops of them) has been tried and
//             failed: answer 502 now.
struct HopPlan {
  enum Kind : uint8_t { kPrepare, kLast, kGiveUp } kind = kGiveUp;
  uint32_t position = 0;
};

// Endpoints one transaction tries at most; ATS's own bounds usually stop
// it before: proxy.config.http.parent_proxy.per_parent_connect_attempts (2
// by default) attempts on each pod, total_connect_attempts (4) retries in
// all: three pods, the third tried once.
inline constexpr uint32_t kMaxHops = 15;

constexpr HopPlan plan_hop(uint32_t hop, uint32_t first, uint32_t count) {
  const uint32_t tries = count < kMaxHops ? count : kMaxHops;
  if (count == 0 || first >= count || hop >= tries) return {HopPlan::kGiveUp, 0};
  if (hop + 1 >= tries) return {HopPlan::kLast, 0};
  return {HopPlan::kPrepare, uint32_t((uint64_t(first) + hop + 1) % count)};
}

// bits 0-15 the low bits of the table generation routed with, 16-19 hops,
// 20-39 the first endpoint's position in its backend, 40-63 the backend.
// Backends and positions past these widths are routed without retries
// (fits_hop_word false).
struct HopState {
  uint32_t generation_tag = 0;  // generation & 0xffff
  uint32_t hop = 0;             // <= kMaxHops
  uint32_t first = 0;           // < 1 << 20
  uint32_t backend = 0;         // < 1 << 24
};
constexpr bool fits_hop_word(uint32_t backend, uint32_t first) { return backend < (1u << 24) && first < (1u << 20); }
constexpr uint32_t generation_tag(uint64_t generation) { return uint32_t(generation & 0xffffu); }
constexpr uintptr_t pack_hop(const HopState& h) {
  return uintptr_t(h.generation_tag & 0xffffu) | uintptr_t(h.hop & 0xfu) << 16 | uintptr_t(h.first & 0xfffffu) << 20 |
         uintptr_t(h.backend & 0xffffffu) << 40;
}
constexpr HopState unpack_hop(uintptr_t w) {
  return HopState{uint32_t(w & 0xffffu), uint32_t(w >> 16 & 0xfu), uint32_t(w >> 20 & 0xfffffu),
                  uint32_t(w >> 40 & 0xffffffu)};
}
static_assert(kMaxHops <= 0xf);

}  // namespace atsi::plugin
