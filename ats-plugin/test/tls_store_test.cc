// The TLS store and the handshake steps the ATS hooks take, with real
// OpenSSL handshakes over memory BIOs: the server side runs exactly
// handshake_client_hello() and handshake_certificate() from its ClientHello
// and certificate callbacks, as ATS runs them from its hooks. Certificates
// are made here with OpenSSL.
#include "tls_store.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "tls_format.h"
#include "tls_view.h"
#include "tls_writer.h"

namespace atsi::plugin {
namespace {

// ------------------------------------------------------------ certificates

struct KeyPair {
  KeyPtr key;
  X509Ptr cert;
  std::string cert_pem() const {
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, cert.get());
    char* d = nullptr;
    long n = BIO_get_mem_data(b, &d);
    std::string s(d, size_t(n));
    BIO_free(b);
    return s;
  }
  std::string key_pem() const {
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    char* d = nullptr;
    long n = BIO_get_mem_data(b, &d);
    std::string s(d, size_t(n));
    BIO_free(b);
    return s;
  }
};

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `cn`, signed by `issuer` (self-signed when null); a CA
// when `ca`. EC P-256 keys: fast to make.
KeyPair make_cert(const std::string& cn, const KeyPair* issuer, bool ca, const char* san = nullptr) {
  KeyPair kp;
  kp.key.reset(EVP_EC_gen("P-256"));
  kp.cert.reset(X509_new());
  X509* x = kp.cert.get();
  static long serial = 1;
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  X509_set_version(x, X509_VERSION_3);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("Test, Inc."), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* issuer_cert = issuer ? issuer->cert.get() : x;
  X509_set_issuer_name(x, X509_get_subject_name(issuer_cert));
  X509_set_pubkey(x, kp.key.get());
  add_ext(x, issuer_cert, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
  if (ca) add_ext(x, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  if (san) add_ext(x, issuer_cert, NID_subject_alt_name, san);
  X509_sign(x, issuer ? issuer->key.get() : kp.key.get(), EVP_sha256());
  return kp;
}

std::string subject_cn(const X509* x) {
  char buf[256] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, sizeof buf);
  return buf;
}

// ------------------------------------------------------------ tables

// A built TLS table and the store over it.
struct Table {
  std::shared_ptr<std::vector<uint64_t>> bytes;
  TlsView view;
  std::shared_ptr<const TlsStore> store;
  Error error;
};

// `previous`: the store the new one may take from (TlsStore::build).
Table build(const TlsInput& in, const TlsStore* previous = nullptr, TlsBuildStats* stats = nullptr) {
  Table t;
  std::vector<uint8_t> raw;
  Error e = build_tls_table(in, 7, 0, raw);
  EXPECT_FALSE(e) << e.message;
  t.bytes = std::make_shared<std::vector<uint64_t>>((raw.size() + 7) / 8);
  std::memcpy(t.bytes->data(), raw.data(), raw.size());
  e = TlsView::validate(reinterpret_cast<const uint8_t*>(t.bytes->data()), raw.size(), t.view);
  EXPECT_FALSE(e) << e.message;
  t.error = TlsStore::build(t.view, t.bytes, previous, t.store, stats);
  return t;
}

class TlsStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ca_ = new KeyPair(make_cert("Client CA", nullptr, true));
    other_ca_ = new KeyPair(make_cert("Other CA", nullptr, true));
    intermediate_ = new KeyPair(make_cert("Server Intermediate", nullptr, true));
    a_ = new KeyPair(make_cert("a.example.com", intermediate_, false, "DNS:a.example.com"));
    wild_ = new KeyPair(make_cert("*.w.example", nullptr, false, "DNS:*.w.example"));
    dflt_ = new KeyPair(make_cert("default.example", nullptr, false));
    client_ = new KeyPair(make_cert("client one", ca_, false));
    stranger_ = new KeyPair(make_cert("stranger", other_ca_, false));
  }

  // Hosts: a.example.com (chain via an intermediate), *.w.example, and hosts
  // with each kind of policy, all on a's certificate.
  TlsInput input() const {
    TlsInput in;
    in.certificates.push_back({"ns/a", a_->cert_pem() + intermediate_->cert_pem(), a_->key_pem(), 0});
    in.certificates.push_back({"ns/wild", wild_->cert_pem(), wild_->key_pem(), 0});
    in.certificates.push_back({"ns/default", dflt_->cert_pem(), dflt_->key_pem(), 0});
    in.default_certificate = 2;
    in.policies.push_back({kTlsMin13, kVerifyOff, "", 1});                 // 0
    in.policies.push_back({kTlsMinNone, kVerifyOn, ca_->cert_pem(), 2});     // 1
    in.policies.push_back({kTlsMinNone, kVerifyOptional, ca_->cert_pem(), 2});  // 2
    in.policies.push_back({kTlsMinNone, kVerifyRefuse, "", 1});              // 3
    in.hosts = {{"a.example.com", 0, kNone},   {"*.w.example", 1, kNone},    {"tls13.example", 0, 0},
                {"mtls.example", 0, 1},        {"optional.example", 0, 2}, {"refused.example", 0, 3},
                {"plain.example", 0, kNone}};
    return in;
  }

  static KeyPair *ca_, *other_ca_, *intermediate_, *a_, *wild_, *dflt_, *client_, *stranger_;
};
KeyPair *TlsStoreTest::ca_, *TlsStoreTest::other_ca_, *TlsStoreTest::intermediate_, *TlsStoreTest::a_,
    *TlsStoreTest::wild_, *TlsStoreTest::dflt_, *TlsStoreTest::client_, *TlsStoreTest::stranger_;

// ------------------------------------------------------------ handshakes

// The server: ATS's place taken by OpenSSL callbacks that run the very steps
// the hooks run, and, as ATS's callbacks do, go on whatever the steps say (a
// hook's TS_EVENT_ERROR is not an OpenSSL error): a refusal must hold by
// what the steps leave on the SSL.
struct Server {
  const TlsStore* store = nullptr;
  ServedCertificate fallback;
  Served last = Served::kFailed;
  bool hello_ok = false;
  SSL_CTX* ctx = nullptr;
  const LocalAddress* local = nullptr;  // where the connection arrived, as the hooks read it

  Server() {
    EXPECT_FALSE(make_fallback_certificate(fallback));
    ctx = SSL_CTX_new(TLS_server_method());
    // As ATS's contexts have one: a session cache with a fixed context.
    SSL_CTX_set_session_id_context(ctx, reinterpret_cast<const unsigned char*>("ATS"), 3);
    SSL_CTX_set_client_hello_cb(ctx, &Server::on_client_hello, this);
    SSL_CTX_set_cert_cb(ctx, &Server::on_cert, this);
  }
  ~Server() { SSL_CTX_free(ctx); }

  static int on_client_hello(SSL* ssl, int* alert, void* arg) {
    auto* s = static_cast<Server*>(arg);
    (void)alert;
    s->hello_ok = handshake_client_hello(ssl, s->store, client_hello_server_name(ssl), s->local);
    return SSL_CLIENT_HELLO_SUCCESS;
  }
  static int on_cert(SSL* ssl, void* arg) {
    auto* s = static_cast<Server*>(arg);
    const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    s->last = handshake_certificate(ssl, s->store, s->fallback, sni ? sni : "", s->local);
    return 1;
  }
};

struct ClientOptions {
  const char* sni = nullptr;
  const KeyPair* cert = nullptr;
  int max_version = 0;
  SSL_SESSION* session = nullptr;
};

struct Result {
  bool ok = false;
  std::string served_cn;
  int peer_chain_length = 0;
  int version = 0;
  bool reused = false;
  std::vector<std::string> ca_names_offered;
  ClientCertFacts facts;
  SSL_SESSION* session = nullptr;  // the client's, to resume with (caller frees)
};

Result handshake(Server& server, const ClientOptions& o) {
  Result r;
  SSL_CTX* cctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, nullptr);
  if (o.max_version) SSL_CTX_set_max_proto_version(cctx, o.max_version);
  if (o.cert) {
    SSL_CTX_use_certificate(cctx, o.cert->cert.get());
    SSL_CTX_use_PrivateKey(cctx, o.cert->key.get());
  }
  SSL* c = SSL_new(cctx);
  SSL* s = SSL_new(server.ctx);
  if (o.sni) SSL_set_tlsext_host_name(c, o.sni);
  if (o.session) SSL_set_session(c, o.session);
  BIO *cb = nullptr, *sb = nullptr;
  BIO_new_bio_pair(&cb, 0, &sb, 0);
  SSL_set_bio(c, cb, cb);
  SSL_set_bio(s, sb, sb);
  SSL_set_connect_state(c);
  SSL_set_accept_state(s);
  bool c_done = false, s_done = false, failed = false;
  for (int i = 0; i < 100 && !(c_done && s_done) && !failed; ++i) {
    if (!c_done) {
      int rc = SSL_do_handshake(c);
      if (rc == 1) c_done = true;
      else if (SSL_get_error(c, rc) != SSL_ERROR_WANT_READ) failed = true;
    }
    if (!s_done && !failed) {
      int rc = SSL_do_handshake(s);
      if (rc == 1) s_done = true;
      else if (SSL_get_error(s, rc) != SSL_ERROR_WANT_READ) failed = true;
    }
  }
  // TLS 1.3 sends a client certificate's verdict and session tickets after
  // the handshake: exchange a byte each way so both are settled.
  if (c_done && s_done) {
    char byte = 'x';
    bool io = SSL_write(s, &byte, 1) == 1 && SSL_read(c, &byte, 1) == 1 && SSL_write(c, &byte, 1) == 1;
    if (io) {
      int rc = SSL_read(s, &byte, 1);
      io = rc == 1;
    }
    r.ok = io;
  }
  if (r.ok) {
    X509* peer = SSL_get0_peer_certificate(c);
    r.served_cn = peer ? subject_cn(peer) : "";
    STACK_OF(X509)* chain = SSL_get_peer_cert_chain(c);
    r.peer_chain_length = chain ? sk_X509_num(chain) : 0;
    r.version = SSL_version(c);
    r.reused = SSL_session_reused(c) == 1;
    r.facts = client_cert_facts(s);
    r.session = SSL_get1_session(c);
  }
  if (const STACK_OF(X509_NAME)* names = SSL_get0_peer_CA_list(c)) {
    for (int i = 0; i < sk_X509_NAME_num(names); ++i) r.ca_names_offered.push_back(rfc2253(sk_X509_NAME_value(names, i)));
  }
  ERR_clear_error();
  if (r.ok) {
    // A clean close: OpenSSL forgets sessions of connections that were not.
    SSL_set_shutdown(c, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_set_shutdown(s, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  }
  SSL_free(c);
  SSL_free(s);
  SSL_CTX_free(cctx);
  return r;
}

// ------------------------------------------------------------ tests

TEST_F(TlsStoreTest, ParsesEveryCertificateAndPolicy) {
  Table t = build(input());
  ASSERT_FALSE(t.error) << t.error.message;
  EXPECT_EQ(t.store->generation(), 7u);
  EXPECT_EQ(t.store->certificate_count(), 3u);
  EXPECT_TRUE(t.store->verifies_clients());
  TlsChoice c = t.store->choose("A.example.com.");
  ASSERT_NE(c.certificate, nullptr);
  EXPECT_EQ(c.certificate->secret, "ns/a");
  EXPECT_EQ(sk_X509_num(c.certificate->chain.get()), 1);
  EXPECT_TRUE(c.from_host);
  EXPECT_EQ(c.policy, nullptr);
  c = t.store->choose("nowhere.example");
  EXPECT_EQ(c.certificate->secret, "ns/default");
  EXPECT_FALSE(c.from_host);
  c = t.store->choose("mtls.example");
  ASSERT_NE(c.policy, nullptr);
  EXPECT_EQ(c.policy->verify_mode, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
  EXPECT_EQ(c.policy->session_context_length, 32u);
  EXPECT_EQ(t.store->choose("optional.example").policy->verify_mode, SSL_VERIFY_PEER);
  EXPECT_EQ(t.store->choose("tls13.example").policy->min_version, TLS1_3_VERSION);

  TlsInput plain = input();
  plain.policies.resize(1);
  plain.hosts.erase(plain.hosts.begin() + 3, plain.hosts.end() - 1);
  Table p = build(plain);
  ASSERT_FALSE(p.error) << p.error.message;
  EXPECT_FALSE(p.store->verifies_clients());
}

TEST_F(TlsStoreTest, RefusesTheWholeTableNamingTheSecretOrThePolicy) {
  struct Case {
    const char* what;
    void (*breaks)(TlsInput&, const TlsStoreTest&);
    const char* starts;
  };
  const Case cases[] = {
      {"garbage chain",
       [](TlsInput& in, const TlsStoreTest&) { in.certificates[1].chain_pem = "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n"; },
       "certificate of Secret ns/wild (certificates[1]): the chain does not parse: "},
      {"a key where the chain should be",
       [](TlsInput& in, const TlsStoreTest& t) { in.certificates[0].chain_pem = t.a_->key_pem(); },
       "certificate of Secret ns/a (certificates[0]): the chain does not parse: no certificate in it"},
      {"garbage key",
       [](TlsInput& in, const TlsStoreTest&) { in.certificates[2].key_pem = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"; },
       "certificate of Secret ns/default (certificates[2]): the key does not parse: "},
      {"another certificate's key",
       [](TlsInput& in, const TlsStoreTest& t) { in.certificates[1].key_pem = t.a_->key_pem(); },
       "certificate of Secret ns/wild (certificates[1]): the key does not match the certificate"},
      {"garbage CA",
       [](TlsInput& in, const TlsStoreTest&) { in.policies[2].ca_pem = "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n"; },
       "policies[2]: the client CA does not parse: "},
  };
  for (const Case& c : cases) {
    TlsInput in = input();
    c.breaks(in, *this);
    Table t = build(in);
    ASSERT_TRUE(t.error) << c.what;
    EXPECT_EQ(t.error.code, ErrorCode::kInvalidTable) << c.what;
    EXPECT_EQ(t.error.message.rfind(c.starts, 0), 0u) << c.what << ": " << t.error.message;
    EXPECT_EQ(t.store, nullptr) << c.what;
    EXPECT_EQ(ERR_peek_error(), 0u) << c.what << ": the error queue was left dirty";
  }
  // An encrypted key is refused, not prompted for.
  TlsInput in = input();
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PKCS8PrivateKey(b, wild_->key.get(), EVP_aes_128_cbc(), nullptr, 0, nullptr, const_cast<char*>("pw"));
  char* d = nullptr;
  long n = BIO_get_mem_data(b, &d);
  in.certificates[1].key_pem.assign(d, size_t(n));
  BIO_free(b);
  Table t = build(in);
  ASSERT_TRUE(t.error);
  EXPECT_EQ(t.error.message.rfind("certificate of Secret ns/wild (certificates[1]): the key does not parse", 0), 0u)
      << t.error.message;
}

TEST_F(TlsStoreTest, EachNameGetsItsCertificateAndTheRestTheDefault) {
  Table t = build(input());
  ASSERT_FALSE(t.error);
  Server server;
  server.store = t.store.get();
  struct Case {
    const char* sni;
    const char* cn;
    Served served;
  };
  const Case cases[] = {
      {"a.example.com", "a.example.com", Served::kHost},
      {"x.w.example", "*.w.example", Served::kHost},
      {"Y.W.EXAMPLE", "*.w.example", Served::kHost},
      {"w.example", "default.example", Served::kDefault},
      {"z.x.w.example", "default.example", Served::kDefault},
      {"unknown.example", "default.example", Served::kDefault},
      {nullptr, "default.example", Served::kDefault},
  };
  for (const Case& c : cases) {
    for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
      Result r = handshake(server, {c.sni, nullptr, version});
      ASSERT_TRUE(r.ok) << (c.sni ? c.sni : "(no SNI)") << " " << version;
      EXPECT_EQ(r.served_cn, c.cn) << (c.sni ? c.sni : "(no SNI)");
      EXPECT_EQ(server.last, c.served) << (c.sni ? c.sni : "(no SNI)");
      EXPECT_EQ(r.version, version);
      SSL_SESSION_free(r.session);
    }
  }
  // The chain goes with the leaf.
  Result r = handshake(server, {"a.example.com"});
  EXPECT_EQ(r.peer_chain_length, 2);
  SSL_SESSION_free(r.session);
}

TEST_F(TlsStoreTest, WithoutATableOrADefaultTheFallbackServes) {
  Server server;
  Result r = handshake(server, {"a.example.com"});
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.served_cn, "ats-ingress-default");
  EXPECT_EQ(server.last, Served::kDefault);
  SSL_SESSION_free(r.session);

  TlsInput in = input();
  in.default_certificate = kNone;
  Table t = build(in);
  ASSERT_FALSE(t.error);
  server.store = t.store.get();
  r = handshake(server, {"unknown.example"});
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.served_cn, "ats-ingress-default");
  SSL_SESSION_free(r.session);
  r = handshake(server, {"a.example.com"});
  EXPECT_EQ(r.served_cn, "a.example.com");
  SSL_SESSION_free(r.session);
}

TEST_F(TlsStoreTest, TheFallbackIsASelfSignedP256CertificateForTenYears) {
  ServedCertificate f;
  ASSERT_FALSE(make_fallback_certificate(f));
  EXPECT_EQ(subject_cn(f.leaf.get()), "ats-ingress-default");
  EXPECT_EQ(X509_check_issued(f.leaf.get(), f.leaf.get()), X509_V_OK);
  EXPECT_EQ(X509_check_private_key(f.leaf.get(), f.key.get()), 1);
  EXPECT_EQ(X509_get_ext_by_NID(f.leaf.get(), NID_subject_alt_name, -1), -1);
  char group[64] = {0};
  size_t len = 0;
  ASSERT_EQ(EVP_PKEY_get_group_name(f.key.get(), group, sizeof group, &len), 1);
  EXPECT_STREQ(group, "prime256v1");
  int days = 0, secs = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(f.leaf.get()), X509_get0_notAfter(f.leaf.get())), 1);
  EXPECT_EQ(days, 3650);
  EXPECT_EQ(sk_X509_num(f.chain.get()), 0);
  // A new one each start.
  ServedCertificate g;
  ASSERT_FALSE(make_fallback_certificate(g));
  EXPECT_NE(X509_cmp(f.leaf.get(), g.leaf.get()), 0);
}

TEST_F(TlsStoreTest, AMinimumVersionRefusesOlderClients) {
  Table t = build(input());
  Server server;
  server.store = t.store.get();
  Result r = handshake(server, {"tls13.example", nullptr, TLS1_2_VERSION});
  EXPECT_FALSE(r.ok);
  r = handshake(server, {"tls13.example", nullptr, TLS1_3_VERSION});
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.version, TLS1_3_VERSION);
  SSL_SESSION_free(r.session);
  r = handshake(server, {"plain.example", nullptr, TLS1_2_VERSION});
  EXPECT_TRUE(r.ok);
  SSL_SESSION_free(r.session);
}

TEST_F(TlsStoreTest, MutualTlsOnRequiresACertificateFromTheCa) {
  Table t = build(input());
  Server server;
  server.store = t.store.get();
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    Result r = handshake(server, {"mtls.example", nullptr, version});
    EXPECT_FALSE(r.ok) << "no client certificate, " << version;
    EXPECT_EQ(r.ca_names_offered, std::vector<std::string>{"CN=Client CA,O=Test\\, Inc."}) << version;
    r = handshake(server, {"mtls.example", stranger_, version});
    EXPECT_FALSE(r.ok) << "a certificate from another CA, " << version;
    r = handshake(server, {"mtls.example", client_, version});
    ASSERT_TRUE(r.ok) << version;
    EXPECT_EQ(r.facts.verify, "SUCCESS");
    EXPECT_EQ(r.facts.subject_dn, "CN=client one,O=Test\\, Inc.");
    EXPECT_EQ(r.facts.issuer_dn, "CN=Client CA,O=Test\\, Inc.");
    SSL_SESSION_free(r.session);
  }
}

TEST_F(TlsStoreTest, MutualTlsOptionalAcceptsNoCertificateButNotABadOne) {
  Table t = build(input());
  Server server;
  server.store = t.store.get();
  Result r = handshake(server, {"optional.example"});
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.facts.verify, "NONE");
  EXPECT_EQ(r.facts.subject_dn, "");
  SSL_SESSION_free(r.session);
  r = handshake(server, {"optional.example", client_});
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.facts.verify, "SUCCESS");
  SSL_SESSION_free(r.session);
  r = handshake(server, {"optional.example", stranger_});
  EXPECT_FALSE(r.ok);
  // Hosts without a policy never ask.
  r = handshake(server, {"plain.example", client_});
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.facts.verify, "NONE");
  EXPECT_TRUE(r.ca_names_offered.empty());
  SSL_SESSION_free(r.session);
}

TEST_F(TlsStoreTest, ARefusingPolicyFailsEveryHandshake) {
  Table t = build(input());
  Server server;
  server.store = t.store.get();
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    EXPECT_FALSE(handshake(server, {"refused.example", nullptr, version}).ok);
    EXPECT_FALSE(server.hello_ok);
    EXPECT_FALSE(handshake(server, {"refused.example", client_, version}).ok);
  }
  EXPECT_TRUE(handshake(server, {"plain.example"}).ok);
  EXPECT_TRUE(server.hello_ok);
}

TEST_F(TlsStoreTest, ACertificateStepThatFailsLeavesNoCertificate) {
  // A table swapped between the two hooks to one whose policy refuses: the
  // certificate step alone must fail the handshake.
  Table t = build(input());
  Server server;
  server.store = t.store.get();
  SSL_CTX_set_client_hello_cb(server.ctx, nullptr, nullptr);
  EXPECT_FALSE(handshake(server, {"refused.example"}).ok);
  EXPECT_EQ(server.last, Served::kFailed);
}

TEST_F(TlsStoreTest, ASessionWithoutClientVerificationDoesNotResumeWhereItIsRequired) {
  Table t = build(input());
  Server server;
  server.store = t.store.get();
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    Result first = handshake(server, {"plain.example", nullptr, version});
    ASSERT_TRUE(first.ok);
    ASSERT_NE(first.session, nullptr);
    // The harness does resume where nothing changes...
    Result again = handshake(server, {"plain.example", nullptr, version, first.session});
    ASSERT_TRUE(again.ok);
    EXPECT_TRUE(again.reused) << version;
    SSL_SESSION_free(again.session);
    // ...but not onto a host that verifies clients: a full handshake asks
    // for the certificate, and fails without one.
    Result there = handshake(server, {"mtls.example", nullptr, version, first.session});
    EXPECT_FALSE(there.ok) << version;
    Result with = handshake(server, {"mtls.example", client_, version, first.session});
    ASSERT_TRUE(with.ok) << version;
    EXPECT_FALSE(with.reused) << version;
    EXPECT_EQ(with.facts.verify, "SUCCESS");
    // A verified session resumes on its own host, keeping its verdict.
    Result resumed = handshake(server, {"mtls.example", nullptr, version, with.session});
    ASSERT_TRUE(resumed.ok) << version;
    EXPECT_TRUE(resumed.reused) << version;
    EXPECT_EQ(resumed.facts.verify, "SUCCESS") << version;
    SSL_SESSION_free(resumed.session);
    SSL_SESSION_free(with.session);
    SSL_SESSION_free(first.session);
  }
}

// ------------------------------------------------------------ Gateway listeners

LocalAddress local(uint8_t last, uint16_t port) {
  LocalAddress a;
  a.family = 4;
  a.bytes[0] = 127;
  a.bytes[2] = 1;
  a.bytes[3] = last;
  a.port = port;
  return a;
}

InputTlsListener gateway_listener(const char* gateway, uint8_t last, const char* hostname, uint32_t certificate) {
  InputTlsListener l;
  l.gateway = gateway;
  l.listener = hostname[0] ? hostname : "any";
  l.address = "127.0.1." + std::to_string(last);
  l.port = 443;
  l.hostname = hostname;
  l.certificate = certificate;
  return l;
}

TEST_F(TlsStoreTest, AGatewaysAddressAndPortServeItsOwnListenersOnly) {
  // gw/one: a.example.com gets the wildcard's certificate (not the Ingress
  // host's), *.example gets a's; gw/two: a.example.com gets the default's.
  TlsInput in = input();
  in.listeners = {gateway_listener("gw/one", 1, "a.example.com", 1), gateway_listener("gw/one", 1, "*.example", 0),
                  gateway_listener("gw/two", 2, "a.example.com", 2)};
  Table t = build(in);
  ASSERT_FALSE(t.error) << t.error.message;
  Server server;
  server.store = t.store.get();
  const LocalAddress one = local(1, 443), two = local(2, 443), other_port = local(1, 8443);
  struct Case {
    const LocalAddress* at;
    const char* sni;
    const char* served;  // the CN, or "" for a failed handshake
  };
  const Case cases[] = {
      {&one, "a.example.com", "*.w.example"},
      {&two, "a.example.com", "default.example"},
      {&one, "x.y.example", "a.example.com"},  // *.example: one or more labels
      // An Ingress host that requires client certificates: on the Gateway,
      // its listener's certificate and none of the Ingress host's policy.
      {&one, "mtls.example", "a.example.com"},
      {&one, "tls13.example", "a.example.com"},
      // Nothing of gw/two takes these: no Ingress certificate, no default.
      {&two, "x.w.example", ""},
      {&two, "nowhere.example", ""},
      {&two, nullptr, ""},
      {&one, nullptr, ""},  // no listener without a hostname
      // Another port of the same address is not the Gateway's: Ingress hosts.
      {&other_port, "a.example.com", "a.example.com"},
      {&other_port, "nowhere.example", "default.example"},
      {nullptr, "x.w.example", "*.w.example"},
  };
  for (const Case& c : cases) {
    server.local = c.at;
    Result r = handshake(server, {c.sni, nullptr, TLS1_2_VERSION});
    std::string what = std::string(c.sni ? c.sni : "(no SNI)") + " on " + (c.at == &one ? "one" : c.at == &two ? "two" : "elsewhere");
    EXPECT_EQ(r.ok ? r.served_cn : "", c.served) << what;
    if (r.ok) EXPECT_EQ(server.last, c.at == &one || c.at == &two || std::string(c.sni) != "nowhere.example" ? Served::kHost : Served::kDefault) << what;
    else EXPECT_FALSE(server.hello_ok) << what;
    SSL_SESSION_free(r.session);
  }
  // TLS 1.3 as well, and the certificate step alone refuses what no listener takes.
  server.local = &one;
  Result r13 = handshake(server, {"a.example.com", nullptr, TLS1_3_VERSION});
  EXPECT_TRUE(r13.ok);
  EXPECT_EQ(r13.served_cn, "*.w.example");
  SSL_SESSION_free(r13.session);
  SSL_CTX_set_client_hello_cb(server.ctx, nullptr, nullptr);
  server.local = &two;
  EXPECT_FALSE(handshake(server, {"nowhere.example"}).ok);
  EXPECT_EQ(server.last, Served::kFailed);
}

TEST_F(TlsStoreTest, ASessionOfOneGatewayDoesNotResumeOnAnother) {
  TlsInput in = input();
  in.listeners = {gateway_listener("gw/one", 1, "a.example.com", 0), gateway_listener("gw/two", 2, "a.example.com", 0)};
  Table t = build(in);
  ASSERT_FALSE(t.error) << t.error.message;
  Server server;
  server.store = t.store.get();
  const LocalAddress one = local(1, 443), two = local(2, 443);
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    server.local = &one;
    Result first = handshake(server, {"a.example.com", nullptr, version});
    ASSERT_TRUE(first.ok) << version;
    Result again = handshake(server, {"a.example.com", nullptr, version, first.session});
    ASSERT_TRUE(again.ok) << version;
    EXPECT_TRUE(again.reused) << version;
    server.local = &two;
    Result there = handshake(server, {"a.example.com", nullptr, version, first.session});
    ASSERT_TRUE(there.ok) << version;
    EXPECT_FALSE(there.reused) << version;
    // Nor on the Ingress host of the same name.
    server.local = nullptr;
    Result ingress = handshake(server, {"a.example.com", nullptr, version, first.session});
    ASSERT_TRUE(ingress.ok) << version;
    EXPECT_FALSE(ingress.reused) << version;
    for (Result* r : {&first, &again, &there, &ingress}) SSL_SESSION_free(r->session);
  }
}

TEST_F(TlsStoreTest, ARequestForAHostWithAnotherPolicyThanItsConnectionsIsMisdirected) {
  Table t = build(input());
  const TlsStore& s = *t.store;
  struct Case {
    const char* sni;
    const char* host;
    bool misdirected;
  };
  const Case cases[] = {
      {"mtls.example", "mtls.example", false},
      {"mtls.example", "MTLS.example:443", false},
      {"mtls.example", "mtls.example.", false},
      {"mtls.example", "a.example.com", false},  // no policy there: nothing to get around
      {"a.example.com", "mtls.example", true},    // no client certificate was asked for
      {"", "mtls.example", true},                 // no SNI: neither
      {"optional.example", "mtls.example", true}, // optional is not on
      {"a.example.com", "tls13.example", true},   // the version was not held to 1.3
      {"tls13.example", "tls13.example", false},
      {"a.example.com", "x.w.example", false},
      {"a.example.com", "", false},
  };
  for (const Case& c : cases) EXPECT_EQ(misdirected(s, c.sni, c.host), c.misdirected) << c.sni << " -> " << c.host;
  EXPECT_TRUE(s.has_policies());
}

TEST_F(TlsStoreTest, ClientHelloServerNameReadsTheExtension) {
  // Exercised by every handshake above; here the cases with no name.
  Table t = build(input());
  Server server;
  server.store = t.store.get();
  Result r = handshake(server, {nullptr, nullptr, TLS1_3_VERSION});
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.served_cn, "default.example");
  SSL_SESSION_free(r.session);
}


// ------------------------------------------------------------ from one generation to the next

// Counts the frees of the OpenSSL objects a test marks: ex data whose free
// callback OpenSSL calls when the object itself goes (for every object of
// the class; unmarked ones carry null).
struct FreeWatch {
  static void on_free(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
    if (ptr) ++*static_cast<int*>(ptr);
  }
  static int x509_index() {
    static int i = X509_get_ex_new_index(0, nullptr, nullptr, nullptr, &FreeWatch::on_free);
    return i;
  }
  static int key_index() {
    static int i = EVP_PKEY_get_ex_new_index(0, nullptr, nullptr, nullptr, &FreeWatch::on_free);
    return i;
  }
  static int store_index() {
    static int i = X509_STORE_get_ex_new_index(0, nullptr, nullptr, nullptr, &FreeWatch::on_free);
    return i;
  }
  static void watch(X509* x, int* freed) { ASSERT_EQ(X509_set_ex_data(x, x509_index(), freed), 1); }
  static void watch(EVP_PKEY* k, int* freed) { ASSERT_EQ(EVP_PKEY_set_ex_data(k, key_index(), freed), 1); }
  static void watch(X509_STORE* s, int* freed) { ASSERT_EQ(X509_STORE_set_ex_data(s, store_index(), freed), 1); }
};

const ServedCertificate& cert_for(const Table& t, const char* name) { return *t.store->choose(name).certificate; }
const ClientPolicy& policy_for(const Table& t, const char* name) { return *t.store->choose(name).policy; }

TEST_F(TlsStoreTest, ANewGenerationParsesOnlyWhatChanged) {
  TlsBuildStats n;
  Table a = build(input(), nullptr, &n);
  ASSERT_FALSE(a.error) << a.error.message;
  EXPECT_EQ(n.certificates_parsed, 3u);
  EXPECT_EQ(n.certificates_reused, 0u);
  EXPECT_EQ(n.cas_parsed, 2u);  // policies 1 and 2 (the off and refusing ones have none)
  EXPECT_EQ(n.cas_reused, 0u);

  // *.w.example renewed (a new key too); the rest byte for byte the same.
  KeyPair renewed = make_cert("*.w.example renewed", nullptr, false, "DNS:*.w.example");
  TlsInput in = input();
  in.certificates[1] = {"ns/wild", renewed.cert_pem(), renewed.key_pem(), 0};
  Table b = build(in, a.store.get(), &n);
  ASSERT_FALSE(b.error) << b.error.message;
  EXPECT_EQ(n.certificates_parsed, 1u);
  EXPECT_EQ(n.certificates_reused, 2u);
  EXPECT_EQ(n.cas_parsed, 0u);
  EXPECT_EQ(n.cas_reused, 2u);

  // The unchanged ones are A's objects, held by B too; the chain is a stack
  // of B's own over A's intermediates.
  for (const char* name : {"a.example.com", "unknown.example"}) {
    const ServedCertificate &was = cert_for(a, name), &is = cert_for(b, name);
    EXPECT_EQ(is.leaf.get(), was.leaf.get()) << name;
    EXPECT_EQ(is.key.get(), was.key.get()) << name;
    EXPECT_NE(is.chain.get(), was.chain.get()) << name;
    ASSERT_EQ(sk_X509_num(is.chain.get()), sk_X509_num(was.chain.get())) << name;
    for (int i = 0; i < sk_X509_num(is.chain.get()); ++i)
      EXPECT_EQ(sk_X509_value(is.chain.get(), i), sk_X509_value(was.chain.get(), i)) << name;
  }
  EXPECT_EQ(sk_X509_num(cert_for(b, "a.example.com").chain.get()), 1);
  // The changed one is new.
  const ServedCertificate& wild = cert_for(b, "x.w.example");
  EXPECT_NE(wild.leaf.get(), cert_for(a, "x.w.example").leaf.get());
  EXPECT_NE(wild.key.get(), cert_for(a, "x.w.example").key.get());
  EXPECT_EQ(subject_cn(wild.leaf.get()), "*.w.example renewed");
  EXPECT_EQ(X509_check_private_key(wild.leaf.get(), wild.key.get()), 1);
  // The CA stores are A's (policies 1 and 2 trust the same CA text: either
  // of A's two stores of it will do).
  X509_STORE* a_stores[] = {policy_for(a, "mtls.example").ca_store.get(), policy_for(a, "optional.example").ca_store.get()};
  for (const char* name : {"mtls.example", "optional.example"}) {
    X509_STORE* is = policy_for(b, name).ca_store.get();
    EXPECT_TRUE(is == a_stores[0] || is == a_stores[1]) << name;
  }

  // And a generation with nothing changed parses nothing.
  Table c = build(in, b.store.get(), &n);
  ASSERT_FALSE(c.error);
  EXPECT_EQ(n.certificates_parsed, 0u);
  EXPECT_EQ(n.certificates_reused, 3u);
  EXPECT_EQ(n.cas_parsed, 0u);
  EXPECT_EQ(cert_for(c, "x.w.example").leaf.get(), wild.leaf.get());
}

TEST_F(TlsStoreTest, TheOldStoreCanGoWhileTheNewOneServesAndTakesWhatOnlyItHeld) {
  int a_leaf = 0, a_key = 0, wild_leaf = 0, wild_key = 0, ca_store = 0;
  Table b;
  KeyPair renewed = make_cert("*.w.example renewed", nullptr, false, "DNS:*.w.example");
  {
    Table a = build(input());
    ASSERT_FALSE(a.error);
    FreeWatch::watch(cert_for(a, "a.example.com").leaf.get(), &a_leaf);
    FreeWatch::watch(cert_for(a, "a.example.com").key.get(), &a_key);
    FreeWatch::watch(cert_for(a, "x.w.example").leaf.get(), &wild_leaf);
    FreeWatch::watch(cert_for(a, "x.w.example").key.get(), &wild_key);
    FreeWatch::watch(policy_for(a, "mtls.example").ca_store.get(), &ca_store);
    TlsInput in = input();
    in.certificates[1] = {"ns/wild", renewed.cert_pem(), renewed.key_pem(), 0};
    b = build(in, a.store.get());
    ASSERT_FALSE(b.error);
    EXPECT_EQ(wild_leaf + wild_key, 0);
    // A goes, and the bytes of its table with it (a store keeps no
    // reference to the one it took from).
  }
  EXPECT_EQ(wild_leaf, 1) << "the replaced certificate went with the old store";
  EXPECT_EQ(wild_key, 1);
  EXPECT_EQ(a_leaf + a_key + ca_store, 0) << "what the new store took is still there";

  Server server;
  server.store = b.store.get();
  Result r = handshake(server, {"a.example.com"});
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.served_cn, "a.example.com");
  EXPECT_EQ(r.peer_chain_length, 2);
  SSL_SESSION_free(r.session);
  r = handshake(server, {"x.w.example"});
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.served_cn, "*.w.example renewed");
  SSL_SESSION_free(r.session);
  // The CA taken from A verifies, and refuses, as it did there.
  r = handshake(server, {"mtls.example", client_});
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.facts.verify, "SUCCESS");
  EXPECT_EQ(r.ca_names_offered, std::vector<std::string>{"CN=Client CA,O=Test\\, Inc."});
  SSL_SESSION_free(r.session);
  EXPECT_FALSE(handshake(server, {"mtls.example", stranger_}).ok);
  EXPECT_FALSE(handshake(server, {"mtls.example"}).ok);

  server.store = nullptr;
  b = Table();
  EXPECT_EQ(a_leaf, 1);
  EXPECT_EQ(a_key, 1);
  EXPECT_EQ(ca_store, 1);
}

TEST_F(TlsStoreTest, ACaIsTakenByItsBytesWhateverThePolicyAroundIt) {
  Table a = build(input());
  ASSERT_FALSE(a.error);
  // Policy 1 keeps its CA but verifies one level deeper; policy 2 now
  // trusts the other CA.
  TlsInput in = input();
  in.policies[1].verify_depth = 3;
  in.policies[2].ca_pem = other_ca_->cert_pem();
  TlsBuildStats n;
  Table b = build(in, a.store.get(), &n);
  ASSERT_FALSE(b.error) << b.error.message;
  EXPECT_EQ(n.cas_reused, 1u);
  EXPECT_EQ(n.cas_parsed, 1u);
  EXPECT_EQ(n.certificates_parsed, 0u);
  const ClientPolicy &was = policy_for(a, "mtls.example"), &is = policy_for(b, "mtls.example");
  EXPECT_EQ(is.ca_store.get(), was.ca_store.get());
  EXPECT_NE(is.ca_names.get(), was.ca_names.get());  // a copy: SSL_set_client_CA_list takes a list of its own anyway
  EXPECT_EQ(is.verify_depth, 3);
  EXPECT_EQ(is.verify_mode, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
  // The session context follows the policy, not the CA: a deeper depth
  // does not resume sessions of the shallower one.
  ASSERT_EQ(is.session_context_length, 32u);
  EXPECT_NE(std::memcmp(is.session_context, was.session_context, 32), 0);
  EXPECT_NE(policy_for(b, "optional.example").ca_store.get(), policy_for(a, "optional.example").ca_store.get());

  a = Table();
  Server server;
  server.store = b.store.get();
  Result r = handshake(server, {"mtls.example", client_});
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.facts.verify, "SUCCESS");
  SSL_SESSION_free(r.session);
  r = handshake(server, {"optional.example", stranger_});
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.facts.verify, "SUCCESS");
  EXPECT_EQ(r.ca_names_offered, std::vector<std::string>{"CN=Other CA,O=Test\\, Inc."});
  SSL_SESSION_free(r.session);
  EXPECT_FALSE(handshake(server, {"optional.example", client_}).ok);
}

TEST_F(TlsStoreTest, ThePairIsTakenOnlyWhenBothHalvesAreTheSame) {
  Table a = build(input());
  ASSERT_FALSE(a.error);
  TlsBuildStats n;
  // The same chain with another certificate's key: parsed, and refused by
  // the key check that taking would have skipped.
  TlsInput in = input();
  in.certificates[1].key_pem = a_->key_pem();
  Table bad = build(in, a.store.get(), &n);
  ASSERT_TRUE(bad.error);
  EXPECT_EQ(bad.error.message, "certificate of Secret ns/wild (certificates[1]): the key does not match the certificate");
  EXPECT_EQ(bad.store, nullptr);
  EXPECT_EQ(n.certificates_reused, 1u);  // certificates[0], before the refusal
  EXPECT_EQ(n.certificates_parsed, 0u);
  EXPECT_EQ(ERR_peek_error(), 0u);
  // The same key with another chain (the leaf without its intermediate):
  // parsed, and served as it now is.
  in = input();
  in.certificates[0].chain_pem = a_->cert_pem();
  Table b = build(in, a.store.get(), &n);
  ASSERT_FALSE(b.error) << b.error.message;
  EXPECT_EQ(n.certificates_parsed, 1u);
  EXPECT_EQ(n.certificates_reused, 2u);
  EXPECT_NE(cert_for(b, "a.example.com").key.get(), cert_for(a, "a.example.com").key.get());
  EXPECT_EQ(sk_X509_num(cert_for(b, "a.example.com").chain.get()), 0);
  // Text that differs in a byte only (a trailing newline) is another text.
  in = input();
  in.certificates[2].key_pem += "\n";
  b = build(in, a.store.get(), &n);
  ASSERT_FALSE(b.error) << b.error.message;
  EXPECT_EQ(n.certificates_parsed, 1u);
}

TEST_F(TlsStoreTest, ARefusedGenerationLeavesThePreviousStoreWholeForTheNext) {
  Table a = build(input());
  ASSERT_FALSE(a.error);
  X509* a_leaf = cert_for(a, "a.example.com").leaf.get();
  TlsBuildStats n;
  TlsInput broken = input();
  broken.certificates[2].key_pem = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
  Table refused = build(broken, a.store.get(), &n);
  ASSERT_TRUE(refused.error);
  EXPECT_EQ(refused.error.message.rfind("certificate of Secret ns/default (certificates[2]): the key does not parse", 0), 0u);
  EXPECT_EQ(refused.store, nullptr);
  EXPECT_EQ(n.certificates_reused, 2u);
  EXPECT_EQ(ERR_peek_error(), 0u);
  // A still serves what it served...
  Server server;
  server.store = a.store.get();
  Result r = handshake(server, {"unknown.example"});
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.served_cn, "default.example");
  SSL_SESSION_free(r.session);
  // ...and the next good generation takes from it.
  TlsInput fixed = input();
  fixed.certificates[2].secret = "ns/default-2";  // the same bytes under another Secret: taken, under the new name
  Table c = build(fixed, a.store.get(), &n);
  ASSERT_FALSE(c.error);
  EXPECT_EQ(n.certificates_parsed, 0u);
  EXPECT_EQ(n.certificates_reused, 3u);
  EXPECT_EQ(cert_for(c, "a.example.com").leaf.get(), a_leaf);
  EXPECT_EQ(cert_for(c, "unknown.example").secret, "ns/default-2");
}

TEST_F(TlsStoreTest, CertificatesAreTakenByTheirBytesWhereverTheyMoveInTheTable) {
  Table a = build(input());
  ASSERT_FALSE(a.error);
  // The certificates in another order, one removed, one added: the indexes
  // all change, the bytes of two do not.
  KeyPair added = make_cert("added.example", nullptr, false, "DNS:added.example");
  TlsInput in = input();
  in.certificates = {{"ns/added", added.cert_pem(), added.key_pem(), 0}, in.certificates[2], in.certificates[0]};
  in.default_certificate = 1;
  in.hosts = {{"a.example.com", 2, kNone}, {"added.example", 0, kNone}};
  TlsBuildStats n;
  Table b = build(in, a.store.get(), &n);
  ASSERT_FALSE(b.error) << b.error.message;
  EXPECT_EQ(n.certificates_parsed, 1u);
  EXPECT_EQ(n.certificates_reused, 2u);
  EXPECT_EQ(n.cas_parsed + n.cas_reused, 2u);
  EXPECT_EQ(cert_for(b, "a.example.com").leaf.get(), cert_for(a, "a.example.com").leaf.get());
  EXPECT_EQ(cert_for(b, "unknown.example").leaf.get(), cert_for(a, "unknown.example").leaf.get());
  EXPECT_EQ(subject_cn(cert_for(b, "added.example").leaf.get()), "added.example");
  EXPECT_EQ(subject_cn(cert_for(b, "x.w.example").leaf.get()), "default.example");
}

}  // namespace
}  // namespace atsi::plugin
