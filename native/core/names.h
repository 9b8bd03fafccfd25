// Normalising what a request names (host, path) and checking what a table
// may hold. No allocation: callers give the buffers, so the plugin can use
// the stack on its hot path.
#pragma once

#include <cstddef>
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

// The path without query or fragment, with a leading '/', and with "." and
// ".." segments resolved (also when written as %2e). Returns false when the
// path is longer than kMaxPathLength.
bool normalize_path(std::string_view raw, char (&buf)[kPathBufferSize], std::string_view& out);

}  // namespace atsi
