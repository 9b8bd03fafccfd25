// Internal to the core's validating readers (table_view.cc, tls_view.cc):
// the checks both kinds of blob share, and the probe of their hash indexes.
#pragma once

#include <cstdint>

#include "format.h"

namespace atsi::check {

// A string reference inside a pool of `pool` bytes.
inline bool str_ok(StrRef r, uint32_t pool) { return r.offset <= pool && r.length <= pool - r.offset; }

// A hash index section: a power-of-two number of slots, at least one empty
// (so that a probe ends), every value a record index below `limit`.
inline bool index_ok(const Section& s, uint32_t limit, const IndexSlot* slots) {
  uint32_t cap = s.count;
  if (cap == 0 || (cap & (cap - 1)) != 0 || uint64_t(cap) * sizeof(IndexSlot) != s.size) return false;
  bool has_empty = false;
  for (uint32_t i = 0; i < cap; ++i) {
    if (slots[i].value == kNone) {
      has_empty = true;
    } else if (slots[i].value >= limit) {
      return false;
    }
  }
  return has_empty;
}

// Linear probe from `hash` for a slot whose record `is_it(value)` accepts;
// kNone at the first empty slot, and never more than the capacity (mask + 1)
// probes.
template <class IsIt>
inline uint32_t probe(const IndexSlot* slots, uint32_t mask, uint32_t hash, IsIt is_it) {
  for (uint32_t i = hash & mask, n = 0; n <= mask; i = (i + 1) & mask, ++n) {
    const IndexSlot& s = slots[i];
    if (s.value == kNone) return kNone;
    if (s.hash == hash && is_it(s.value)) return s.value;
  }
  return kNone;
}

}  // namespace atsi::check
