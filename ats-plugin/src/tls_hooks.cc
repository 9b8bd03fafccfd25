#include "tls_hooks.h"

#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "common.h"
#include "metrics.h"
#include "tls_registry.h"
#include "ts_helpers.h"

namespace atsi::plugin {
namespace {

// The header names ingress-nginx uses.
constexpr std::string_view kVerifyHeader = "ssl-client-verify";
constexpr std::string_view kSubjectHeader = "ssl-client-subject-dn";
constexpr std::string_view kIssuerHeader = "ssl-client-issuer-dn";

std::string_view server_name(TSVConn vc) {
  int len = 0;
  const char* sni = TSVConnSslSniGet(vc, &len);
  return sni && len > 0 ? std::string_view(sni, size_t(len)) : std::string_view();
}

SSL* ssl_of(TSVConn vc) { return reinterpret_cast<SSL*>(TSVConnSslConnectionGet(vc)); }

// The connection's local address and port, as gateway_headers.cc's
// local_address() reads a transaction's (an IPv4 client on a dual-stack
// socket as IPv4); family 0 when ATS gives none.
LocalAddress local_of(TSVConn vc) {
  LocalAddress a;
  const sockaddr* sa = TSNetVConnLocalAddrGet(vc);
  if (!sa) return a;
  if (sa->sa_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(sa);
    std::memcpy(a.bytes, &sin->sin_addr, 4);
    a.family = 4;
    a.port = ntohs(sin->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(sa);
    if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
      std::memcpy(a.bytes, reinterpret_cast<const uint8_t*>(&sin6->sin6_addr) + 12, 4);
      a.family = 4;
    } else {
      std::memcpy(a.bytes, &sin6->sin6_addr, 16);
      a.family = 6;
    }
    a.port = ntohs(sin6->sin6_port);
  }
  return a;
}

// Removes every field named `name`.
void remove_fields(TSMBuffer buf, TSMLoc hdr, std::string_view name) {
  TSMLoc field;
  while ((field = TSMimeHdrFieldFind(buf, hdr, name.data(), int(name.size()))) != TS_NULL_MLOC) {
    TSMimeHdrFieldDestroy(buf, hdr, field);
    TSHandleMLocRelease(buf, hdr, field);
  }
}

}  // namespace

TlsService* TlsService::create(const PluginConfig& config, Error& error) {
  metrics();
  auto* s = new TlsService(shared_tls_store(config.table, config.poll_ms));
  if ((error = make_fallback_certificate(s->fallback_))) {
    delete s;
    return nullptr;
  }
  // No mutex: ATS would lock it around every handshake's hook call.
  TSCont cont = TSContCreate(on_event, nullptr);
  TSContDataSet(cont, s);
  TSHttpHookAdd(TS_SSL_CLIENT_HELLO_HOOK, cont);
  TSHttpHookAdd(TS_SSL_CERT_HOOK, cont);
  ATSI_DEBUG("serving certificates of TLS table %s", config.table.c_str());
  return s;
}

const TlsStore* TlsService::current() {
  // One cursor per thread and service (one service per process in practice).
  thread_local std::vector<std::unique_ptr<SnapshotCursor<TlsStore>>> cursors;
  for (auto& c : cursors)
    if (&c->snapshot() == &store_) return c->get();
  cursors.push_back(std::make_unique<SnapshotCursor<TlsStore>>(store_));
  return cursors.back()->get();
}

// edata is the TSVConn of the client connection for both hooks (ts.h: "SSL
// hooks" get the vconn; TS_EVENT_SSL_CLIENT_HELLO and TS_EVENT_SSL_CERT).
int TlsService::on_event(TSCont cont, TSEvent event, void* edata) {
  auto* self = static_cast<TlsService*>(TSContDataGet(cont));
  auto vc = static_cast<TSVConn>(edata);
  SSL* ssl = ssl_of(vc);
  bool ok = true;
  if (ssl) {
    const TlsStore* store = self->current();
    std::string_view sni = server_name(vc);
    // Only a table with Gateway listeners needs it (a few stores, no system call).
    LocalAddress local;
    if (store && store->view().listener_count() != 0) local = local_of(vc);
    const Metrics& m = metrics();
    switch (event) {
      case TS_EVENT_SSL_CLIENT_HELLO:
        // Version negotiation and session lookup come after the ClientHello
        // callback and before the certificate one: the minimum version and
        // the session id context must be set here.
        ok = handshake_client_hello(ssl, store, sni, &local);
        break;
      case TS_EVENT_SSL_CERT:
        switch (handshake_certificate(ssl, store, self->fallback_, sni, &local)) {
          case Served::kHost:
            TSStatIntIncrement(m.tls_certificates_served, 1);
            break;
          case Served::kDefault:
            TSStatIntIncrement(m.tls_default_served, 1);
            break;
          case Served::kFailed:
            ok = false;
            break;
        }
        break;
      default:
        break;
    }
    if (!ok)
      ATSI_DEBUG("handshake for \"%.*s\" refused (%s)", int(sni.size()), sni.data(),
                 event == TS_EVENT_SSL_CLIENT_HELLO ? "client hello" : "certificate");
  }
  TSVConnReenableEx(vc, ok ? TS_EVENT_CONTINUE : TS_EVENT_ERROR);
  return 0;
}

bool TlsService::on_request(TSHttpTxn txn, TSMBuffer buf, TSMLoc hdr, std::string_view host) {
  const TlsStore* store = current();
  if (!store || !store->has_policies()) [[likely]]
    return true;
  if (store->verifies_clients()) {
    // A client must not be able to claim a verified certificate.
    remove_fields(buf, hdr, kVerifyHeader);
    remove_fields(buf, hdr, kSubjectHeader);
    remove_fields(buf, hdr, kIssuerHeader);
  }
  TSHttpSsn ssn = TSHttpTxnSsnGet(txn);
  TSVConn vc = ssn ? TSHttpSsnClientVConnGet(ssn) : nullptr;
  if (!vc || !TSVConnIsSsl(vc)) return true;
  SSL* ssl = ssl_of(vc);
  if (!ssl) return true;
  std::string_view sni = server_name(vc);
  // A Gateway's connection: Ingress hosts' policies have no say there (its
  // listeners have none yet), and no client certificate was asked for.
  if (store->view().listener_count() != 0) {
    LocalAddress local = local_of(vc);
    if (store->choose(sni, &local).gateway) return true;
  }
  if (misdirected(*store, sni, host)) {
    TSStatIntIncrement(metrics().tls_misdirected, 1);
    ATSI_DEBUG("\"%.*s\" on a connection for \"%.*s\": 421", int(host.size()), host.data(), int(sni.size()), sni.data());
    return false;
  }
  TlsChoice c = store->choose(sni);
  if (!c.policy || !c.policy->verifies_clients()) return true;
  ClientCertFacts f = client_cert_facts(ssl);
  add_header(buf, hdr, kVerifyHeader, f.verify);
  if (!f.subject_dn.empty()) add_header(buf, hdr, kSubjectHeader, f.subject_dn);
  if (!f.issuer_dn.empty()) add_header(buf, hdr, kIssuerHeader, f.issuer_dn);
  return true;
}

}  // namespace atsi::plugin
