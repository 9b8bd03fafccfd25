// Turns a TlsInput into TLS table bytes (tls_format.h). Pure: no I/O, no
// global state, no OpenSSL: certificates are checked by the controller
// (node:crypto) and parsed by the plugin; here only what the format needs.
#pragma once

#include <cstdint>
#include <vector>

#include "errors.h"
#include "tls_input.h"

namespace atsi {

// Fills `out` with a complete TLS table, or returns kInvalidModel with a
// message naming the offending field ("hosts[2].certificate: ...") and
// leaves `out` alone. Refuses: a host name that is not a lowercase name or a
// single-label wildcard "*.suffix", or that appears twice; a certificate or
// policy index out of range; a chain, key or CA that is empty or does not
// begin with "-----BEGIN"; verify_client other than 0, 1, 2, 3, or 1/2
// without a CA; min_version other than 0, 12, 13; verify_depth outside 1..10.
Error build_tls_table(const TlsInput& input, uint64_t generation, uint64_t build_time_ms, std::vector<uint8_t>& out);

}  // namespace atsi
