// Decodes the route model in the flat form src/route-table/encode-model.ts
// gives the addon: one string of NUL-separated strings and one array of
// uint32. Plain C++, no N-API: the addon only unwraps the JS values and calls
// decode_model(); tests and the fuzz target call it directly.
//
// Layout, version 4 (ENCODING_VERSION in encode-model.ts; bump both
// together and land them in one commit: the addon refuses any other). "str" is an index into the strings, "opt" an index or kNone,
// "u32|kNone" a value or kNone for "not set".
//   ints[0]  the encoding version
//   ints[1]  the number of strings (0 when there are none; `strings` is then "")
//   ints[2]  the table's default backend, u32|kNone
//   backend count, then per backend:
//     service str, port str, problem opt, scheme (1 https, else http),
//     connect timeout ms u32|kNone, response timeout ms u32|kNone,
//     redirect to https (1, 0 or kNone), cache policy (1 bypass, 0 default or kNone),
//     upstream host opt, cache default TTL s u32|kNone, cache max TTL s u32|kNone,
//     cache ignore query (1, 0 or kNone), cache serve stale s u32|kNone,
//     cache generation u32|kNone, stats slot u32|kNone (version 2 added these six),
//     endpoint count, then per endpoint: address family (4 or 6), the
//     address as 1 or 4 big-endian words (network order), port, weight
//     (version 3: before, the address was a string; 100,000 of them cost
//     more to split, copy and parse than the rest of the table)
//   host count, then per host:
//     name str, default backend u32|kNone, default source opt, rule count,
//     then per rule: path str, type (0 Exact, 1 Prefix, else ImplementationSpecific),
//     backend, source str
//   gateway listener count (version 4 added the Gateway API part), then per listener:
//     gateway str, listener str, address family (4 or 6), the address as 1 or
//     4 big-endian words, port, listener port, protocol (1 HTTPS, else HTTP),
//     hostname str, entry count, then per entry:
//       hostname str, path type (0 Exact, else PathPrefix), path str, method opt,
//       header count, then per header: name str, value str,
//       query param count, then per param: name str, value str,
//       rule (index into the gateway rules)
//   gateway rule count, then per rule:
//     route str, rule index, failure opt, filters, choice count, then per
//     choice: backend u32|kNone, weight, problem opt, filters
//   filters: count, then per filter its kind (1 RequestHeaderModifier,
//   2 ResponseHeaderModifier, 3 RequestRedirect, 4 URLRewrite) and
//     1, 2: set count, then (name str, value str) each; add count, then the
//           same; remove count, then name str each
//     3:    scheme (0 http, 1 https, kNone: the request's), hostname opt,
//           port u32|kNone, path modifier, status code
//     4:    hostname opt, path modifier
//   a path modifier: kind (0 none, 1 ReplaceFullPath, 2 ReplacePrefixMatch), value opt
// The hosts and the Gateway part (the routing part) use strings of their
// own, after every string of the backends: an index below the first one
// they may use (one past the highest the backends read) is refused, so that
// a routing part equal byte for byte means the same hosts whatever the
// backends' strings are (EncodedTableWriter relies on it).
// Nothing follows the last gateway rule. An Ingress-only model ends with two
// zero counts. Besides bounds, the decoder refuses only what it cannot
// represent or read on from (an address family, a filter or path modifier
// kind it does not know, a port or status code past 16 bits).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "errors.h"
#include "table_input.h"

namespace atsi {

inline constexpr uint32_t kModelEncodingVersion = 4;

// The routing part of an encoding: everything after the backends (hosts and
// the Gateway API part), with its strings, which follow the backends'. It
// refers to no string of the backends (the decoder refuses one that does),
// so two encodings whose routing parts are equal, byte for byte and with the
// same `first_string`, decode to the same hosts and Gateway part.
struct RoutingPart {
  uint32_t first_string;         // the index of its first string
  std::string_view strings;      // the strings' text from that string on
  const uint32_t* ints;          // its ints, to the end of the encoding
  size_t count;
};
// Asked once the backends are decoded: true skips the routing part (the
// hosts and the Gateway part of `out` are left empty).
using RoutingSkip = std::function<bool(const RoutingPart&)>;

// Fills `out` from the encoding, or returns kInvalidModel saying at which int
// it went wrong and why, leaving `out` untouched. Every read is
// bounds-checked: no input makes it read outside `ints[0, count)` and
// `strings`, and a count is checked against the ints left before anything is
// allocated for it. Values are checked by build_table(), not here.
Error decode_model(std::string_view strings, const uint32_t* ints, size_t count, TableInput& out);
Error decode_model(std::string_view strings, const uint32_t* ints, size_t count, TableInput& out,
                   const RoutingSkip* skip);
// The same into `in` as it stands, reusing the memory of its backends (a
// writer's scratch model, decoded into again and again): on an error `in`
// holds part of the model.
Error decode_model_into(std::string_view strings, const uint32_t* ints, size_t count, TableInput& in,
                        const RoutingSkip* skip);

}  // namespace atsi
