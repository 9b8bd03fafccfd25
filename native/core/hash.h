// Hashing for the table's indexes and its checksum. Both sides must agree
// bit for bit, so it lives here, written once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace atsi {

inline uint64_t load8(const void* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

// The n < 8 bytes at p as a little-endian word, zero above them, as
// std::memcpy(&w, p, n) into a zeroed word gives it (that call is not
// inlined for a variable n). Reads only those n bytes.
inline uint64_t load_tail(const void* p, size_t n) {
  const auto* b = static_cast<const unsigned char*>(p);
  if (n >= 4) {
    uint32_t lo, hi;
    std::memcpy(&lo, b, 4);
    std::memcpy(&hi, b + n - 4, 4);
    return lo | (uint64_t(hi) << ((n - 4) * 8));
  }
  if (n == 0) return 0;
  return b[0] | (uint64_t(b[n >> 1]) << ((n >> 1) * 8)) | (uint64_t(b[n - 1]) << ((n - 1) * 8));
}

// Whether n bytes at a and b are equal: words, not a call to memcmp, since
// keys are short.
inline bool same_bytes(const void* a, const void* b, size_t n) {
  const auto* x = static_cast<const unsigned char*>(a);
  const auto* y = static_cast<const unsigned char*>(b);
  for (; n >= 8; n -= 8, x += 8, y += 8)
    if (load8(x) != load8(y)) return false;
  return load_tail(x, n) == load_tail(y, n);
}

inline uint64_t mix64(uint64_t x) {
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ull;
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ull;
  x ^= x >> 32;
  return x;
}

// A word-at-a-time multiplicative hash: one multiply per 8 bytes, then a
// full avalanche. Fast on short keys (hosts, paths) with enough spread for
// linear probing. The keys are our own routes, not an attacker's choice of
// collisions against a secret seed, so no keyed hash is needed.
inline uint64_t hash_bytes(const void* data, size_t n, uint64_t seed) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t h = seed ^ (0x9e3779b97f4a7c15ull * (n + 1));
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  uint64_t tail = load_tail(p, n);
  h = (h ^ tail ^ (uint64_t(n) << 56)) * 0xc4ceb9fe1a85ec53ull;
  return mix64(h);
}

inline uint32_t key_hash(std::string_view key, uint64_t seed) {
  return static_cast<uint32_t>(hash_bytes(key.data(), key.size(), seed));
}

// Seeds keep the indexes' key spaces apart; the route table's rule index
// also mixes the host in, so one index serves every host.
inline uint64_t host_seed() { return 0x686f7374ull; }
inline uint64_t wildcard_seed() { return 0x77696c64ull; }
inline uint64_t rule_seed(uint32_t host) { return mix64(uint64_t(host) + 0x72756c65ull); }

// The route table's KeySlot indexes (format.h): a key's 64-bit hash gives
// its home slot and its tag; a rule's tag carries its kind in bit 0.
inline uint64_t index_hash(std::string_view key, uint64_t seed) { return hash_bytes(key.data(), key.size(), seed); }
inline uint32_t slot_home(uint64_t hash, uint32_t mask) { return uint32_t(hash >> 32) & mask; }
inline uint32_t host_tag(uint64_t hash) { return uint32_t(hash); }
inline uint32_t rule_tag(uint64_t hash, bool exact) { return (uint32_t(hash) & ~1u) | (exact ? 1u : 0u); }

}  // namespace atsi
