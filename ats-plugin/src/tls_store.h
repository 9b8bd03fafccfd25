// The certificates and TLS policies of one TLS table, parsed with OpenSSL
// into the objects a handshake installs, and what a handshake does with
// them. No ts.h: tested without ATS (with real handshakes over memory BIOs),
// and built by the registry's poller thread (tls_registry.h), never on the
// handshake path.
//
// A TlsStore is immutable once built and shared by reference count: each
// handshake thread holds the one it last saw (tls_hooks.cc), and OpenSSL
// takes its own references on what it installs, so a store can go while
// connections made with it live on.
//
// A store is built from the previous one: a certificate (chain and key) or a
// client CA whose bytes are the same as in the previous store is not parsed
// again; the new store takes OpenSSL references on the previous store's
// objects (X509_up_ref, EVP_PKEY_up_ref, X509_STORE_up_ref), so each store
// owns what it serves, and what only the previous store held goes with it.
// OpenSSL's PEM decoders cost ~150 us a certificate and ~450 us a key: a
// renewed certificate among 1,000 would otherwise wait for 1,000 parses.
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "errors.h"
#include "tls_view.h"

namespace atsi::plugin {

struct OpenSslFree {
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
  void operator()(STACK_OF(X509) * p) const { sk_X509_pop_free(p, X509_free); }
  void operator()(STACK_OF(X509_NAME) * p) const { sk_X509_NAME_pop_free(p, X509_NAME_free); }
};
using X509Ptr = std::unique_ptr<X509, OpenSslFree>;
using KeyPtr = std::unique_ptr<EVP_PKEY, OpenSslFree>;
using StorePtr = std::unique_ptr<X509_STORE, OpenSslFree>;
using ChainPtr = std::unique_ptr<STACK_OF(X509), OpenSslFree>;
using NamesPtr = std::unique_ptr<STACK_OF(X509_NAME), OpenSslFree>;

// A certificate ready to install: the leaf, the rest of its chain, its key.
struct ServedCertificate {
  std::string secret;  // "namespace/name", for logs
  X509Ptr leaf;
  ChainPtr chain;  // may be empty, never null
  KeyPtr key;
};

// A host's TLS policy, ready to apply.
struct ClientPolicy {
  int min_version = 0;   // 0, TLS1_2_VERSION or TLS1_3_VERSION
  uint32_t verify = 0;   // VerifyClient (tls_format.h)
  int verify_mode = SSL_VERIFY_NONE;  // for kVerifyOptional and kVerifyOn
  int verify_depth = 1;
  StorePtr ca_store;   // for kVerifyOptional and kVerifyOn
  NamesPtr ca_names;   // the CA subjects, sent in the CertificateRequest
  // The session id context of hosts with this policy: a digest of what it
  // verifies, so that a session made where clients were not verified (or
  // verified against other CAs) never resumes here.
  unsigned char session_context[SSL_MAX_SID_CTX_LENGTH] = {};
  unsigned int session_context_length = 0;

  bool verifies_clients() const { return verify == kVerifyOptional || verify == kVerifyOn; }
};

// What one build parsed and what it took from the previous store: for the
// logs, and for tests to count the parses.
struct TlsBuildStats {
  uint32_t certificates_parsed = 0;
  uint32_t certificates_reused = 0;
  uint32_t cas_parsed = 0;  // client CAs of policies that verify clients
  uint32_t cas_reused = 0;
};

// Where a connection arrived: its local address and port (what tells one
// Gateway from another, and Gateways from Ingresses).
struct LocalAddress {
  uint8_t family = 0;  // 4 or 6; 0 unknown (served as an Ingress connection)
  uint8_t bytes[16] = {};  // network order; IPv4 in the first 4
  uint16_t port = 0;
};

// What a server name is served.
struct TlsChoice {
  // Null: the table has no default; use the fallback. On a Gateway's
  // listener port (`gateway`), null means no listener takes the name: fail.
  const ServedCertificate* certificate = nullptr;
  const ClientPolicy* policy = nullptr;  // null: no policy
  bool from_host = false;  // the host's (or the Gateway listener's) own certificate, not a default
  // The connection's local address and port are a Gateway's HTTPS
  // listeners': only those are served there, never an Ingress host's
  // certificate nor the default.
  bool gateway = false;
};

class TlsStore {
 public:
  // Parses every certificate chain, key and CA of `view`, whose bytes `keep`
  // owns (the store keeps it, and looks names up in the view's indexes).
  // Refuses the whole table with kInvalidTable naming the Secret or the
  // policy when anything does not parse or a key does not match its
  // certificate; the caller keeps serving the last good store.
  //
  // With `previous` (the last good store, alive for the call; the new store
  // keeps no reference to it, only to its OpenSSL objects), a chain and key
  // pair, or a CA, byte for byte the same as one of `previous` is taken from
  // it instead of parsed: it passed every check there, the key-matches check
  // too. A hash of the bytes picks the candidates; the bytes decide.
  // `stats`, when given, says what was parsed and what was taken (also when
  // the build fails: what it did until then).
  static Error build(const TlsView& view, std::shared_ptr<const void> keep, const TlsStore* previous,
                     std::shared_ptr<const TlsStore>& out, TlsBuildStats* stats = nullptr);
  static Error build(const TlsView& view, std::shared_ptr<const void> keep, std::shared_ptr<const TlsStore>& out) {
    return build(view, std::move(keep), nullptr, out);
  }

  // No allocation, no lock: a hash probe or two. With `local` on a
  // Gateway's HTTPS listener port, that Gateway's listeners decide (a binary
  // search and a scan of its listeners on that port: find_tls_listener()).
  TlsChoice choose(std::string_view server_name, const LocalAddress* local = nullptr) const;

  uint64_t generation() const { return view_.generation(); }
  // Whether any host's policy verifies client certificates (or refuses
  // every handshake): requests then get the client-certificate headers
  // checked, and only then.
  bool verifies_clients() const { return verifies_clients_; }
  // Whether the table has any policy: requests over TLS are then checked
  // against the policy their connection was made with (misdirected()).
  bool has_policies() const { return !policies_.empty(); }
  size_t certificate_count() const { return certificates_.size(); }
  const TlsView& view() const { return view_; }

 private:
  // A hash of an entry's bytes and the entry's index, sorted by hash: where
  // the next build looks for what it need not parse.
  struct ReuseKey {
    uint64_t hash;
    uint32_t index;
    bool operator<(const ReuseKey& o) const { return hash < o.hash || (hash == o.hash && index < o.index); }
  };
  TlsStore() = default;
  // The certificate, or the policy verifying clients, with exactly these
  // bytes; kNone when there is none.
  uint32_t find_certificate(uint64_t hash, std::string_view chain, std::string_view key) const;
  uint32_t find_ca(uint64_t hash, std::string_view ca) const;

  std::shared_ptr<const void> keep_;
  TlsView view_;
  std::vector<ServedCertificate> certificates_;
  std::vector<ClientPolicy> policies_;
  std::vector<ReuseKey> certificate_keys_;  // every certificate, by its chain and key
  std::vector<ReuseKey> ca_keys_;           // the policies that verify clients, by their CA
  bool verifies_clients_ = false;
};

// The certificate served when no TLS table has a default: EC P-256,
// self-signed, CN=ats-ingress-default, no SAN, valid for 10 years, made in
// memory and never written anywhere.
Error make_fallback_certificate(ServedCertificate& out);

// ---- on the handshake: what the ATS hooks (tls_hooks.cc) do, whole

// TS_SSL_CLIENT_HELLO_HOOK: the policy of `server_name`'s host, applied
// (apply_client_hello). `store` null: nothing published, nothing to apply.
// False: fail the handshake (OpenSSL fails it anyway: see below).
// On a Gateway's listener port: a session id context of that address and
// port instead (a session never resumes on another Gateway), and no listener
// taking the name fails the handshake here already.
bool handshake_client_hello(SSL* ssl, const TlsStore* store, std::string_view server_name,
                            const LocalAddress* local = nullptr);

enum class Served : uint8_t { kHost, kDefault, kFailed };
// TS_SSL_CERT_HOOK: the host's certificate, else the table's default, else
// `fallback`, installed; then the host's client verification. kFailed: fail
// the handshake (a refusing policy, or OpenSSL refused a setter); the SSL is
// then left with no certificate, so OpenSSL fails it anyway.
// On a Gateway's listener port, the most specific listener's certificate,
// and kFailed when none takes the name (see TlsStore::choose).
Served handshake_certificate(SSL* ssl, const TlsStore* store, const ServedCertificate& fallback,
                             std::string_view server_name, const LocalAddress* local = nullptr);

// ---- the steps (each returns false when OpenSSL refused)

// ClientHello: what must be set before the protocol version and the session
// are chosen: the minimum version and the session id context. Returns false
// for a policy that refuses every handshake (kVerifyRefuse), after leaving
// the SSL no protocol version to choose, so that OpenSSL fails it.
bool apply_client_hello(SSL* ssl, const ClientPolicy* policy);

// The certificate, on the SSL itself (not a new SSL_CTX, which would lose
// ATS's ALPN callbacks): every certificate ATS's context left is cleared
// first, so that another key type cannot be chosen.
bool install_certificate(SSL* ssl, const ServedCertificate& c);

// Client certificate verification for kVerifyOptional / kVerifyOn: the
// verify mode, the CA store, the CA names to send (a copy: OpenSSL takes
// ownership) and the depth. Does nothing for other policies.
bool apply_client_verification(SSL* ssl, const ClientPolicy& p);

// The server name in the ClientHello (for tests and hooks that run before
// OpenSSL has parsed it); empty when there is none.
std::string_view client_hello_server_name(SSL* ssl);

// ---- per request

// Whether a request for `host` (as sent: any case, maybe ":port") on a TLS
// connection made for `server_name` must be answered 421 Misdirected
// Request: `host` has a policy, and it is not the one the handshake was made
// with (a client cannot get around a host's client verification or minimum
// version by naming another host in SNI, or none). No allocation.
bool misdirected(const TlsStore& store, std::string_view server_name, std::string_view host);

// The headers ingress-nginx sets for a verified client: ssl-client-verify is
// "SUCCESS", "NONE" (no certificate sent) or "FAILED:<reason>"; on SUCCESS
// the subject and issuer DNs in RFC 2253 form. Allocates: for requests on
// hosts whose policy verifies clients only.
struct ClientCertFacts {
  std::string verify;
  std::string subject_dn;
  std::string issuer_dn;
};
ClientCertFacts client_cert_facts(const SSL* ssl);

// An X509_NAME in RFC 2253 one-line form.
std::string rfc2253(const X509_NAME* name);

}  // namespace atsi::plugin
