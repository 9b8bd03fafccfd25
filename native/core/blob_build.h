// Internal to the core's writers (table_writer.cc, tls_writer.cc): the
// pieces both kinds of blob are built from. A string pool that stores each
// distinct string once, the open-addressing hash index readers probe
// (format.h's IndexSlot), and the section layout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "format.h"
#include "hash.h"

namespace atsi::build {

inline size_t align8(size_t n) { return (n + 7) & ~size_t(7); }

inline uint32_t index_capacity(size_t count) {
  uint32_t cap = 2;
  while (cap < count * 2) cap <<= 1;  // load factor at most 1/2
  return cap;
}

// Each distinct string once, found through an open-addressing index of
// their hashes and offsets into the pool itself: no allocation per string
// (a node-based map allocated one for each of the tens of thousands of
// strings of a large table), and nothing kept that points into the input.
// `base`: where the pool's bytes will begin in the blob's string section
// (after another pool's), which every offset it gives counts from.
class StringPool {
 public:
  explicit StringPool(size_t expected = 0, size_t base = 0) : base_(base) {
    size_t cap = 16;
    while (cap < expected * 2) cap <<= 1;
    slots_.assign(cap, Slot{0, 0, kEmpty});
  }
  StrRef add(std::string_view s) {
    if ((count_ + 1) * 2 > slots_.size()) grow();
    uint64_t h = hash_bytes(s.data(), s.size(), 0x706f6f6cull);
    size_t mask = slots_.size() - 1;
    for (size_t i = size_t(h >> 32) & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.length == kEmpty) {
        slot = {uint32_t(h), uint32_t(bytes_.size()), uint32_t(s.size())};
        ++count_;
        if (!s.empty()) bytes_.append(s.data(), s.size());
        return {uint32_t(base_ + slot.offset), slot.length};
      }
      if (slot.hash == uint32_t(h) && slot.length == s.size() &&
          (s.empty() || std::memcmp(bytes_.data() + slot.offset, s.data(), s.size()) == 0))
        return {uint32_t(base_ + slot.offset), slot.length};
    }
  }
  const std::string& bytes() const { return bytes_; }

 private:
  struct Slot {
    uint32_t hash;
    uint32_t offset;  // into bytes_
    uint32_t length;  // kEmpty: a free slot
  };
  static constexpr uint32_t kEmpty = 0xFFFFFFFFu;

  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.size() * 2, Slot{0, 0, kEmpty});
    size_t mask = slots_.size() - 1;
    for (const Slot& o : old) {
      if (o.length == kEmpty) continue;
      uint64_t h = hash_bytes(bytes_.data() + o.offset, o.length, 0x706f6f6cull);
      size_t i = size_t(h >> 32) & mask;
      while (slots_[i].length != kEmpty) i = (i + 1) & mask;
      slots_[i] = o;
    }
  }

  size_t base_;
  std::string bytes_;
  std::vector<Slot> slots_;
  size_t count_ = 0;
};

struct Index {
  std::vector<IndexSlot> slots;
  explicit Index(size_t count) : slots(index_capacity(count), IndexSlot{0, kNone}) {}
  void insert(uint32_t hash, uint32_t value) {
    uint32_t mask = uint32_t(slots.size() - 1);
    for (uint32_t i = hash & mask;; i = (i + 1) & mask) {
      if (slots[i].value == kNone) {
        slots[i] = {hash, value};
        return;
      }
    }
  }
};

// One section's bytes and its record count (bytes for byte sections).
struct Part {
  const void* data;
  size_t size;
  size_t count;
};

// The size of a blob whose header takes `header_size` bytes, followed by
// each part 8-byte aligned.
inline size_t laid_out_size(size_t header_size, const Part* parts, size_t n) {
  size_t total = align8(header_size);
  for (size_t i = 0; i < n; ++i) total = align8(total + parts[i].size);
  return total;
}

// Copies the parts into `out` (already sized by laid_out_size and zeroed)
// and fills `sections` with where each one went.
inline void lay_out(size_t header_size, const Part* parts, size_t n, std::vector<uint8_t>& out, Section* sections) {
  size_t pos = align8(header_size);
  for (size_t s = 0; s < n; ++s) {
    sections[s] = {uint32_t(pos), uint32_t(parts[s].size), uint32_t(parts[s].count), 0};
    if (parts[s].size) std::memcpy(out.data() + pos, parts[s].data, parts[s].size);
    pos = align8(pos + parts[s].size);
  }
}

}  // namespace atsi::build
