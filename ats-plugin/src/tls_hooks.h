// Certificates served by SNI and per-host TLS policy, in ATS's handshake
// hooks (global mode only: see plugin.cc), and the client-certificate
// headers of requests. The decisions themselves are tls_store.h's; this is
// the ATS glue.
//
// A handshake picks the TLS store up with one acquire load (a per-thread
// SnapshotCursor), takes no lock and makes no system call; it allocates only
// what OpenSSL's setters need (the chain and CA-name copies).
#pragma once

#include <ts/ts.h>

#include "config.h"
#include "errors.h"
#include "snapshot.h"
#include "tls_store.h"

namespace atsi::plugin {

class TlsService {
 public:
  // Makes the fallback certificate, starts polling the TLS table of
  // `config.table`, and adds the global TS_SSL_CLIENT_HELLO_HOOK and
  // TS_SSL_CERT_HOOK. Null with `error` set when it cannot.
  static TlsService* create(const PluginConfig& config, Error& error);

  // READ_REQUEST_HDR, for a request for `host` (as sent). When the TLS table
  // has a policy that verifies clients, removes any client-sent
  // ssl-client-verify, ssl-client-subject-dn and ssl-client-issuer-dn; then,
  // for a request over TLS whose connection's host verifies clients, sets
  // them from the connection's verified certificate. Returns false when the
  // request must be answered 421 (misdirected(): `host`'s policy is not the
  // connection's). One atomic load and nothing else when the table has no
  // policy.
  bool on_request(TSHttpTxn txn, TSMBuffer buf, TSMLoc hdr, std::string_view host);

 private:
  explicit TlsService(const Snapshot<TlsStore>& store) : store_(store) {}
  static int on_event(TSCont cont, TSEvent event, void* edata);
  // This thread's view of the store (null before any good TLS table).
  const TlsStore* current();

  const Snapshot<TlsStore>& store_;
  ServedCertificate fallback_;
};

}  // namespace atsi::plugin
