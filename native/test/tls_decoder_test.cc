// The decoder of the addon's flat TLS encoding: what encode-tls.ts writes
// comes back as the same TlsInput; anything else is refused with the
// position, without reading out of bounds or allocating for a count the
// input cannot hold.
#include "tls_decoder.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tls_encoder.h"
#include "tls_format.h"
#include "tls_writer.h"

namespace atsi {
namespace {

using testing::EncodedModel;
using testing::encode_tls;
using testing::fake_pem;
using testing::sample_tls_input;

// Decodes from copies in buffers of exactly the given sizes, so that
// AddressSanitizer catches any read past either end.
Error decode_exact(const std::string& strings, const std::vector<uint32_t>& ints, size_t n, TlsInput& out) {
  std::unique_ptr<char[]> s(new char[strings.size()]);
  std::copy(strings.begin(), strings.end(), s.get());
  std::unique_ptr<uint32_t[]> i(new uint32_t[n]);
  std::copy(ints.begin(), ints.begin() + std::ptrdiff_t(n), i.get());
  return decode_tls(std::string_view(s.get(), strings.size()), i.get(), n, out);
}

std::string decode_error(const EncodedModel& m) {
  TlsInput out;
  Error e = decode_exact(m.strings, m.ints, m.ints.size(), out);
  if (!e) return "ok";
  EXPECT_EQ(e.code, ErrorCode::kInvalidModel);
  return e.message;
}

std::string joined(std::initializer_list<std::string> parts) {
  std::string s;
  bool first = true;
  for (const std::string& p : parts) {
    if (!first) s.push_back('\0');
    s += p;
    first = false;
  }
  return s;
}

// One certificate (the default), one mutual-TLS policy, two hosts.
TlsInput small_input() {
  TlsInput in;
  in.default_certificate = 0;
  in.certificates.push_back({"ns/a", fake_pem("CERTIFICATE", "c"), fake_pem("PRIVATE KEY", "k"), 1700000000});
  in.policies.push_back({kTlsMin13, kVerifyOn, fake_pem("CERTIFICATE", "ca"), 3});
  in.hosts.push_back({"a.com", 0, 0});
  in.hosts.push_back({"*.b.com", kNone, kNone});
  return in;
}

TEST(TlsDecoder, TheEncoderWritesTheLayoutOfEncodeTlsTs) {
  EncodedModel m = encode_tls(small_input());
  EXPECT_EQ(m.strings, joined({"ns/a", fake_pem("CERTIFICATE", "c"), fake_pem("PRIVATE KEY", "k"),
                               fake_pem("CERTIFICATE", "ca"), "a.com", "*.b.com"}));
  std::vector<uint32_t> want = {
      2, 6, 0,                 // version, strings, default certificate 0
      1, 0, 1, 2, 1700000000,  // 1 certificate: secret, chain, key, not after
      1, 13, 2, 3, 3,          // 1 policy: TLS 1.3, verify on, CA, depth 3
      2, 4, 0, 0,              // 2 hosts: a.com with certificate 0 and policy 0,
      5, kNone, kNone,         //   *.b.com with the default and no policy
      0,                       // no Gateway listener
  };
  EXPECT_EQ(m.ints, want);
}

TEST(TlsDecoder, AValidEncodingRoundTripsIntoTheSameInput) {
  TlsInput in = sample_tls_input();
  EncodedModel m = encode_tls(in);
  TlsInput out;
  Error e = decode_exact(m.strings, m.ints, m.ints.size(), out);
  ASSERT_FALSE(e) << e.message;
  EXPECT_TRUE(out == in);
  std::vector<uint8_t> bytes;
  e = build_tls_table(out, 1, 0, bytes);
  EXPECT_FALSE(e) << e.message;
}

TEST(TlsDecoder, TheEmptyModelHasNoStrings) {
  EncodedModel m = encode_tls(TlsInput{});
  EXPECT_EQ(m.strings, "");
  EXPECT_EQ(m.ints, (std::vector<uint32_t>{2, 0, kNone, 0, 0, 0, 0}));
  TlsInput out = sample_tls_input();
  ASSERT_FALSE(decode_exact(m.strings, m.ints, m.ints.size(), out));
  EXPECT_TRUE(out == TlsInput{});
}

TEST(TlsDecoder, EveryTruncationIsRefusedAndLeavesTheOutputAlone) {
  EncodedModel m = encode_tls(sample_tls_input());
  const TlsInput sentinel = small_input();
  for (size_t n = 0; n < m.ints.size(); ++n) {
    TlsInput out = sentinel;
    Error e = decode_exact(m.strings, m.ints, n, out);
    ASSERT_TRUE(e) << "a truncation at " << n << " ints was accepted";
    EXPECT_EQ(e.message.rfind("the encoded TLS model is malformed at int ", 0), 0u) << n << ": " << e.message;
    EXPECT_TRUE(out == sentinel) << n;
  }
  TlsInput out;
  EXPECT_EQ(decode_exact(m.strings, m.ints, 0, out).message,
            "the encoded TLS model is malformed at int 0: the encoding ends early");
  EXPECT_EQ(decode_exact(m.strings, m.ints, 3, out).message,
            "the encoded TLS model is malformed at int 3: the encoding ends early");
  EXPECT_EQ(decode_exact(m.strings, m.ints, 10, out).message,
            "the encoded TLS model is malformed at int 3: count 3 is more than the 6 ints left can hold");
}

TEST(TlsDecoder, RefusesAnotherVersion) {
  EncodedModel m = encode_tls(small_input());
  m.ints[0] = 1;
  EXPECT_EQ(decode_error(m), "the encoded TLS model has version 1; this addon reads version 2");
}

TEST(TlsDecoder, RefusesAStringCountThatDoesNotMatchTheStrings) {
  EncodedModel m = encode_tls(small_input());
  m.ints[1] = 7;
  EXPECT_EQ(decode_error(m), "the encoded TLS model is malformed at int 1: it says 7 strings, the strings hold 6");
  m = encode_tls(TlsInput{});
  m.strings = "stray";
  EXPECT_EQ(decode_error(m), "the encoded TLS model is malformed at int 1: it says 0 strings, the strings hold 1");
}

TEST(TlsDecoder, RefusesOutOfRangeStringIndexes) {
  const EncodedModel good = encode_tls(small_input());
  EncodedModel m = good;
  m.ints[5] = 6;  // certificates[0].chain
  EXPECT_EQ(decode_error(m), "the encoded TLS model is malformed at int 5: string index 6 is out of range (6 strings)");
  m = good;
  m.ints[6] = kNone;  // certificates[0].key: required
  EXPECT_EQ(decode_error(m),
            "the encoded TLS model is malformed at int 6: string index 4294967295 is out of range (6 strings)");
  m = good;
  m.ints[11] = 9;  // policies[0].ca: kNone is allowed, 9 is not
  EXPECT_EQ(decode_error(m), "the encoded TLS model is malformed at int 11: string index 9 is out of range (6 strings)");
  m = good;
  m.ints[17] = 6;  // hosts[1].name
  EXPECT_EQ(decode_error(m), "the encoded TLS model is malformed at int 17: string index 6 is out of range (6 strings)");
}

TEST(TlsDecoder, AnAbsentCaDecodesAsEmpty) {
  EncodedModel m = encode_tls(small_input());
  m.ints[11] = kNone;
  TlsInput out;
  ASSERT_FALSE(decode_exact(m.strings, m.ints, m.ints.size(), out));
  EXPECT_EQ(out.policies[0].ca_pem, "");
  // verify on without a CA is the writer's to refuse, naming the field.
  std::vector<uint8_t> bytes;
  EXPECT_EQ(build_tls_table(out, 1, 0, bytes).message, "policies[0].caPem: verifyClient 2 needs a CA");
}

TEST(TlsDecoder, RefusesHugeCountsBeforeAllocatingForThem) {
  const EncodedModel good = encode_tls(small_input());
  EncodedModel m = good;
  m.ints[3] = 0xFFFFFFFFu;  // certificates
  EXPECT_EQ(decode_error(m),
            "the encoded TLS model is malformed at int 3: count 4294967295 is more than the 17 ints left can hold");
  m = good;
  m.ints[8] = 4;  // policies: 12 ints left cannot hold 4 of 4 each
  EXPECT_EQ(decode_error(m), "the encoded TLS model is malformed at int 8: count 4 is more than the 12 ints left can hold");
  m = good;
  m.ints[13] = 3;  // hosts: 7 ints left cannot hold 3 of 3 each
  EXPECT_EQ(decode_error(m), "the encoded TLS model is malformed at int 13: count 3 is more than the 7 ints left can hold");
}

TEST(TlsDecoder, RefusesIntsAfterTheLastGatewayListener) {
  EncodedModel m = encode_tls(sample_tls_input());
  size_t n = m.ints.size();
  m.ints.push_back(0);
  const std::string at = "the encoded TLS model is malformed at int " + std::to_string(n) + ": ";
  EXPECT_EQ(decode_error(m), at + "1 int follows the last gateway listener");
  m.ints.push_back(0);
  EXPECT_EQ(decode_error(m), at + "2 ints follow the last gateway listener");
}

// small_input() and one Gateway listener of each address family.
TlsInput with_listeners() {
  TlsInput in = small_input();
  InputTlsListener v4;
  v4.gateway = "gw/one";
  v4.listener = "https";
  v4.family = 4;
  v4.bytes = {127, 0, 1, 2};
  v4.port = 18443;
  v4.hostname = "*.w.com";
  v4.certificate = 0;
  in.listeners.push_back(v4);
  InputTlsListener v6 = v4;
  v6.listener = "any";
  v6.family = 6;
  v6.bytes = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  v6.hostname = "";
  v6.policy = 0;
  in.listeners.push_back(v6);
  return in;
}

TEST(TlsDecoder, GatewayListenersHaveTheLayoutOfEncodeTlsTs) {
  EncodedModel m = encode_tls(with_listeners());
  const size_t hosts_end = encode_tls(small_input()).ints.size() - 1;
  std::vector<uint32_t> tail(m.ints.begin() + std::ptrdiff_t(hosts_end), m.ints.end());
  std::vector<uint32_t> want = {
      2,                                          // 2 listeners:
      6, 7, 4, 0x7f000102, 18443, 8, 0, kNone,    //   gw/one https 127.0.1.2:18443 *.w.com, certificate 0
      9, 10, 6, 0xfd000000, 0, 0, 1, 18443, kNone, 0, 0,  //   gw/one any [fd00::1]:18443, any SNI, policy 0
  };
  EXPECT_EQ(tail, want);
  TlsInput out;
  ASSERT_FALSE(decode_exact(m.strings, m.ints, m.ints.size(), out));
  EXPECT_TRUE(out == with_listeners());
}

TEST(TlsDecoder, EveryAddressOfAPortIsFamilyZeroWithNoAddressWords) {
  TlsInput in = small_input();
  InputTlsListener any;
  any.gateway = "gw/pod";
  any.listener = "https";
  any.address = "*";
  any.port = 443;
  any.certificate = 0;
  in.listeners.push_back(any);
  EncodedModel m = encode_tls(in);
  const size_t first = encode_tls(small_input()).ints.size();
  EXPECT_EQ(std::vector<uint32_t>(m.ints.begin() + std::ptrdiff_t(first), m.ints.end()),
            (std::vector<uint32_t>{6, 7, 0, 443, kNone, 0, kNone}));
  TlsInput out;
  ASSERT_FALSE(decode_exact(m.strings, m.ints, m.ints.size(), out));
  EXPECT_TRUE(out == in);
  std::vector<uint8_t> bytes;
  EXPECT_FALSE(build_tls_table(out, 1, 0, bytes));
}

TEST(TlsDecoder, RefusesABadListenerFamilyOrPort) {
  const EncodedModel good = encode_tls(with_listeners());
  const size_t first = encode_tls(small_input()).ints.size();  // listeners[0]'s first int
  EncodedModel m = good;
  m.ints[first + 2] = 5;
  EXPECT_EQ(decode_error(m), "the encoded TLS model is malformed at int " + std::to_string(first + 2) +
                                 ": address family 5 is not 4, 6 or 0 (any)");
  m = good;
  m.ints[first + 4] = 70000;
  EXPECT_EQ(decode_error(m), "the encoded TLS model is malformed at int " + std::to_string(first + 4) +
                                 ": port 70000 is not 1 to 65535");
  m = good;
  m.ints[first + 4] = 0;
  EXPECT_EQ(decode_error(m), "the encoded TLS model is malformed at int " + std::to_string(first + 4) +
                                 ": port 0 is not 1 to 65535");
}

TEST(TlsDecoder, LeavesValuesToTheWriter) {
  EncodedModel m = encode_tls(small_input());
  m.ints[9] = 11;  // policies[0].min_version
  TlsInput out;
  ASSERT_FALSE(decode_exact(m.strings, m.ints, m.ints.size(), out));
  EXPECT_EQ(out.policies[0].min_version, 11u);
  std::vector<uint8_t> bytes;
  EXPECT_EQ(build_tls_table(out, 1, 0, bytes).message, "policies[0].minVersion: 11 is not 0 (none), 12 or 13");
}

}  // namespace
}  // namespace atsi
