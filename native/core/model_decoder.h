// Decodes the route model in the flat form src/route-table/encode-model.ts
// gives the addon: one string of NUL-separated strings and one array of
// uint32. Plain C++, no N-API: the addon only unwraps the JS values and calls
// decode_model(); tests and the fuzz target call it directly.
//
// Layout, version 3 (ENCODING_VERSION in encode-model.ts; bump both
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
// Nothing follows the last host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "errors.h"
#include "table_input.h"

namespace atsi {

inline constexpr uint32_t kModelEncodingVersion = 3;

// Fills `out` from the encoding, or returns kInvalidModel saying at which int
// it went wrong and why, leaving `out` untouched. Every read is
// bounds-checked: no input makes it read outside `ints[0, count)` and
// `strings`, and a count is checked against the ints left before anything is
// allocated for it. Values are checked by build_table(), not here.
Error decode_model(std::string_view strings, const uint32_t* ints, size_t count, TableInput& out);

}  // namespace atsi
