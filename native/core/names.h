// Normalising what a request names (host, path) and checking what a table
// may hold. No allocation: callers give the buffers, so the plugin can use
// the stack on its hot path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "format.h"

namespace atsi {

// Whether a normalized host (normalize_host) can stand in a URL's authority
// as it is: a non-empty name of host-name characters, or a bracketed IPv6
// literal. A host with any other character ('/', '?', '@', ...) could make
// the URL of another resource: the cache key, the routed URL and a
// redirect's Location are not built from it.
bool is_url_host(std::string_view h);

// A host name a table may hold: lowercase letters, digits, '-', '_', and
// non-empty dot-separated labels, at most 253 bytes.
bool is_valid_host_name(std::string_view name);

// Bytes of a Prefix rule's path that take part in matching: its trailing
// slashes do not ("/foo/" matches like "/foo"; "/" matches everything).
size_t prefix_match_length(std::string_view path);

// A Gateway API hostname a table may hold (a listener's or an entry's):
// "" for any host, "*." and a valid host name for a wildcard (the whole at
// most 253 bytes), else a valid host name; false for anything else.
bool gateway_host_kind(std::string_view name, GatewayHostKind& kind);

// A header name the plugin may write: an RFC 9110 token.
bool is_header_name(std::string_view name);
// A header value the plugin may write: no control byte but HTAB (so no CR,
// LF or NUL that would end or split a header).
bool is_header_value(std::string_view value);
// A path modifier's value, which goes into a Location or a request line:
// visible ASCII only, no '?' or '#' (the query is the request's), at most
// kMaxPathLength bytes; "" is the root.
bool is_path_value(std::string_view value);

// Bytes of a Gateway API path match that take part in matching: all of
// an Exact's; a PathPrefix's but one trailing '/' (its "/" is "", the
// prefix of every path).
inline size_t gateway_match_length(GatewayPathType type, std::string_view path) {
  if (type == GatewayPathType::kPathPrefix && !path.empty() && path.back() == '/') return path.size() - 1;
  return path.size();
}

// The status codes a RequestRedirect may answer with.
inline bool is_redirect_status(uint32_t code) {
  return code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
}

// The order of Gateway listeners in a table: by family, address (an IPv4
// address by its 4 bytes), then local port. Negative, 0 or positive.
// A listener of kAnyAddressFamily (zero bytes) sorts before them all.
inline int gateway_address_order(uint8_t family_a, const uint8_t* a, uint16_t port_a, uint8_t family_b,
                                 const uint8_t* b, uint16_t port_b) {
  if (family_a != family_b) return family_a < family_b ? -1 : 1;
  int c = std::memcmp(a, b, family_a == 4 ? 4 : 16);
  if (c != 0) return c;
  return port_a == port_b ? 0 : (port_a < port_b ? -1 : 1);
}
inline int gateway_address_order(const GatewayListenerRecord& a, const GatewayListenerRecord& b) {
  return gateway_address_order(a.family, a.address, a.port, b.family, b.address, b.port);
}

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

// A Gateway listener's local address as the writers take it: `family` 4 or
// 6 with `bytes` (the addon's decoder), else `text`: IPv4, IPv6, or "*" for
// every local address of the port (kAnyAddressFamily, zero bytes). Into
// `out_family` and `out` (16 bytes, zeroed past the address); false when
// `text` is none of those.
bool listener_address(uint8_t family, const uint8_t* bytes, const std::string& text, uint8_t& out_family,
                      uint8_t* out);

}  // namespace atsi
