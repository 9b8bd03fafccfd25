#include "tls_store.h"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/tls1.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "hash.h"
#include "names.h"
#include "tls_format.h"

namespace atsi::plugin {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

// OpenSSL's first queued error, for people; clears the queue (the poller's
// thread must not leave errors for the next OpenSSL call to misread).
std::string openssl_reason() {
  unsigned long e = ERR_get_error();
  char buf[256] = "unknown error";
  if (e) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

Error refuse(const std::string& what) { return {ErrorCode::kInvalidTable, what}; }

BioPtr bio_of(std::string_view pem) { return BioPtr(BIO_new_mem_buf(pem.data(), int(pem.size()))); }

// Every certificate in `pem`, in order; false when one does not parse or
// there is none.
bool read_certificates(std::string_view pem, std::vector<X509Ptr>& out, std::string& why) {
  ERR_clear_error();
  BioPtr bio = bio_of(pem);
  if (!bio) {
    why = openssl_reason();
    return false;
  }
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(x);
  // The loop ends at the first block that is not a certificate: the normal
  // end of the text is "no start line"; anything else is a broken block.
  unsigned long e = ERR_peek_last_error();
  if (e && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
    why = openssl_reason();
    return false;
  }
  ERR_clear_error();
  if (out.empty()) {
    why = "no certificate in it";
    return false;
  }
  return true;
}

// Refuses encrypted keys instead of letting OpenSSL prompt on a terminal.
int no_passphrase(char*, int, int, void*) { return -1; }

std::string certificate_name(const ServedCertificate& c, uint32_t i) {
  return "certificate of Secret " + c.secret + " (certificates[" + std::to_string(i) + "])";
}

// `out.secret` is set.
Error parse_certificate(const TlsView& v, uint32_t i, ServedCertificate& out) {
  const CertificateRecord& r = v.certificate(i);
  std::string who = certificate_name(out, i);
  std::vector<X509Ptr> certs;
  std::string why;
  if (!read_certificates(v.str(r.chain), certs, why)) return refuse(who + ": the chain does not parse: " + why);
  out.leaf = std::move(certs[0]);
  out.chain.reset(sk_X509_new_null());
  if (!out.chain) return refuse(who + ": " + openssl_reason());
  for (size_t c = 1; c < certs.size(); ++c) {
    if (!sk_X509_push(out.chain.get(), certs[c].get())) return refuse(who + ": " + openssl_reason());
    certs[c].release();
  }
  ERR_clear_error();
  BioPtr bio = bio_of(v.str(r.key));
  out.key.reset(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr) : nullptr);
  if (!out.key) return refuse(who + ": the key does not parse: " + openssl_reason());
  if (X509_check_private_key(out.leaf.get(), out.key.get()) != 1) {
    ERR_clear_error();
    return refuse(who + ": the key does not match the certificate");
  }
  return {};
}

// `out` serves what `from` serves: references on the same leaf, key and
// intermediates (a chain stack of its own: sk_X509 stacks are not counted).
// `out.secret` is set.
Error share_certificate(const ServedCertificate& from, uint32_t i, ServedCertificate& out) {
  ERR_clear_error();
  out.chain.reset(X509_chain_up_ref(from.chain.get()));
  if (!out.chain || !X509_up_ref(from.leaf.get())) return refuse(certificate_name(out, i) + ": " + openssl_reason());
  out.leaf.reset(from.leaf.get());
  if (!EVP_PKEY_up_ref(from.key.get())) return refuse(certificate_name(out, i) + ": " + openssl_reason());
  out.key.reset(from.key.get());
  return {};
}

// The seeds keep a certificate's hash apart from a CA's of the same text.
uint64_t certificate_hash(std::string_view chain, std::string_view key) {
  return hash_bytes(key.data(), key.size(), hash_bytes(chain.data(), chain.size(), 0x63657274ull));
}
uint64_t ca_hash(std::string_view ca) { return hash_bytes(ca.data(), ca.size(), 0x63612020ull); }

void session_context_of(std::string_view ca, const PolicyRecord& r, ClientPolicy& p) {
  // "ats-ingress" + mode + depth + the CA text: equal policies share
  // sessions; a changed CA or mode does not resume the old ones.
  static constexpr char kLabel[] = "ats-ingress client verification";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  uint32_t fields[2] = {r.verify_client, r.verify_depth};
  bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) && EVP_DigestUpdate(ctx, kLabel, sizeof kLabel - 1) &&
            EVP_DigestUpdate(ctx, fields, sizeof fields) && EVP_DigestUpdate(ctx, ca.data(), ca.size()) &&
            EVP_DigestFinal_ex(ctx, digest, &n);
  EVP_MD_CTX_free(ctx);
  if (!ok) {
    ERR_clear_error();
    n = 0;
  }
  p.session_context_length = n < sizeof p.session_context ? n : unsigned(sizeof p.session_context);
  std::memcpy(p.session_context, digest, p.session_context_length);
}

// Everything of a policy but its CA store and names.
void policy_settings(const TlsView& v, uint32_t i, ClientPolicy& out) {
  const PolicyRecord& r = v.policy(i);
  out.min_version = r.min_version == kTlsMin12 ? TLS1_2_VERSION : r.min_version == kTlsMin13 ? TLS1_3_VERSION : 0;
  out.verify = r.verify_client;
  out.verify_depth = int(r.verify_depth);
  if (!out.verifies_clients()) return;
  out.verify_mode = r.verify_client == kVerifyOn ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_PEER;
  session_context_of(v.str(r.ca), r, out);
}

// The CA store and names of a policy that verifies clients, parsed.
Error parse_ca(const TlsView& v, uint32_t i, ClientPolicy& out) {
  const PolicyRecord& r = v.policy(i);
  std::string who = "policies[" + std::to_string(i) + "]";
  std::vector<X509Ptr> cas;
  std::string why;
  if (!read_certificates(v.str(r.ca), cas, why)) return refuse(who + ": the client CA does not parse: " + why);
  out.ca_store.reset(X509_STORE_new());
  out.ca_names.reset(sk_X509_NAME_new_null());
  if (!out.ca_store || !out.ca_names) return refuse(who + ": " + openssl_reason());
  for (const X509Ptr& ca : cas) {
    X509_NAME* name = X509_NAME_dup(X509_get_subject_name(ca.get()));
    if (!X509_STORE_add_cert(out.ca_store.get(), ca.get()) || !name || !sk_X509_NAME_push(out.ca_names.get(), name)) {
      X509_NAME_free(name);
      return refuse(who + ": the client CA cannot be used: " + openssl_reason());
    }
  }
  return {};
}

// The CA store and names of `from`, a policy with the same CA bytes: a
// reference on the store, a copy of the names (a list of a few DER names,
// copied without parsing any PEM).
Error share_ca(const ClientPolicy& from, uint32_t i, ClientPolicy& out) {
  ERR_clear_error();
  out.ca_names.reset(SSL_dup_CA_list(from.ca_names.get()));
  if (!out.ca_names || !X509_STORE_up_ref(from.ca_store.get()))
    return refuse("policies[" + std::to_string(i) + "]: the client CA cannot be used: " + openssl_reason());
  out.ca_store.reset(from.ca_store.get());
  return {};
}

}  // namespace

uint32_t TlsStore::find_certificate(uint64_t hash, std::string_view chain, std::string_view key) const {
  auto it = std::lower_bound(certificate_keys_.begin(), certificate_keys_.end(), ReuseKey{hash, 0});
  for (; it != certificate_keys_.end() && it->hash == hash; ++it) {
    const CertificateRecord& r = view_.certificate(it->index);
    if (view_.str(r.chain) == chain && view_.str(r.key) == key) return it->index;
  }
  return kNone;
}

uint32_t TlsStore::find_ca(uint64_t hash, std::string_view ca) const {
  auto it = std::lower_bound(ca_keys_.begin(), ca_keys_.end(), ReuseKey{hash, 0});
  for (; it != ca_keys_.end() && it->hash == hash; ++it)
    if (view_.str(view_.policy(it->index).ca) == ca) return it->index;
  return kNone;
}

Error TlsStore::build(const TlsView& view, std::shared_ptr<const void> keep, const TlsStore* previous,
                      std::shared_ptr<const TlsStore>& out, TlsBuildStats* stats) {
  TlsBuildStats local;
  TlsBuildStats& n = stats ? *stats : local;
  n = {};
  std::shared_ptr<TlsStore> s(new TlsStore());
  s->keep_ = std::move(keep);
  s->view_ = view;
  s->certificates_.resize(view.certificate_count());
  s->certificate_keys_.reserve(view.certificate_count());
  for (uint32_t i = 0; i < view.certificate_count(); ++i) {
    const CertificateRecord& r = view.certificate(i);
    std::string_view chain = view.str(r.chain), key = view.str(r.key);
    uint64_t hash = certificate_hash(chain, key);
    s->certificate_keys_.push_back({hash, i});
    ServedCertificate& c = s->certificates_[i];
    c.secret = std::string(view.str(r.secret));  // the new name: the same bytes may have moved to another Secret
    uint32_t was = previous ? previous->find_certificate(hash, chain, key) : kNone;
    if (was != kNone) {
      if (Error e = share_certificate(previous->certificates_[was], i, c)) return e;
      ++n.certificates_reused;
    } else {
      if (Error e = parse_certificate(view, i, c)) return e;
      ++n.certificates_parsed;
    }
  }
  std::sort(s->certificate_keys_.begin(), s->certificate_keys_.end());
  s->policies_.resize(view.policy_count());
  for (uint32_t i = 0; i < view.policy_count(); ++i) {
    ClientPolicy& p = s->policies_[i];
    policy_settings(view, i, p);
    if (view.policy(i).verify_client != kVerifyOff) s->verifies_clients_ = true;
    if (!p.verifies_clients()) continue;
    std::string_view ca = view.str(view.policy(i).ca);
    uint64_t hash = ca_hash(ca);
    s->ca_keys_.push_back({hash, i});
    uint32_t was = previous ? previous->find_ca(hash, ca) : kNone;
    if (was != kNone) {
      if (Error e = share_ca(previous->policies_[was], i, p)) return e;
      ++n.cas_reused;
    } else {
      if (Error e = parse_ca(view, i, p)) return e;
      ++n.cas_parsed;
    }
  }
  std::sort(s->ca_keys_.begin(), s->ca_keys_.end());
  out = std::move(s);
  return {};
}

TlsChoice TlsStore::choose(std::string_view server_name, const LocalAddress* local) const {
  TlsChoice c;
  if (local && view_.listener_count() != 0) {
    TlsListenerMatch m = find_tls_listener(view_, local->family, local->bytes, local->port, server_name);
    if (m.on_gateway) {
      c.gateway = true;
      if (m.listener != kNone) {
        const TlsListenerRecord& r = view_.listener(m.listener);
        c.certificate = &certificates_[r.certificate];
        c.from_host = true;
        if (r.policy != kNone) c.policy = &policies_[r.policy];
      }
      return c;
    }
  }
  uint32_t h = find_tls_host(view_, server_name);
  uint32_t cert = view_.default_certificate();
  if (h != kNone) {
    const TlsHostRecord& r = view_.host(h);
    if (r.certificate != kNone) {
      cert = r.certificate;
      c.from_host = true;
    }
    if (r.policy != kNone) c.policy = &policies_[r.policy];
  }
  if (cert != kNone) c.certificate = &certificates_[cert];
  return c;
}

Error make_fallback_certificate(ServedCertificate& out) {
  ERR_clear_error();
  auto fail = [](const char* what) { return Error{ErrorCode::kSystem, std::string(what) + ": " + openssl_reason()}; };
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return fail("generating the fallback key");
  X509Ptr x(X509_new());
  if (!x) return fail("making the fallback certificate");
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return fail("a serial number");
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  bool ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x.get())) != nullptr;
  BN_free(bn);
  X509_NAME* name = X509_get_subject_name(x.get());
  ok = ok && X509_set_version(x.get(), X509_VERSION_3) &&
       X509_gmtime_adj(X509_getm_notBefore(x.get()), 0) != nullptr &&
       X509_time_adj_ex(X509_getm_notAfter(x.get()), 3650, 0, nullptr) != nullptr &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                  reinterpret_cast<const unsigned char*>("ats-ingress-default"), -1, -1, 0) &&
       X509_set_issuer_name(x.get(), name) && X509_set_pubkey(x.get(), key.get()) &&
       X509_sign(x.get(), key.get(), EVP_sha256()) > 0;
  if (!ok) return fail("making the fallback certificate");
  out.secret = "(fallback: ats-ingress-default)";
  out.leaf = std::move(x);
  out.chain.reset(sk_X509_new_null());
  out.key = std::move(key);
  if (!out.chain) return fail("making the fallback certificate");
  return {};
}

namespace {

// An empty range of versions: OpenSSL fails the handshake itself
// (protocol_version alert), whatever ATS does with the hook's verdict.
void refuse_every_version(SSL* ssl) {
  SSL_set_min_proto_version(ssl, TLS1_3_VERSION);
  SSL_set_max_proto_version(ssl, TLS1_2_VERSION);
}

}  // namespace

bool apply_client_hello(SSL* ssl, const ClientPolicy* p) {
  if (!p) return true;
  if (p->verify == kVerifyRefuse) {
    refuse_every_version(ssl);
    return false;
  }
  if (p->min_version && !SSL_set_min_proto_version(ssl, p->min_version)) return false;
  if (p->session_context_length &&
      !SSL_set_session_id_context(ssl, p->session_context, p->session_context_length))
    return false;
  return true;
}

bool install_certificate(SSL* ssl, const ServedCertificate& c) {
  SSL_certs_clear(ssl);
  return SSL_use_certificate(ssl, c.leaf.get()) == 1 && SSL_use_PrivateKey(ssl, c.key.get()) == 1 &&
         SSL_set1_chain(ssl, c.chain.get()) == 1;
}

bool apply_client_verification(SSL* ssl, const ClientPolicy& p) {
  if (!p.verifies_clients()) return true;
  // A null callback keeps the one ATS's context may have set.
  SSL_set_verify(ssl, p.verify_mode, nullptr);
  SSL_set_verify_depth(ssl, p.verify_depth);
  if (!SSL_set1_verify_cert_store(ssl, p.ca_store.get())) return false;
  STACK_OF(X509_NAME)* names = SSL_dup_CA_list(p.ca_names.get());
  if (!names) return false;
  SSL_set_client_CA_list(ssl, names);  // takes ownership
  return true;
}

namespace {

// The session id context of a Gateway's listener port: its address and
// port, so that a session made with one Gateway never resumes on another
// (nor on an Ingress host, whose contexts are digests: policy_settings).
bool set_gateway_session_context(SSL* ssl, const LocalAddress& local) {
  static constexpr char kLabel[] = "atsi-gw";
  unsigned char ctx[sizeof kLabel - 1 + 1 + 16 + 2];
  static_assert(sizeof ctx <= SSL_MAX_SID_CTX_LENGTH);
  std::memcpy(ctx, kLabel, sizeof kLabel - 1);
  size_t n = sizeof kLabel - 1;
  ctx[n++] = local.family;
  std::memcpy(ctx + n, local.bytes, 16);
  n += 16;
  ctx[n++] = uint8_t(local.port >> 8);
  ctx[n++] = uint8_t(local.port);
  return SSL_set_session_id_context(ssl, ctx, unsigned(n)) == 1;
}

}  // namespace

bool handshake_client_hello(SSL* ssl, const TlsStore* store, std::string_view server_name, const LocalAddress* local) {
  if (!store) return true;
  TlsChoice c = store->choose(server_name, local);
  if (c.gateway) {
    if (!c.certificate) {
      // No listener of this Gateway's port takes the name: nothing to serve.
      refuse_every_version(ssl);
      return false;
    }
    if (!set_gateway_session_context(ssl, *local)) return false;
  }
  return apply_client_hello(ssl, c.policy);
}

Served handshake_certificate(SSL* ssl, const TlsStore* store, const ServedCertificate& fallback,
                             std::string_view server_name, const LocalAddress* local) {
  TlsChoice c;
  if (store) c = store->choose(server_name, local);
  // Checked again here: a new table may have come between the two hooks.
  bool ok = !(c.gateway && !c.certificate) && !(c.policy && c.policy->verify == kVerifyRefuse) &&
            install_certificate(ssl, c.certificate ? *c.certificate : fallback) &&
            (!c.policy || apply_client_verification(ssl, *c.policy));
  if (!ok) {
    // No certificate at all: OpenSSL cannot complete the handshake, whatever
    // ATS does with the hook's verdict (and ATS's own default never serves).
    SSL_certs_clear(ssl);
    ERR_clear_error();
    return Served::kFailed;
  }
  return c.from_host ? Served::kHost : Served::kDefault;
}

std::string_view client_hello_server_name(SSL* ssl) {
  // server_name extension: list length (2), then entries of type (1),
  // length (2), name; the first host_name entry is the one.
  const unsigned char* p = nullptr;
  size_t n = 0;
  if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &n) || n < 2) return {};
  size_t list = (size_t(p[0]) << 8) | p[1];
  if (list + 2 > n) return {};
  size_t i = 2;
  while (i + 3 <= 2 + list) {
    unsigned type = p[i];
    size_t len = (size_t(p[i + 1]) << 8) | p[i + 2];
    if (i + 3 + len > 2 + list) return {};
    if (type == TLSEXT_NAMETYPE_host_name) return {reinterpret_cast<const char*>(p + i + 3), len};
    i += 3 + len;
  }
  return {};
}

bool misdirected(const TlsStore& store, std::string_view server_name, std::string_view host) {
  char buf[kHostBufferSize];
  std::string_view name;
  const ClientPolicy* wanted = normalize_host(host, buf, name) ? store.choose(name).policy : nullptr;
  return wanted && wanted != store.choose(server_name).policy;
}

std::string rfc2253(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
    ERR_clear_error();
    return {};
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, size_t(len)) : std::string();
}

ClientCertFacts client_cert_facts(const SSL* ssl) {
  ClientCertFacts f;
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (!peer) {
    f.verify = "NONE";
    return f;
  }
  long result = SSL_get_verify_result(ssl);
  if (result != X509_V_OK) {
    f.verify = std::string("FAILED:") + X509_verify_cert_error_string(result);
    return f;
  }
  f.verify = "SUCCESS";
  f.subject_dn = rfc2253(X509_get_subject_name(peer));
  f.issuer_dn = rfc2253(X509_get_issuer_name(peer));
  return f;
}

}  // namespace atsi::plugin
