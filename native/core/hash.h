// Hashing for the table's indexes and its checksum. Both sides must agree
// bit for bit, so it lives here, written once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace atsi {

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
  uint64_t tail = 0;
  std::memcpy(&tail, p, n);
  h = (h ^ tail ^ (uint64_t(n) << 56)) * 0xc4ceb9fe1a85ec53ull;
  return mix64(h);
}

inline uint32_t key_hash(std::string_view key, uint64_t seed) {
  return static_cast<uint32_t>(hash_bytes(key.data(), key.size(), seed));
}

// Seeds keep the three indexes' key spaces apart; the rule index also mixes
// the host and the match kind in, so one index serves every host.
inline uint64_t host_seed() { return 0x686f7374ull; }
inline uint64_t wildcard_seed() { return 0x77696c64ull; }
inline uint64_t rule_seed(uint32_t host, bool exact) {
  return mix64((uint64_t(host) << 1) | (exact ? 1u : 0u)) ^ 0x72756c65ull;
}

}  // namespace atsi
