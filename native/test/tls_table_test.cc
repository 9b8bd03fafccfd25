// The TLS table: the writer refuses what cannot be served, naming the field;
// the reader refuses every blob it cannot trust; SNI names find their host
// exactly, else by a single-label wildcard; a Gateway's address and port
// finds its own listeners only, the most specific first.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "table_writer.h"
#include "tls_encoder.h"
#include "tls_format.h"
#include "tls_view.h"
#include "tls_writer.h"

namespace atsi {
namespace {

using testing::fake_pem;
using testing::sample_tls_input;

std::string build_error(const TlsInput& in) {
  std::vector<uint8_t> out;
  Error e = build_tls_table(in, 1, 0, out);
  EXPECT_TRUE(!e || e.code == ErrorCode::kInvalidModel);
  return e ? e.message : "ok";
}

std::vector<uint8_t> build_bytes(const TlsInput& in, uint64_t generation = 1) {
  std::vector<uint8_t> out;
  Error e = build_tls_table(in, generation, 1234, out);
  EXPECT_FALSE(e) << e.message;
  return out;
}

// Bytes in 8-byte aligned storage, with a view once validated.
struct Aligned {
  explicit Aligned(const std::vector<uint8_t>& bytes, size_t size)
      : storage((size + 7) / 8 + 1), size(size) {
    std::memcpy(storage.data(), bytes.data(), std::min(size, bytes.size()));
  }
  const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(storage.data()); }
  std::string check() { return describe(TlsView::validate(data(), size, view)); }
  static std::string describe(const Error& e) { return e ? e.message : "ok"; }
  std::vector<uint64_t> storage;
  size_t size;
  TlsView view;
};

std::string check(const std::vector<uint8_t>& bytes, size_t size) { return Aligned(bytes, size).check(); }
std::string check(const std::vector<uint8_t>& bytes) { return check(bytes, bytes.size()); }

// ------------------------------------------------------------------ writer

struct Refusal {
  const char* what;
  void (*breaks)(TlsInput&);
  const char* message;
};

const Refusal kRefusals[] = {
    {"default out of range", [](TlsInput& in) { in.default_certificate = 3; },
     "defaultCertificate: certificate index 3 is out of range (3 certificates)"},
    {"empty chain", [](TlsInput& in) { in.certificates[1].chain_pem.clear(); }, "certificates[1].chainPem: is empty"},
    {"chain not PEM", [](TlsInput& in) { in.certificates[0].chain_pem = "MIIB..."; },
     "certificates[0].chainPem: does not begin with \"-----BEGIN\" (PEM expected)"},
    {"key not PEM", [](TlsInput& in) { in.certificates[2].key_pem = " -----BEGIN PRIVATE KEY-----"; },
     "certificates[2].keyPem: does not begin with \"-----BEGIN\" (PEM expected)"},
    {"empty key", [](TlsInput& in) { in.certificates[2].key_pem.clear(); }, "certificates[2].keyPem: is empty"},
    {"min version 11", [](TlsInput& in) { in.policies[0].min_version = 11; },
     "policies[0].minVersion: 11 is not 0 (none), 12 or 13"},
    {"verify 4", [](TlsInput& in) { in.policies[1].verify_client = 4; },
     "policies[1].verifyClient: 4 is not 0 (off), 1 (optional), 2 (on) or 3 (refuse)"},
    {"optional without CA", [](TlsInput& in) { in.policies[1].ca_pem.clear(); },
     "policies[1].caPem: verifyClient 1 needs a CA"},
    {"on without CA", [](TlsInput& in) { in.policies[2].ca_pem.clear(); }, "policies[2].caPem: verifyClient 2 needs a CA"},
    {"CA not PEM", [](TlsInput& in) { in.policies[2].ca_pem = "ca"; },
     "policies[2].caPem: does not begin with \"-----BEGIN\" (PEM expected)"},
    {"depth 0", [](TlsInput& in) { in.policies[0].verify_depth = 0; }, "policies[0].verifyDepth: 0 is not 1 to 10"},
    {"depth 11", [](TlsInput& in) { in.policies[3].verify_depth = 11; }, "policies[3].verifyDepth: 11 is not 1 to 10"},
    {"uppercase name", [](TlsInput& in) { in.hosts[0].name = "A.example.com"; },
     "hosts[0].name: \"A.example.com\" is not a lowercase host name or \"*.\" and one"},
    {"empty name", [](TlsInput& in) { in.hosts[5].name = ""; },
     "hosts[5].name: \"\" is not a lowercase host name or \"*.\" and one"},
    {"bare star", [](TlsInput& in) { in.hosts[1].name = "*."; },
     "hosts[1].name: \"*.\" is not a lowercase host name or \"*.\" and one"},
    {"two stars", [](TlsInput& in) { in.hosts[1].name = "*.*.w.example"; },
     "hosts[1].name: \"*.*.w.example\" is not a lowercase host name or \"*.\" and one"},
    {"star inside", [](TlsInput& in) { in.hosts[1].name = "a.*.example"; },
     "hosts[1].name: \"a.*.example\" is not a lowercase host name or \"*.\" and one"},
    {"trailing dot", [](TlsInput& in) { in.hosts[0].name = "a.example.com."; },
     "hosts[0].name: \"a.example.com.\" is not a lowercase host name or \"*.\" and one"},
    {"wildcard too long", [](TlsInput& in) { in.hosts[1].name = "*." + std::string(63, 'a') + "." +
                                                                 std::string(63, 'b') + "." + std::string(63, 'c') +
                                                                 "." + std::string(61, 'd'); },
     nullptr},
    {"duplicate", [](TlsInput& in) { in.hosts[3].name = "a.example.com"; },
     "hosts[3].name: host \"a.example.com\" appears twice"},
    {"certificate out of range", [](TlsInput& in) { in.hosts[2].certificate = 7; },
     "hosts[2].certificate: certificate index 7 is out of range (3 certificates)"},
    {"listener address", [](TlsInput& in) {
       in.listeners[0].family = 0;
       in.listeners[0].address = "127.0.1";
     },
     "gatewayListeners[0].address: \"127.0.1\" is not an IPv4 or IPv6 address, nor * (any)"},
    {"listener port 0", [](TlsInput& in) { in.listeners[1].port = 0; }, "gatewayListeners[1].port: must be 1 to 65535"},
    {"listener hostname", [](TlsInput& in) { in.listeners[2].hostname = "*.W.example"; },
     "gatewayListeners[2].hostname: \"*.W.example\" is not a lowercase host name, \"*.\" and one, or empty"},
    {"listener without certificate", [](TlsInput& in) { in.listeners[3].certificate = kNone; },
     "gatewayListeners[3].certificate: is required"},
    {"listener certificate out of range", [](TlsInput& in) { in.listeners[4].certificate = 3; },
     "gatewayListeners[4].certificate: certificate index 3 is out of range (3 certificates)"},
    {"listener policy out of range", [](TlsInput& in) { in.listeners[5].policy = 4; },
     "gatewayListeners[5].policy: policy index 4 is out of range (4 policies)"},
    {"two listeners for one name on one address and port", [](TlsInput& in) { in.listeners[2].hostname = "a.example.com"; },
     "gatewayListeners[2].hostname: \"a.example.com\" on this address and port is also gatewayListeners[1]'s: SNI could not choose between them"},
    {"policy out of range", [](TlsInput& in) { in.hosts[4].policy = 4; },
     "hosts[4].policy: policy index 4 is out of range (4 policies)"},
};

TEST(TlsWriter, RefusesWhatCannotBeServedNamingTheField) {
  ASSERT_EQ(build_error(sample_tls_input()), "ok");
  for (const Refusal& r : kRefusals) {
    TlsInput in = sample_tls_input();
    r.breaks(in);
    std::string got = build_error(in);
    if (r.message) {
      EXPECT_EQ(got, r.message) << r.what;
    } else {
      EXPECT_NE(got, "ok") << r.what;
    }
  }
}

TEST(TlsWriter, AcceptsWhatTheEncodingAllows) {
  TlsInput in = sample_tls_input();
  in.policies[0].ca_pem = fake_pem("CERTIFICATE", "a CA with verify off is kept, unused");
  in.hosts.push_back({"*.com", 0, kNone});
  in.hosts.push_back({"x_y-1.example", kNone, kNone});
  in.hosts.push_back({std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                          std::string(61, 'd'),
                      kNone, kNone});  // 253 bytes
  EXPECT_EQ(build_error(in), "ok");
  EXPECT_EQ(build_error(TlsInput{}), "ok");
}

TEST(TlsWriter, SameInputSameBytes) {
  EXPECT_EQ(build_bytes(sample_tls_input(), 5), build_bytes(sample_tls_input(), 5));
}

TEST(TlsWriter, EveryFieldRoundTrips) {
  TlsInput in = sample_tls_input();
  std::vector<uint8_t> bytes = build_bytes(in, 42);
  Aligned a(bytes, bytes.size());
  ASSERT_EQ(a.check(), "ok");
  const TlsView& v = a.view;
  EXPECT_EQ(v.generation(), 42u);
  EXPECT_EQ(v.header().build_time_ms, 1234u);
  EXPECT_EQ(v.default_certificate(), in.default_certificate);
  ASSERT_EQ(v.certificate_count(), in.certificates.size());
  for (uint32_t i = 0; i < v.certificate_count(); ++i) {
    const CertificateRecord& c = v.certificate(i);
    EXPECT_EQ(v.str(c.secret), in.certificates[i].secret);
    EXPECT_EQ(v.str(c.chain), in.certificates[i].chain_pem);
    EXPECT_EQ(v.str(c.key), in.certificates[i].key_pem);
    EXPECT_EQ(c.not_after, in.certificates[i].not_after);
  }
  ASSERT_EQ(v.policy_count(), in.policies.size());
  for (uint32_t i = 0; i < v.policy_count(); ++i) {
    const PolicyRecord& p = v.policy(i);
    EXPECT_EQ(p.min_version, in.policies[i].min_version);
    EXPECT_EQ(p.verify_client, in.policies[i].verify_client);
    EXPECT_EQ(v.str(p.ca), in.policies[i].ca_pem);
    EXPECT_EQ(p.verify_depth, in.policies[i].verify_depth);
  }
  ASSERT_EQ(v.host_count(), in.hosts.size());
  for (uint32_t i = 0; i < v.host_count(); ++i) {
    const TlsHostRecord& h = v.host(i);
    EXPECT_EQ(v.str(h.name), in.hosts[i].name);
    EXPECT_EQ(h.kind, in.hosts[i].name[0] == '*' ? kTlsHostWildcard : kTlsHostExact);
    EXPECT_EQ(h.certificate, in.hosts[i].certificate);
    EXPECT_EQ(h.policy, in.hosts[i].policy);
  }
  // Listeners sorted by address and port, the most specific hostname first.
  ASSERT_EQ(v.listener_count(), in.listeners.size());
  const char* want[][3] = {{"gw/one", "exact", "a.example.com"}, {"gw/one", "wild", "*.w.example"},
                           {"gw/one", "wilder", "*.example"},    {"gw/one", "any", ""},
                           {"gw/two", "exact", "a.example.com"}, {"gw/six", "any", ""}};
  for (uint32_t i = 0; i < v.listener_count(); ++i) {
    const TlsListenerRecord& l = v.listener(i);
    EXPECT_EQ(v.str(l.gateway), want[i][0]) << i;
    EXPECT_EQ(v.str(l.listener), want[i][1]) << i;
    EXPECT_EQ(v.str(l.hostname), want[i][2]) << i;
    EXPECT_EQ(l.policy, kNone);
  }
  const TlsListenerRecord& two = v.listener(4);
  EXPECT_EQ(two.family, 4);
  EXPECT_EQ(two.port, 443);
  const uint8_t addr[16] = {127, 0, 1, 2};
  EXPECT_EQ(std::memcmp(two.address, addr, 16), 0);
  EXPECT_EQ(two.certificate, 1u);
  EXPECT_EQ(two.host_kind, uint8_t(GatewayHostKind::kExact));
  EXPECT_EQ(v.listener(5).family, 6);
  EXPECT_EQ(v.listener(5).port, 8443);
  EXPECT_EQ(v.listener(3).host_kind, uint8_t(GatewayHostKind::kAny));
  // The input's order does not matter.
  TlsInput reversed = in;
  std::reverse(reversed.listeners.begin(), reversed.listeners.end());
  std::vector<uint8_t> again = build_bytes(reversed, 42);
  Aligned b(again, again.size());
  ASSERT_EQ(b.check(), "ok");
  for (uint32_t i = 0; i < v.listener_count(); ++i) EXPECT_EQ(b.view.str(b.view.listener(i).listener), want[i][1]) << i;
}

// ------------------------------------------------------------------ reader

class TlsReader : public ::testing::Test {
 protected:
  void SetUp() override { bytes_ = build_bytes(sample_tls_input(), 9); }
  TlsHeader header() const {
    TlsHeader h;
    std::memcpy(&h, bytes_.data(), sizeof h);
    return h;
  }
  // Corrupts then reseals the checksum, as a buggy writer would.
  static std::vector<uint8_t> resealed(std::vector<uint8_t> b) {
    uint64_t sum = table_checksum(b.data(), b.size());
    std::memcpy(b.data() + offsetof(TlsHeader, checksum), &sum, 8);
    return b;
  }
  template <class T>
  std::vector<uint8_t> with(size_t at, T value) const {
    std::vector<uint8_t> b = bytes_;
    std::memcpy(b.data() + at, &value, sizeof value);
    return resealed(b);
  }
  size_t record_at(TlsSectionId s, size_t record_size, uint32_t i) const {
    return header().sections[s].offset + i * record_size;
  }
  std::vector<uint8_t> bytes_;
};

TEST_F(TlsReader, AcceptsWhatTheWriterWrote) {
  EXPECT_EQ(check(bytes_), "ok");
  std::vector<uint8_t> empty = build_bytes(TlsInput{});
  EXPECT_EQ(check(empty), "ok");
}

TEST_F(TlsReader, RefusesShortTruncatedBadMagicVersionChecksum) {
  EXPECT_EQ(check(bytes_, 10), "shorter than a header (10 bytes)");
  EXPECT_NE(check(bytes_, bytes_.size() - 8).find("truncated"), std::string::npos);
  auto b = bytes_;
  b[7] = '2';
  EXPECT_EQ(check(b), "bad magic");
  // A route table is not a TLS table.
  b = bytes_;
  std::memcpy(b.data(), kTableMagic, 8);
  EXPECT_EQ(check(b), "bad magic");
  EXPECT_EQ(check(with(offsetof(TlsHeader, format_version), uint32_t(1))), "format version 1, this reader knows 2");
  EXPECT_EQ(check(with(offsetof(TlsHeader, section_count), uint32_t(5))), "unexpected header layout");
  b = bytes_;
  b[b.size() / 2] ^= 0x01;
  EXPECT_EQ(check(b), "checksum mismatch");
}

TEST_F(TlsReader, RefusesOutOfRangeReferencesEvenWithAGoodChecksum) {
  const TlsHeader h = header();
  struct Case {
    const char* what;
    std::vector<uint8_t> bytes;
    const char* message;
  };
  auto cert = [&](uint32_t i, size_t field) { return record_at(kTlsSectionCertificates, sizeof(CertificateRecord), i) + field; };
  auto policy = [&](uint32_t i, size_t field) { return record_at(kTlsSectionPolicies, sizeof(PolicyRecord), i) + field; };
  auto host = [&](uint32_t i, size_t field) { return record_at(kTlsSectionHosts, sizeof(TlsHostRecord), i) + field; };
  auto listener = [&](uint32_t i, size_t field) {
    return record_at(kTlsSectionListeners, sizeof(TlsListenerRecord), i) + field;
  };
  const uint32_t pool = h.sections[kTlsSectionStrings].size;
  std::vector<Case> cases = {
      {"default certificate", with(offsetof(TlsHeader, default_certificate), uint32_t(3)),
       "default certificate out of range"},
      {"section offset", with(offsetof(TlsHeader, sections) + kTlsSectionHosts * sizeof(Section), uint32_t(bytes_.size())),
       "section 3 out of bounds"},
      {"section misaligned", with(offsetof(TlsHeader, sections) + kTlsSectionPolicies * sizeof(Section),
                                  h.sections[kTlsSectionPolicies].offset + 4),
       "section 2 out of bounds"},
      {"record count", with(offsetof(TlsHeader, sections) + kTlsSectionHosts * sizeof(Section) + offsetof(Section, count),
                            h.sections[kTlsSectionHosts].count + 1),
       "section sizes do not match their record counts"},
      {"chain offset", with(cert(1, offsetof(CertificateRecord, chain)), StrRef{pool, 1}),
       "certificate 1: string out of bounds or empty"},
      {"key length", with(cert(0, offsetof(CertificateRecord, key)), StrRef{0, pool + 1}),
       "certificate 0: string out of bounds or empty"},
      {"empty key", with(cert(2, offsetof(CertificateRecord, key)), StrRef{0, 0}),
       "certificate 2: string out of bounds or empty"},
      {"min version", with(policy(0, offsetof(PolicyRecord, min_version)), uint32_t(10)), "policy 0: invalid"},
      {"verify mode", with(policy(1, offsetof(PolicyRecord, verify_client)), uint32_t(4)), "policy 1: invalid"},
      {"verify without CA", with(policy(2, offsetof(PolicyRecord, ca)), StrRef{0, 0}), "policy 2: invalid"},
      {"CA out of bounds", with(policy(2, offsetof(PolicyRecord, ca)), StrRef{0xFFFFFFF0u, 32}), "policy 2: invalid"},
      {"depth", with(policy(3, offsetof(PolicyRecord, verify_depth)), uint32_t(0)), "policy 3: invalid"},
      {"host name", with(host(4, offsetof(TlsHostRecord, name)), StrRef{pool - 2, 3}), "host 4: string out of bounds"},
      {"host kind", with(host(0, offsetof(TlsHostRecord, kind)), uint32_t(kTlsHostWildcard)),
       "host 0: kind does not match its name"},
      {"host kind unknown", with(host(0, offsetof(TlsHostRecord, kind)), uint32_t(2)),
       "host 0: kind does not match its name"},
      {"host certificate", with(host(3, offsetof(TlsHostRecord, certificate)), uint32_t(3)),
       "host 3: reference out of range"},
      {"host policy", with(host(5, offsetof(TlsHostRecord, policy)), uint32_t(4)), "host 5: reference out of range"},
      {"listener family", with(listener(0, offsetof(TlsListenerRecord, family)), uint8_t(5)),
       "gateway listener 0: address family 5"},
      {"listener IPv4 with more bytes", with(listener(1, offsetof(TlsListenerRecord, address) + 4), uint8_t(1)),
       "gateway listener 1: an IPv4 address with bytes after the fourth"},
      {"listener port", with(listener(2, offsetof(TlsListenerRecord, port)), uint16_t(0)), "gateway listener 2: port 0"},
      {"listener kind", with(listener(0, offsetof(TlsListenerRecord, host_kind)), uint8_t(GatewayHostKind::kAny)),
       "gateway listener 0: hostname invalid or not of its kind"},
      {"listener hostname", with(listener(1, offsetof(TlsListenerRecord, hostname)), StrRef{pool, 1}),
       "gateway listener 1: string out of bounds"},
      {"listener certificate none", with(listener(3, offsetof(TlsListenerRecord, certificate)), kNone),
       "gateway listener 3: reference out of range"},
      {"listener policy", with(listener(4, offsetof(TlsListenerRecord, policy)), uint32_t(4)),
       "gateway listener 4: reference out of range"},
      // gw/two's address below gw/one's: out of order.
      {"listener order", with(listener(4, offsetof(TlsListenerRecord, address) + 3), uint8_t(0)),
       "gateway listener 4: not after the one before it (order, or the same hostname twice on one address and port)"},
  };
  {
    auto b = bytes_;
    const Section& idx = h.sections[kTlsSectionHostIndex];
    for (uint32_t i = 0; i < idx.count; ++i) {
      uint32_t v = 0;
      std::memcpy(b.data() + idx.offset + i * sizeof(IndexSlot) + offsetof(IndexSlot, value), &v, 4);
    }
    cases.push_back({"index without an empty slot", resealed(b), "index malformed"});
    b = bytes_;
    uint32_t v = 99;
    std::memcpy(b.data() + h.sections[kTlsSectionWildcardIndex].offset + offsetof(IndexSlot, value), &v, 4);
    cases.push_back({"index value out of range", resealed(b), "index malformed"});
  }
  for (const Case& c : cases) EXPECT_EQ(check(c.bytes), c.message) << c.what;
}

TEST_F(TlsReader, EveryTruncationAndEveryByteFlipIsRefused) {
  for (size_t n = 0; n < bytes_.size(); ++n) EXPECT_NE(check(bytes_, n), "ok") << n;
  for (size_t i = 0; i < bytes_.size(); ++i) {
    auto b = bytes_;
    b[i] ^= 0x5a;
    EXPECT_NE(check(b), "ok") << "flip at " << i;
  }
}

// ------------------------------------------------------------------ lookup

class TlsLookup : public ::testing::Test {
 protected:
  void SetUp() override {
    TlsInput in;
    for (int i = 0; i < 4; ++i)
      in.certificates.push_back({"ns/c" + std::to_string(i), fake_pem("CERTIFICATE", "x"), fake_pem("KEY", "y"), 0});
    in.hosts = {{"a.com", 0, kNone}, {"*.a.com", 1, kNone}, {"b.a.com", 2, kNone}, {"*.com", 3, kNone},
                {"*.x.y.example", kNone, kNone}};
    bytes_ = build_bytes(in);
    aligned_ = std::make_unique<Aligned>(bytes_, bytes_.size());
    ASSERT_EQ(aligned_->check(), "ok");
  }
  // The host record's name, or "-" for none.
  std::string find(std::string_view sni) {
    uint32_t h = find_tls_host(aligned_->view, sni);
    return h == kNone ? "-" : std::string(aligned_->view.str(aligned_->view.host(h).name));
  }
  std::vector<uint8_t> bytes_;
  std::unique_ptr<Aligned> aligned_;
};

TEST_F(TlsLookup, ExactThenSingleLabelWildcardThenNone) {
  const std::pair<const char*, const char*> cases[] = {
      {"a.com", "a.com"},
      {"b.a.com", "b.a.com"},            // exact beats the wildcard
      {"c.a.com", "*.a.com"},            // one label more
      {"x.c.a.com", "-"},                // two labels more: not *.a.com, and *.c.a.com does not exist
      {"q.com", "*.com"},
      {"A.COM", "a.com"},                // any case
      {"C.a.Com.", "*.a.com"},           // a trailing dot
      {"a.com..", "-"},                  // only one
      {"com", "-"},                      // *.com does not cover com
      {"z.x.y.example", "*.x.y.example"},
      {"x.y.example", "-"},
      {"", "-"},
      {".", "-"},
      {".a.com", "-"},                   // an empty first label
      {"a.", "-"},
      {"*.a.com", "*.a.com"},            // a client may send the star: the wildcard is still the one to serve
      {"nope.org", "-"},
  };
  for (const auto& [sni, want] : cases) EXPECT_EQ(find(sni), want) << "\"" << sni << "\"";
  std::string long_name(254, 'a');
  EXPECT_EQ(find(long_name), "-");
  EXPECT_EQ(find(long_name + "."), "-");
}

TEST_F(TlsLookup, AnEmptyTableFindsNothing) {
  std::vector<uint8_t> empty = build_bytes(TlsInput{});
  Aligned a(empty, empty.size());
  ASSERT_EQ(a.check(), "ok");
  EXPECT_EQ(find_tls_host(a.view, "a.com"), kNone);
  EXPECT_EQ(a.view.default_certificate(), kNone);
}

TEST_F(TlsLookup, ManyHostsAllFound) {
  TlsInput in;
  in.certificates.push_back({"ns/c", fake_pem("CERTIFICATE", "x"), fake_pem("KEY", "y"), 0});
  for (int i = 0; i < 2000; ++i) {
    in.hosts.push_back({"h" + std::to_string(i) + ".example.com", 0, kNone});
    in.hosts.push_back({"*.w" + std::to_string(i) + ".example.com", kNone, kNone});
  }
  std::vector<uint8_t> bytes = build_bytes(in);
  Aligned a(bytes, bytes.size());
  ASSERT_EQ(a.check(), "ok");
  for (int i = 0; i < 2000; ++i) {
    std::string n = std::to_string(i);
    EXPECT_EQ(find_tls_host(a.view, "h" + n + ".example.com"), uint32_t(2 * i));
    EXPECT_EQ(find_tls_host(a.view, "x.w" + n + ".example.com"), uint32_t(2 * i + 1));
  }
  EXPECT_EQ(find_tls_host(a.view, "h2000.example.com"), kNone);
}

// ------------------------------------------------------------------ Gateway listeners

class TlsListenerLookup : public ::testing::Test {
 protected:
  void SetUp() override {
    bytes_ = build_bytes(sample_tls_input());
    aligned_ = std::make_unique<Aligned>(bytes_, bytes_.size());
    ASSERT_EQ(aligned_->check(), "ok");
  }
  // "gateway/listener" of the match, "-" on a Gateway's port with no match,
  // "ingress" off every Gateway's address and port.
  std::string find(const char* address, uint16_t port, std::string_view sni) {
    uint8_t bytes[16] = {};
    uint8_t family = inet_pton(AF_INET, address, bytes) == 1 ? 4 : (inet_pton(AF_INET6, address, bytes) == 1 ? 6 : 0);
    TlsListenerMatch m = find_tls_listener(aligned_->view, family, bytes, port, sni);
    if (!m.on_gateway) return "ingress";
    if (m.listener == kNone) return "-";
    const TlsListenerRecord& l = aligned_->view.listener(m.listener);
    return std::string(aligned_->view.str(l.gateway)) + "/" + std::string(aligned_->view.str(l.listener));
  }
  std::vector<uint8_t> bytes_;
  std::unique_ptr<Aligned> aligned_;
};

TEST_F(TlsListenerLookup, TheMostSpecificListenerOfTheConnectionsAddressAndPort) {
  // Outlives the table of cases that points into it.
  const std::string too_long(254, 'a');
  const std::tuple<const char*, uint16_t, const char*, const char*> cases[] = {
      {"127.0.1.1", 443, "a.example.com", "gw/one/exact"},
      {"127.0.1.1", 443, "A.Example.COM.", "gw/one/exact"},  // any case, one trailing dot
      {"127.0.1.1", 443, "x.w.example", "gw/one/wild"},      // more labels: *.w.example before *.example
      {"127.0.1.1", 443, "y.x.w.example", "gw/one/wild"},    // a wildcard covers one or more labels
      {"127.0.1.1", 443, "w.example", "gw/one/wilder"},      // never its apex: *.example's
      {"127.0.1.1", 443, "example", "gw/one/any"},
      {"127.0.1.1", 443, "other.org", "gw/one/any"},
      {"127.0.1.1", 443, "", "gw/one/any"},                  // no SNI: only the listener with no hostname
      {"127.0.1.1", 443, too_long.c_str(), "gw/one/any"},
      // The same name on another Gateway's address: its own listener.
      {"127.0.1.2", 443, "a.example.com", "gw/two/exact"},
      // Its listeners only: no wider one, no Ingress host, no default.
      {"127.0.1.2", 443, "b.example.com", "-"},
      {"127.0.1.2", 443, "", "-"},
      // Another port or address: not a Gateway's listener.
      {"127.0.1.1", 8443, "a.example.com", "ingress"},
      {"127.0.1.3", 443, "a.example.com", "ingress"},
      {"127.0.0.1", 443, "a.example.com", "ingress"},
      {"fd00::1", 8443, "anything.test", "gw/six/any"},
      {"fd00::1", 443, "anything.test", "ingress"},
  };
  for (const auto& [address, port, sni, want] : cases)
    EXPECT_EQ(find(address, port, sni), want) << address << ":" << port << " \"" << sni << "\"";
}

TEST_F(TlsListenerLookup, ListenersOnEveryAddressOfAPortServeWhereAnAddressHasNone) {
  TlsInput in = sample_tls_input();
  InputTlsListener any;
  any.gateway = "gw/pod";
  any.listener = "https";
  any.address = "*";
  any.port = 443;
  any.hostname = "a.example.com";
  any.certificate = 2;
  in.listeners.push_back(any);
  any.port = 9443;
  any.hostname = "";
  in.listeners.push_back(any);
  bytes_ = build_bytes(in);
  aligned_ = std::make_unique<Aligned>(bytes_, bytes_.size());
  ASSERT_EQ(aligned_->check(), "ok");
  const TlsView& v = aligned_->view;
  EXPECT_EQ(v.listener(0).family, kAnyAddressFamily);  // sorted first
  EXPECT_EQ(v.listener(1).family, kAnyAddressFamily);
  EXPECT_EQ(find("127.0.1.1", 443, "a.example.com"), "gw/one/exact");  // its own address first
  EXPECT_EQ(find("127.0.1.1", 443, "nowhere.test"), "gw/one/any");    // and only its own
  EXPECT_EQ(find("10.1.2.3", 443, "a.example.com"), "gw/pod/https");
  EXPECT_EQ(find("10.1.2.3", 443, "b.example.com"), "-");
  EXPECT_EQ(find("fd00::9", 9443, "anything"), "gw/pod/https");
  EXPECT_EQ(find("10.1.2.3", 8443, "a.example.com"), "ingress");
  // Any address's records have zero bytes: anything else is refused.
  std::vector<uint8_t> b = bytes_;
  const TlsHeader* h = reinterpret_cast<const TlsHeader*>(b.data());
  b[h->sections[kTlsSectionListeners].offset + offsetof(TlsListenerRecord, address) + 15] = 1;
  uint64_t sum = table_checksum(b.data(), b.size());
  std::memcpy(b.data() + offsetof(TlsHeader, checksum), &sum, 8);
  Aligned bad(b, b.size());
  EXPECT_EQ(bad.check(), "gateway listener 0: any address with bytes that are not zero");
}

TEST_F(TlsListenerLookup, AWrongFamilyOrNoAddressFindsNothing) {
  const uint8_t bytes[16] = {127, 0, 1, 1};
  EXPECT_FALSE(find_tls_listener(aligned_->view, 6, bytes, 443, "a.example.com").on_gateway);
  EXPECT_FALSE(find_tls_listener(aligned_->view, 0, bytes, 443, "a.example.com").on_gateway);
  EXPECT_FALSE(find_tls_listener(aligned_->view, 4, nullptr, 443, "a.example.com").on_gateway);
  std::vector<uint8_t> empty = build_bytes(TlsInput{});
  Aligned a(empty, empty.size());
  ASSERT_EQ(a.check(), "ok");
  EXPECT_FALSE(find_tls_listener(a.view, 4, bytes, 443, "a.example.com").on_gateway);
}

TEST_F(TlsListenerLookup, ManyGatewaysAllFound) {
  TlsInput in;
  for (int i = 0; i < 300; ++i) {
    in.certificates.push_back({"ns/c" + std::to_string(i), fake_pem("CERTIFICATE", "x"), fake_pem("KEY", "y"), 0});
    InputTlsListener l;
    l.gateway = "ns/gw" + std::to_string(i);
    l.listener = "https";
    l.address = "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250);
    l.port = 443;
    l.hostname = "same.example";
    l.certificate = uint32_t(i);
    in.listeners.push_back(l);
  }
  std::vector<uint8_t> bytes = build_bytes(in);
  Aligned a(bytes, bytes.size());
  ASSERT_EQ(a.check(), "ok");
  for (int i = 0; i < 300; ++i) {
    uint8_t addr[16] = {10, 0, uint8_t(i / 250), uint8_t(i % 250)};
    TlsListenerMatch m = find_tls_listener(a.view, 4, addr, 443, "same.example");
    ASSERT_TRUE(m.on_gateway) << i;
    ASSERT_NE(m.listener, kNone) << i;
    EXPECT_EQ(a.view.listener(m.listener).certificate, uint32_t(i));
  }
}

}  // namespace
}  // namespace atsi
