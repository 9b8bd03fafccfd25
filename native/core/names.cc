#include "names.h"

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "hash.h"

namespace atsi {
namespace {

#if !defined(__SSE2__)
char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }
#endif

#if defined(__SSE2__)
// 16 bytes at a time (SSE2, in every x86-64). load16() never reads a byte
// past p + n: the n < 16 bytes of a last chunk come in with zeros above
// them, and no byte looked for here is zero.
inline __m128i load16(const char* p, size_t n) {
  if (n >= 16) return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  uint64_t lo, hi = 0;
  if (n >= 8) {
    lo = load8(p);
    if (n > 8) hi = load8(p + n - 8) >> (8 * (16 - n));
  } else {
    lo = load_tail(p, n);
  }
  return _mm_set_epi64x(int64_t(hi), int64_t(lo));
}

// Bit i set where byte i of v is c.
inline uint32_t mask_of(__m128i v, char c) {
  return uint32_t(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c))));
}
#endif

// Where the first `c` is among the first `n` bytes of s, or `n`.
inline size_t find_byte(const char* s, size_t n, char c) {
#if defined(__SSE2__)
  for (size_t i = 0; i < n; i += 16) {
    size_t left = n - i;
    uint32_t m = mask_of(load16(s + i, left), c);
    if (left < 16) m &= (1u << left) - 1;
    if (m) return i + size_t(__builtin_ctz(m));
  }
  return n;
#else
  const void* at = std::memchr(s, c, n);
  return at ? size_t(static_cast<const char*>(at) - s) : n;
#endif
}

// Lowercases n bytes of src into dst, which has room for `room` >= n.
inline void lower_copy(char* dst, size_t room, const char* src, size_t n) {
#if defined(__SSE2__)
  const __m128i before_a = _mm_set1_epi8('A' - 1), after_z = _mm_set1_epi8('Z' + 1), bit = _mm_set1_epi8(0x20);
  for (size_t i = 0; i < n; i += 16) {
    size_t left = n - i;
    __m128i v = load16(src + i, left);
    // Signed compares: bytes >= 0x80 are negative, so never upper case.
    __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(v, before_a), _mm_cmplt_epi8(v, after_z));
    v = _mm_or_si128(v, _mm_and_si128(upper, bit));
    if (i + 16 <= room) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), v);
    } else {
      alignas(16) char chunk[16];
      _mm_store_si128(reinterpret_cast<__m128i*>(chunk), v);
      std::memcpy(dst + i, chunk, left < 16 ? left : 16);
    }
  }
#else
  (void)room;
  for (size_t i = 0; i < n; ++i) dst[i] = lower(src[i]);
#endif
}

// The end of the path part of `raw` (its first '?' or '#', or its size)
// and whether the path before it may need more than a copy: it holds a '%'
// (maybe an encoding to decode or uppercase) or a segment that begins with
// '.' (maybe a dot-segment; the byte before the first counts as a '/').
inline size_t path_end(std::string_view raw, bool& needs_work) {
  needs_work = false;
#if defined(__SSE2__)
  uint32_t after_slash = 1;
  for (size_t i = 0; i < raw.size(); i += 16) {
    size_t left = raw.size() - i;
    __m128i v = load16(raw.data() + i, left);
    uint32_t slash = mask_of(v, '/');
    uint32_t work = (mask_of(v, '.') & ((slash << 1) | after_slash)) | mask_of(v, '%');
    uint32_t stop = mask_of(v, '?') | mask_of(v, '#');
    if (stop) {
      uint32_t at = uint32_t(__builtin_ctz(stop));
      needs_work = (work & ((1u << at) - 1)) != 0 || needs_work;
      return i + at;
    }
    if (work) needs_work = true;
    after_slash = (slash >> 15) & 1;
  }
  return raw.size();
#else
  char prev = '/';
  for (size_t end = 0; end < raw.size(); ++end) {
    char c = raw[end];
    if (c == '?' || c == '#') return end;
    if ((prev == '/' && c == '.') || c == '%') needs_work = true;
    prev = c;
  }
  return raw.size();
#endif
}

// The value of a hex digit, or -1.
inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986's unreserved characters: ALPHA / DIGIT / "-" / "." / "_" / "~".
inline bool is_unreserved(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

inline char upper(char c) { return (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c; }

// 1 for ".", 2 for "..", else 0 (a decoded segment: "%2e" is '.' by now).
inline int dots_in(std::string_view seg) {
  if (seg.size() == 1 && seg[0] == '.') return 1;
  if (seg.size() == 2 && seg[0] == '.' && seg[1] == '.') return 2;
  return 0;
}

}  // namespace

bool is_valid_host_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxHostLength) return false;
  size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return label != 0;
}

bool gateway_host_kind(std::string_view name, GatewayHostKind& kind) {
  if (name.empty()) {
    kind = GatewayHostKind::kAny;
    return true;
  }
  if (name.size() > kMaxHostLength) return false;
  if (name.substr(0, 2) == "*.") {
    kind = GatewayHostKind::kWildcard;
    return is_valid_host_name(name.substr(2));
  }
  kind = GatewayHostKind::kExact;
  return is_valid_host_name(name);
}

bool is_header_name(std::string_view name) {
  if (name.empty()) return false;
  for (char ch : name) {
    unsigned char c = static_cast<unsigned char>(ch);
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!ok) ok = std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
    if (!ok) return false;
  }
  return true;
}

bool is_header_value(std::string_view value) {
  for (char ch : value) {
    unsigned char c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7F) return false;
  }
  return true;
}

bool is_path_value(std::string_view value) {
  if (value.size() > kMaxPathLength) return false;
  for (char ch : value) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7F || c == '?' || c == '#') return false;
  }
  return true;
}

size_t prefix_match_length(std::string_view path) {
  size_t n = path.size();
  while (n > 0 && path[n - 1] == '/') --n;
  return n;
}

bool normalize_host(std::string_view raw, char (&buf)[kHostBufferSize], std::string_view& out) {
  std::string_view h = raw;
  if (!h.empty() && h[0] == '[') {
    size_t close = h.find(']');
    h = close == std::string_view::npos ? h : h.substr(0, close + 1);
  } else {
    // Up to the first ':'. Looking no further than kMaxHostLength + 2 bytes
    // is enough: a host that long is refused either way.
    size_t limit = h.size() < kMaxHostLength + 2 ? h.size() : kMaxHostLength + 2;
    size_t colon = find_byte(h.data(), limit, ':');
    if (colon < limit) h = h.substr(0, colon);
  }
  if (!h.empty() && h.back() == '.') h.remove_suffix(1);
  if (h.empty() || h.size() > kMaxHostLength) {
    out = {};
    return false;
  }
  lower_copy(buf, sizeof buf, h.data(), h.size());
  out = std::string_view(buf, h.size());
  return true;
}

PathResult normalize_path(std::string_view raw, char (&buf)[kPathBufferSize], std::string_view& out) {
  // One scan finds the end (query or fragment) and whether anything could
  // change. The common cases, a path with no '%' and no segment beginning
  // with '.', are returned as a view of the input (no copy) or, without its
  // leading '/' (as ATS gives it), copied after one.
  bool needs_work;
  size_t end = path_end(raw, needs_work);
  raw = raw.substr(0, end);
  bool absolute = !raw.empty() && raw[0] == '/';
  if (!needs_work) {
    if (raw.size() + (absolute ? 0 : 1) > kMaxPathLength) {
      out = {};
      return PathResult::kTooLong;
    }
    if (absolute) {
      out = raw;
    } else {
      buf[0] = '/';
      std::memcpy(buf + 1, raw.data(), raw.size());
      out = std::string_view(buf, raw.size() + 1);
    }
    return PathResult::kOk;
  }
  if (absolute) raw.remove_prefix(1);
  // Every output segment is written as "/" + segment, and decoding only
  // shortens it, so the output is never longer than "/" + raw.
  if (raw.size() + 1 > kMaxPathLength) {
    out = {};
    return PathResult::kTooLong;
  }
  size_t len = 0;
  size_t pos = 0;
  while (true) {
    // The segment, decoded, after a '/' at `start`; `semi` is where its
    // first ';' went (0: none).
    const size_t start = len;
    size_t semi = 0;
    buf[len++] = '/';
    size_t i = pos;
    for (; i < raw.size() && raw[i] != '/'; ++i) {
      char c = raw[i];
      if (c == '%' && i + 2 < raw.size()) {
        int hi = hex_value(raw[i + 1]), lo = hex_value(raw[i + 2]);
        if (hi >= 0 && lo >= 0) {
          int v = hi * 16 + lo;
          if (is_unreserved(v)) {
            buf[len++] = char(v);
          } else {
            buf[len++] = '%';
            buf[len++] = upper(raw[i + 1]);
            buf[len++] = upper(raw[i + 2]);
          }
          i += 2;
          continue;
        }
      }
      if (c == ';' && semi == 0) semi = len;
      buf[len++] = c;
    }
    const bool last = i == raw.size();
    int dots = dots_in(std::string_view(buf + start + 1, (semi ? semi : len) - start - 1));
    if (dots != 0 && semi != 0) {
      out = {};
      return PathResult::kAmbiguous;
    }
    if (dots != 0) {
      len = start;  // drop "/." or "/.."
      if (dots == 2) {
        while (len > 0 && buf[len - 1] != '/') --len;  // back to the segment's '/'
        if (len > 0) --len;                             // and drop it
      }
      if (last) buf[len++] = '/';
    }
    if (last) break;
    pos = i + 1;
  }
  if (len == 0) buf[len++] = '/';
  out = std::string_view(buf, len);
  return PathResult::kOk;
}

bool listener_address(uint8_t family, const uint8_t* bytes, const std::string& text, uint8_t& out_family,
                      uint8_t* out) {
  std::memset(out, 0, 16);
  if (family == 4 || family == 6) {
    out_family = family;
    std::memcpy(out, bytes, family == 4 ? 4 : 16);
  } else if (text == "*") {
    out_family = kAnyAddressFamily;  // every local address of the port; zero bytes
  } else if (inet_pton(AF_INET, text.c_str(), out) == 1) {
    out_family = 4;
  } else if (inet_pton(AF_INET6, text.c_str(), out) == 1) {
    out_family = 6;
  } else {
    return false;
  }
  return true;
}

bool is_url_host(std::string_view h) {
  if (h.empty()) return false;
  if (h.front() == '[') {
    if (h.size() < 3 || h.back() != ']') return false;
    for (char c : h.substr(1, h.size() - 2))
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':' || c == '.')) return false;
    return true;
  }
  for (char c : h)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_')) return false;
  return true;
}

}  // namespace atsi
