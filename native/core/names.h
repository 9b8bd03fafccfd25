// Normalising what a request names (host, path) and checking what a table
// may hold. No allocation: callers give the buffers, so the plugin can use
// the stack on its hot path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "format.h"

namespace atsi {

// A host name a table may hold: lowercase letters, digits, '-', '_', and
// non-empty dot-separated labels, at most 253 bytes.
bool is_valid_host_name(std::string_view name);

// Bytes of a Prefix rule's path that take part in matching: its trailing
// slashes do not ("/foo/" matches like "/foo"; "/" matches everything).
size_t prefix_match_length(std::string_view path);

inline constexpr size_t kHostBufferSize = kMaxHostLength + 1;

// Lowercases, drops ":port" and one trailing dot. An IPv6 literal keeps its
// brackets. Returns false when the result cannot be a table host (empty or
// too long): such a request can only match the catch-all.
bool normalize_host(std::string_view raw, char (&buf)[kHostBufferSize], std::string_view& out);

inline constexpr size_t kPathBufferSize = kMaxPathLength + 1;

enum class PathResult : uint8_t {
  kOk,
  kTooLong,    // longer than kMaxPathLength
  kAmbiguous,  // a segment that is "." or ".." before a ';' ("..;x"): see normalize_path
};

// The path as matched: without query or fragment, with a leading '/', and
// - percent-encoded unreserved characters decoded (RFC 3986 6.2.2.2:
//   "%61" is "a", in either case of hex digit: ALPHA DIGIT - . _ ~), the
//   hex digits of every other percent-encoding uppercased (6.2.2.1: "%2f"
//   is "%2F"), nothing else decoded ("%2F", "%25", "%00" stay encoded, so
//   no decoding can make a '/' or a new percent-encoding);
// - "." and ".." segments resolved after that decoding (6.2.2.3), so also
//   when written %2e;
// - ';' and what follows it kept (ATS holds them apart as the URL's
//   "params": the caller joins them back): a segment "public;x" is matched
//   as written, never as "public".
// kAmbiguous when a segment is "." or ".." up to its first ';' ("..;x",
// ".;jsessionid=1"): servers that take ';' as starting a segment's
// parameters (Tomcat, Jetty, Spring) resolve it as a dot-segment, others as
// an ordinary name, so no one route is right for both; no browser sends
// one. `out` is a view of `raw` when nothing had to change (the common case:
// no '%' and no segment beginning with '.'), else of `buf`.
PathResult normalize_path(std::string_view raw, char (&buf)[kPathBufferSize], std::string_view& out);

}  // namespace atsi
