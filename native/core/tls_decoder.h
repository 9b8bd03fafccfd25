// Decodes the TLS model in the flat form src/route-table/encode-tls.ts gives
// the addon, like the route model (model_decoder.h): one string of
// NUL-separated strings and one array of uint32. Plain C++, no N-API.
//
// Layout, version 2 (TLS_ENCODING_VERSION in encode-tls.ts; bump both
// together). "str" is an index into the strings, "opt" an index or kNone.
//   ints[0]  the encoding version
//   ints[1]  the number of strings (0 when there are none; `strings` is then "")
//   ints[2]  the default certificate: index or kNone
//   certificate count, then per certificate:
//     secret str ("namespace/name"), chain PEM str, key PEM str,
//     not_after (seconds since the epoch; 0 unknown)
//   policy count, then per policy:
//     min version (0 none, 12 TLS 1.2, 13 TLS 1.3), verify client (0 off,
//     1 optional, 2 on, 3 refuse: fail every handshake), CA PEM opt (kNone
//     when verify client is 0 or 3), verify depth (1 to 10)
//   host count, then per host:
//     name str (lowercase exact name or "*.suffix"), certificate index or
//     kNone (the default), policy index or kNone
//   gateway listener count, then per listener (version 2):
//     gateway str ("namespace/name"), listener str, family (4 or 6) and 1
//     or 4 big-endian address words (or family 0 and none: every local
//     address of the port), local port (1 to 65535), hostname opt
//     (kNone: any SNI; else exact or "*.suffix"), certificate index,
//     policy index or kNone
// Nothing follows the last gateway listener.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "errors.h"
#include "tls_input.h"

namespace atsi {

inline constexpr uint32_t kTlsEncodingVersion = 2;

// Fills `out` from the encoding, or returns kInvalidModel saying at which int
// it went wrong and why, leaving `out` untouched. Every read is
// bounds-checked, and a count is checked against the ints left before
// anything is allocated for it. Values are checked by build_tls_table().
Error decode_tls(std::string_view strings, const uint32_t* ints, size_t count, TlsInput& out);

}  // namespace atsi
