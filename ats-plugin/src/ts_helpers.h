// Small helpers over ATS's C API for one transaction: the request's host,
// header fields, the server address, and our own answer's body. No routing
// logic here (that is decision.h and router.h).
#pragma once

#include <ts/ts.h>

#include <cstddef>
#include <string_view>

#include "cache_control.h"
#include "format.h"

namespace atsi::plugin {

// The Host header of the request in (buf, hdr), else the URL's host; empty
// when neither has one. Points into ATS's buffers: valid while they are.
std::string_view host_of(TSMBuffer buf, TSMLoc hdr, TSMLoc url);

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

}  // namespace atsi::plugin
