// Small helpers over ATS's C API for one transaction: the request's host,
// header fields, the server address, and our own answer's body. No routing
// logic here (that is decision.h and router.h).
#pragma once

#include <ts/ts.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cache_control.h"
#include "format.h"
#include "names.h"

namespace atsi::plugin {

// The Host header of the request in (buf, hdr), else the URL's host; empty
// when neither has one. Points into ATS's buffers: valid while they are.
std::string_view host_of(TSMBuffer buf, TSMLoc hdr, TSMLoc url);

// The path of the URL as the client sent it, without its leading '/': ATS
// parses what follows the first ';' of the path apart, as the URL's
// "params" (TSUrlHttpParamsGet), and TSUrlPathGet stops before it, so a
// path with a ';' is joined back ("public;x/../../admin") into `scratch`;
// without one it is ATS's own bytes (no copy). A path too long for
// `scratch` comes back cut at kPathBufferSize bytes, which normalize_path
// still finds too long. Valid while ATS's buffers and `scratch` are.
std::string_view path_of(TSMBuffer buf, TSMLoc url, char (&scratch)[kPathBufferSize]);

// Sets the Host header to `value`, adding the field if it is missing.
void set_host_header(TSMBuffer buf, TSMLoc hdr, std::string_view value);

// Whether the header in (buf, hdr) has a field `name`.
bool has_field(TSMBuffer buf, TSMLoc hdr, const char* name, int len);

// Every Cache-Control field of the header in (buf, hdr), parsed into `cc`.
void read_cache_control(TSMBuffer buf, TSMLoc hdr, CacheControl& cc);

// Appends a header field `name: value`.
void add_header(TSMBuffer buf, TSMLoc hdr, std::string_view name, std::string_view value);

// Tells ATS the address to connect to, so it skips its host database.
void set_server_address(TSHttpTxn txn, const EndpointRecord& e);

// Answers with `status` and a plain-text body of `len` bytes (copied; ATS
// frees its copies).
void set_error_body(TSHttpTxn txn, int status, const char* body, size_t len);

// Makes `e` the next hop ATS takes for the transaction (TSHttpTxnResponseActionSet:
// an origin, not a proxy; no status-based retries): its next attempt goes
// to `e`'s port at the address of the server address set last (router.cc
// says why both).
void set_next_hop(TSHttpTxn txn, const EndpointRecord& e);

// A per-transaction word, reserved with TSUserArgIndexReserve. Read and set
// with TSHttpTxnArgGet/Set: in ATS 9.2 TSUserArgGet/Set find the
// transaction's arguments through a dynamic_cast, about 55 ns a call on
// this machine against 5 ns (both store in the same place). ATS 10 drops
// the TSHttpTxnArg calls: these two lines change then.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
inline uintptr_t txn_word(TSHttpTxn txn, int index) { return reinterpret_cast<uintptr_t>(TSHttpTxnArgGet(txn, index)); }
inline void set_txn_word(TSHttpTxn txn, int index, uintptr_t w) { TSHttpTxnArgSet(txn, index, reinterpret_cast<void*>(w)); }
#pragma GCC diagnostic pop

}  // namespace atsi::plugin
