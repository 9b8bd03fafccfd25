// The process's TLS tables: per table name, a background-polled TlsSource
// (as table_registry.h does for route tables, with the same poll period),
// and the parsed TlsStore of the last good generation, handed to handshake
// threads through a Snapshot (native/core/snapshot.h).
//
// When a new generation appears, the poller (a thread of its own, off the
// handshake path: poller.h) maps and validates it (whole, every time), then
// parses with OpenSSL every chain, key and CA that the serving store does
// not hold byte for byte (those it takes from that store: TlsStore::build).
// A generation that fails either step is refused as a whole:
// logged with ATSI_ERROR (naming the Secret or policy), counted in
// tls_tables_refused, and the last good store keeps serving.
#pragma once

#include <cstdint>
#include <string>

#include "snapshot.h"
#include "tls_store.h"

namespace atsi::plugin {

// The store of `name`'s TLS table, its poller started (every `poll_ms`) on
// first use; a TLS table published before ATS started is parsed at once.
// Takes a mutex: call it at plugin start, never per handshake.
const Snapshot<TlsStore>& shared_tls_store(const std::string& name, uint32_t poll_ms);

}  // namespace atsi::plugin
