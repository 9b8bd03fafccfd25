// The decoder of the addon's flat model encoding: what encode-model.ts
// writes comes back as the same TableInput; anything else is refused with
// the position, without reading out of bounds or allocating for a count the
// input cannot hold.
#include "model_decoder.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "model_encoder.h"
#include "table_writer.h"
#include "test_tables.h"

namespace atsi {
namespace {

using testing::EncodedModel;
using testing::encode_model;
using testing::TableBuilder;

// Every field of the layout, each kind of host and rule, IPv4 and IPv6.
TableInput rich_model() {
  TableBuilder t;
  uint32_t a = t.backend("ns/a", {"10.0.0.1:8080", "[2001:db8::7]:8443*3"}, "http");
  uint32_t s = t.backend("ns/secure", {"10.0.0.2:443"}, "443");
  uint32_t gone = t.backend("ns/gone", {});
  TableInput& in = t.input();
  in.backends[s].scheme = kSchemeHttps;
  in.backends[s].options.connect_timeout_ms = 1500;
  in.backends[s].options.response_timeout_ms = 30000;
  in.backends[s].options.redirect_to_https = true;
  in.backends[s].options.cache_policy = 1;
  in.backends[s].options.upstream_host = "internal.svc";
  in.backends[s].options.stats_slot = 65535;
  in.backends[a].options.redirect_to_https = false;
  in.backends[a].options.cache_policy = 0;
  in.backends[a].options.cache_default_ttl_s = 60;
  in.backends[a].options.cache_max_ttl_s = kMaxCacheSeconds;
  in.backends[a].options.cache_ignore_query = true;
  in.backends[a].options.cache_serve_stale_s = 1;
  in.backends[a].options.cache_generation = 0;
  in.backends[a].options.stats_slot = 0;
  in.backends[gone].options.cache_ignore_query = false;
  in.backends[gone].options.cache_generation = kMaxCacheGeneration;
  in.backends[gone].problem = "service ns/gone does not exist";
  t.host("a.com").exact("/x", a).prefix("/", s).rule("/impl", kPathImplementationSpecific, gone, "ns/other");
  t.host("*.b.com").prefix("/y", a).host_default(s, "ns/b-ing");
  t.host("").prefix("/p", a);
  t.table_default(gone);
  return in;
}

std::string joined(std::initializer_list<const char*> parts) {
  std::string s;
  bool first = true;
  for (const char* p : parts) {
    if (!first) s.push_back('\0');
    s += p;
    first = false;
  }
  return s;
}

// Decodes from copies in buffers of exactly the given sizes, so that
// AddressSanitizer catches any read past either end.
Error decode_exact(const std::string& strings, const std::vector<uint32_t>& ints, size_t n, TableInput& out) {
  std::unique_ptr<char[]> s(new char[strings.size()]);
  std::copy(strings.begin(), strings.end(), s.get());
  std::unique_ptr<uint32_t[]> i(new uint32_t[n]);
  std::copy(ints.begin(), ints.begin() + std::ptrdiff_t(n), i.get());
  return decode_model(std::string_view(s.get(), strings.size()), i.get(), n, out);
}

std::string decode_error(const EncodedModel& m) {
  TableInput out;
  Error e = decode_exact(m.strings, m.ints, m.ints.size(), out);
  if (!e) return "ok";
  EXPECT_EQ(e.code, ErrorCode::kInvalidModel);
  return e.message;
}

TEST(ModelDecoder, TheEncoderWritesTheLayoutOfEncodeModelTs) {
  // One backend with one endpoint, one host with one Prefix rule: the ints
  // and strings encode-model.ts gives for the same model.
  TableBuilder t;
  uint32_t b = t.backend("ns/a", {"10.0.0.1:8080"});
  t.host("a.com").prefix("/", b);
  EncodedModel m = encode_model(t.input());
  EXPECT_EQ(m.strings, joined({"ns/a", "80", "a.com", "/", "ns/ing"}));
  std::vector<uint32_t> want = {
      4, 5, kNone,                                           // version, strings, no default backend
      1, 0, 1, kNone, 0, kNone, kNone, kNone, kNone, kNone,  // 1 backend: names, no problem, http, no options
      kNone, kNone, kNone, kNone, kNone, kNone,              // no cache options, no stats slot
      1, 4, 0x0a000001u, 8080, 1,                            // 1 endpoint: IPv4 10.0.0.1, port, weight
      1, 2, kNone, kNone,                                    // 1 host: name, no default backend or source
      1, 3, 1, 0, 4,                                         // 1 rule: path, Prefix, backend, source
      0, 0,                                                  // no Gateway listeners, no Gateway rules
  };
  EXPECT_EQ(m.ints, want);
  // The six options of version 2, in the order encode-model.ts writes them.
  TableInput& in = t.input();
  in.backends[b].options.cache_default_ttl_s = 11;
  in.backends[b].options.cache_max_ttl_s = 12;
  in.backends[b].options.cache_ignore_query = true;
  in.backends[b].options.cache_serve_stale_s = 14;
  in.backends[b].options.cache_generation = 0;
  in.backends[b].options.stats_slot = 16;
  m = encode_model(in);
  for (size_t i : {13, 14, 15, 16, 17, 18}) want[i] = uint32_t(i - 2);
  want[15] = 1;
  want[17] = 0;
  EXPECT_EQ(m.ints, want);
  // An IPv6 address: family 6 and four words.
  in.backends[b].endpoints[0] = InputEndpoint{"2001:db8::7", 8443, 3};
  m = encode_model(in);
  std::vector<uint32_t> v6 = {6, 0x20010db8u, 0, 0, 7, 8443, 3};
  EXPECT_EQ(std::vector<uint32_t>(m.ints.begin() + 20, m.ints.begin() + 27), v6);
}

// The model of TheEncoderWritesTheLayoutOfEncodeModelTs with one listener,
// entry and rule (encode-model.test.ts encodes the same one).
TableInput small_gateway_model() {
  TableBuilder t;
  uint32_t b = t.backend("ns/a", {"10.0.0.1:8080"});
  t.host("a.com").prefix("/", b);
  TableInput in = t.input();
  InputGatewayListener l;
  l.gateway = "ns/gw";
  l.listener = "http";
  l.family = 4;
  l.bytes = {10, 0, 0, 9};
  l.port = 8080;
  l.listener_port = 80;
  l.hostname = "*.example.com";
  InputGatewayEntry e;
  e.hostname = "a.example.com";
  e.path = "/";
  e.method = "GET";
  e.headers = {{"x-env", "prod"}};
  l.entries = {e};
  in.gateway_listeners = {l};
  InputGatewayRule r;
  r.route = "ns/r";
  InputFilter redirect;
  redirect.kind = FilterKind::kRequestRedirect;
  redirect.scheme = "https";
  redirect.path_kind = PathModifierKind::kReplacePrefixMatch;
  redirect.path = "/new";
  redirect.status_code = 301;
  r.filters = {redirect};
  r.choices = {{b, 1, {}, ""}};
  in.gateway_rules = {r};
  return in;
}

TEST(ModelDecoder, TheGatewayPartHasTheLayoutOfEncodeModelTs) {
  EncodedModel m = encode_model(small_gateway_model());
  EXPECT_EQ(m.strings, joined({"ns/a", "80", "a.com", "/", "ns/ing", "ns/gw", "http", "*.example.com", "a.example.com",
                               "/", "GET", "x-env", "prod", "ns/r", "/new"}));
  std::vector<uint32_t> want = {
      1,                                          // 1 listener
      5, 6, 4, 0x0a000009u, 8080, 80, 0, 7,       // gateway, name, 10.0.0.9, port, listener port, HTTP, hostname
      1, 8, 1, 9, 10, 1, 11, 12, 0, 0,            // 1 entry: hostname, PathPrefix, path, GET, 1 header, no query, rule 0
      1,                                          // 1 rule
      13, 0, kNone,                               // route, rule index, no failure
      1, 3, 1, kNone, kNone, 2, 14, 301,          // 1 filter: a redirect to https, ReplacePrefixMatch /new, 301
      1, 0, 1, kNone, 0,                          // 1 choice: backend 0, weight 1, no problem, no filters
  };
  ASSERT_EQ(m.ints.size(), 33 + want.size());
  EXPECT_EQ(m.ints[1], 15u);
  EXPECT_EQ(std::vector<uint32_t>(m.ints.begin() + 33, m.ints.end()), want);
}

TEST(ModelDecoder, TheGatewaySampleRoundTripsIntoTheSameInput) {
  for (const TableInput& in : {small_gateway_model(), testing::gateway_sample()}) {
    EncodedModel m = encode_model(in);
    TableInput out;
    Error e = decode_exact(m.strings, m.ints, m.ints.size(), out);
    ASSERT_FALSE(e) << e.message;
    EXPECT_TRUE(out == in);
    // And it makes a table.
    std::vector<uint8_t> bytes;
    e = build_table(out, 1, 0, bytes);
    EXPECT_FALSE(e) << e.message;
  }
}

TEST(ModelDecoder, AListenerOnEveryAddressIsFamily0WithNoAddressWords) {
  TableInput in = small_gateway_model();
  in.gateway_listeners[0].family = 0;
  in.gateway_listeners[0].address = "*";
  in.gateway_listeners[0].bytes = {};
  EncodedModel m = encode_model(in);
  // gateway, name, then family 0 and straight on to the port.
  EXPECT_EQ(std::vector<uint32_t>(m.ints.begin() + 34, m.ints.begin() + 40), (std::vector<uint32_t>{5, 6, 0, 8080, 80, 0}));
  TableInput out;
  Error e = decode_exact(m.strings, m.ints, m.ints.size(), out);
  ASSERT_FALSE(e) << e.message;
  EXPECT_TRUE(out == in);
  EXPECT_EQ(out.gateway_listeners[0].address, "*");
  std::vector<uint8_t> bytes;
  e = build_table(out, 1, 0, bytes);
  EXPECT_FALSE(e) << e.message;
  // The fewest ints a listener takes: three of them with no entries, at the end.
  TableInput three;
  for (uint16_t port : {20000, 20002, 20004}) {
    InputGatewayListener l;
    l.gateway = "ns/gw";
    l.listener = "http";
    l.address = "*";
    l.port = port;
    l.listener_port = 80;
    three.gateway_listeners.push_back(l);
  }
  EncodedModel m3 = encode_model(three);
  TableInput out3;
  e = decode_exact(m3.strings, m3.ints, m3.ints.size(), out3);
  ASSERT_FALSE(e) << e.message;
  EXPECT_TRUE(out3 == three);
}

TEST(ModelDecoder, EveryTruncationOfTheGatewayPartIsRefused) {
  const TableInput in = testing::gateway_sample();
  EncodedModel m = encode_model(in);
  for (size_t n = 0; n < m.ints.size(); ++n) {
    TableInput out = in;
    out.gateway_rules.pop_back();
    const TableInput before = out;
    Error e = decode_exact(m.strings, m.ints, n, out);
    ASSERT_TRUE(e) << "a truncation at " << n << " ints was accepted";
    EXPECT_EQ(e.message.rfind("the encoded model is malformed at int ", 0), 0u) << n << ": " << e.message;
    EXPECT_TRUE(out == before) << n;
  }
}

TEST(ModelDecoder, RefusesWhatTheGatewayPartCannotHold) {
  const EncodedModel good = encode_model(small_gateway_model());
  ASSERT_EQ(decode_error(good), "ok");
  struct Case {
    size_t at;
    uint32_t value;
    const char* want;
  } cases[] = {
      {36, 5, "at int 36: address family 5 is not 4 or 6"},
      // Family 0 (every address) has no address words: 10.0.0.9 is read as the port.
      {36, 0, "at int 37: port 167772169 is more than 65535"},
      {38, 65536, "at int 38: port 65536 is more than 65535"},
      {39, 0xFFFFFFFFu, "at int 39: listener port 4294967295 is more than 65535"},
      {57, 0, "at int 57: filter kind 0 is not 1 to 4"},
      {57, 5, "at int 57: filter kind 5 is not 1 to 4"},
      {60, 65536, "at int 60: port 65536 is more than 65535"},
      {61, 3, "at int 61: path modifier kind 3 is not 0, 1 or 2"},
      {63, 70000, "at int 63: status code 70000 is more than 65535"},
      {41, 15, "at int 41: string index 15 is out of range (15 strings)"},
      {62, kNone - 1, "at int 62: string index 4294967294 is out of range (15 strings)"},
      // Counts the ints left cannot hold.
      {33, 5, "at int 33: count 5 is more than the 35 ints left can hold"},  // 8 ints the fewest (on every address)
      {42, 4, "at int 42: count 4 is more than the 26 ints left can hold"},
      {47, 11, "at int 47: count 11 is more than the 21 ints left can hold"},
      {50, 10, "at int 50: count 10 is more than the 18 ints left can hold"},
      {52, 4, "at int 52: count 4 is more than the 16 ints left can hold"},
      {56, 4, "at int 56: count 4 is more than the 12 ints left can hold"},
      {64, 2, "at int 64: count 2 is more than the 4 ints left can hold"},
      {68, 1, "at int 68: count 1 is more than the 0 ints left can hold"},
  };
  for (const Case& c : cases) {
    EncodedModel m = good;
    m.ints[c.at] = c.value;
    EXPECT_EQ(decode_error(m), std::string("the encoded model is malformed ") + c.want) << c.at;
  }
  // An IPv6 listener takes three more words.
  TableInput in = small_gateway_model();
  in.gateway_listeners[0].family = 6;
  in.gateway_listeners[0].bytes = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  EncodedModel m = encode_model(in);
  EXPECT_EQ(std::vector<uint32_t>(m.ints.begin() + 36, m.ints.begin() + 41),
            (std::vector<uint32_t>{6, 0xfd000000u, 0, 0, 1}));
  TableInput out;
  ASSERT_FALSE(decode_exact(m.strings, m.ints, m.ints.size(), out));
  EXPECT_TRUE(out == in);
}

TEST(ModelDecoder, HeaderModifiersAndRewritesReadOnlyTheirOwnFields) {
  TableInput in = testing::gateway_sample();
  EncodedModel m = encode_model(in);
  TableInput out;
  ASSERT_FALSE(decode_exact(m.strings, m.ints, m.ints.size(), out));
  const InputFilter& set = out.gateway_rules[0].filters[0];
  EXPECT_EQ(set.kind, FilterKind::kRequestHeaderModifier);
  EXPECT_EQ(set.add.size(), 2u);
  EXPECT_EQ(set.remove, std::vector<std::string>{"x-drop"});
  EXPECT_EQ(set.status_code, 0);
  const InputFilter& rewrite = out.gateway_rules[0].choices[0].filters[0];
  EXPECT_EQ(rewrite.kind, FilterKind::kURLRewrite);
  EXPECT_EQ(rewrite.hostname, "internal.example.com");
  EXPECT_EQ(rewrite.path_kind, PathModifierKind::kReplaceFullPath);
  const InputFilter& bare = out.gateway_rules[1].filters[1];
  EXPECT_EQ(bare.scheme, "");
  EXPECT_EQ(bare.hostname, "");
  EXPECT_EQ(bare.port, 0);
  EXPECT_EQ(bare.path_kind, PathModifierKind::kNone);
  EXPECT_EQ(out.gateway_rules[0].choices[1].backend, kNone);
  EXPECT_EQ(out.gateway_listeners[1].https, true);
}

TEST(ModelDecoder, RefusesAnAddressFamilyThatIsNot4Or6) {
  TableBuilder t;
  uint32_t b = t.backend("ns/a", {"10.0.0.1:8080"});
  t.host("a.com").prefix("/", b);
  EncodedModel m = encode_model(t.input());
  m.ints[20] = 5;
  EXPECT_EQ(decode_error(m), "the encoded model is malformed at int 20: address family 5 is not 4 or 6");
  m.ints[20] = 0;
  EXPECT_EQ(decode_error(m), "the encoded model is malformed at int 20: address family 0 is not 4 or 6");
}

TEST(ModelDecoder, AValidEncodingRoundTripsIntoTheSameInput) {
  TableInput in = rich_model();
  EncodedModel m = encode_model(in);
  TableInput out;
  Error e = decode_exact(m.strings, m.ints, m.ints.size(), out);
  ASSERT_FALSE(e) << e.message;
  EXPECT_TRUE(out == in);
  // And it makes a table.
  std::vector<uint8_t> bytes;
  e = build_table(out, 1, 0, bytes);
  EXPECT_FALSE(e) << e.message;
}

TEST(ModelDecoder, TheEmptyModelHasNoStrings) {
  EncodedModel m = encode_model(TableInput{});
  EXPECT_EQ(m.strings, "");
  EXPECT_EQ(m.ints, (std::vector<uint32_t>{4, 0, kNone, 0, 0, 0, 0}));
  TableInput out = rich_model();
  ASSERT_FALSE(decode_exact(m.strings, m.ints, m.ints.size(), out));
  EXPECT_TRUE(out == TableInput{});
}

TEST(ModelDecoder, OneEmptyStringIsNotNoStrings) {
  TableBuilder t;
  t.host("");
  EncodedModel m = encode_model(t.input());
  EXPECT_EQ(m.strings, "");
  EXPECT_EQ(m.ints[1], 1u);
  TableInput out;
  ASSERT_FALSE(decode_exact(m.strings, m.ints, m.ints.size(), out));
  EXPECT_TRUE(out == t.input());
}

TEST(ModelDecoder, EveryTruncationIsRefusedAndLeavesTheOutputAlone) {
  EncodedModel m = encode_model(rich_model());
  const TableInput sentinel = [] {
    TableBuilder t;
    t.host("sentinel.example");
    return t.input();
  }();
  for (size_t n = 0; n < m.ints.size(); ++n) {
    TableInput out = sentinel;
    Error e = decode_exact(m.strings, m.ints, n, out);
    ASSERT_TRUE(e) << "a truncation at " << n << " ints was accepted";
    EXPECT_EQ(e.code, ErrorCode::kInvalidModel) << n;
    EXPECT_EQ(e.message.rfind("the encoded model is malformed at int ", 0), 0u) << n << ": " << e.message;
    EXPECT_TRUE(out == sentinel) << n;
  }
  TableInput out;
  EXPECT_EQ(decode_exact(m.strings, m.ints, 0, out).message,
            "the encoded model is malformed at int 0: the encoding ends early");
  EXPECT_EQ(decode_exact(m.strings, m.ints, 1, out).message,
            "the encoded model is malformed at int 1: the encoding ends early");
  EXPECT_EQ(decode_exact(m.strings, m.ints, 2, out).message,
            "the encoded model is malformed at int 2: the encoding ends early");
  EXPECT_EQ(decode_exact(m.strings, m.ints, 6, out).message,
            "the encoded model is malformed at int 3: count 3 is more than the 2 ints left can hold");
}

TEST(ModelDecoder, RefusesAnotherVersion) {
  EncodedModel m = encode_model(rich_model());
  m.ints[0] = 3;  // the layout without the Gateway API: refused, never misread
  EXPECT_EQ(decode_error(m), "the encoded model has version 3; this addon reads version 4");
  m.ints[0] = 5;
  EXPECT_EQ(decode_error(m), "the encoded model has version 5; this addon reads version 4");
  m.ints[0] = 0;
  EXPECT_EQ(decode_error(m), "the encoded model has version 0; this addon reads version 4");
}

TEST(ModelDecoder, RefusesAStringCountThatDoesNotMatchTheStrings) {
  TableBuilder t;
  uint32_t b = t.backend("ns/a", {"10.0.0.1:8080"});
  t.host("a.com").prefix("/", b);
  const EncodedModel good = encode_model(t.input());
  EncodedModel m = good;
  m.ints[1] = 7;
  EXPECT_EQ(decode_error(m), "the encoded model is malformed at int 1: it says 7 strings, the strings hold 5");
  m.ints[1] = 4;
  EXPECT_EQ(decode_error(m), "the encoded model is malformed at int 1: it says 4 strings, the strings hold 5");
  m = good;
  m.strings.push_back('\0');
  EXPECT_EQ(decode_error(m), "the encoded model is malformed at int 1: it says 5 strings, the strings hold 6");
  m = encode_model(TableInput{});
  m.strings = "stray";
  EXPECT_EQ(decode_error(m), "the encoded model is malformed at int 1: it says 0 strings, the strings hold 1");
}

TEST(ModelDecoder, RefusesOutOfRangeStringIndexes) {
  TableBuilder t;
  uint32_t b = t.backend("ns/a", {"10.0.0.1:8080"});
  t.host("a.com").prefix("/", b);
  const EncodedModel good = encode_model(t.input());
  EncodedModel m = good;
  m.ints[4] = 5;  // backends[0].service
  EXPECT_EQ(decode_error(m),
            "the encoded model is malformed at int 4: string index 5 is out of range (5 strings)");
  m = good;
  m.ints[6] = 0xFFFFFFFEu;  // backends[0].problem: kNone is allowed, kNone - 1 is not
  EXPECT_EQ(decode_error(m),
            "the encoded model is malformed at int 6: string index 4294967294 is out of range (5 strings)");
  m = good;
  m.ints[32] = 100;  // hosts[0].rules[0].source, the last string
  EXPECT_EQ(decode_error(m),
            "the encoded model is malformed at int 32: string index 100 is out of range (5 strings)");
  m = good;
  m.ints[4] = kNone;  // a required string cannot be absent
  EXPECT_EQ(decode_error(m),
            "the encoded model is malformed at int 4: string index 4294967295 is out of range (5 strings)");
}

TEST(ModelDecoder, RefusesHugeCountsBeforeAllocatingForThem) {
  TableBuilder t;
  uint32_t b = t.backend("ns/a", {"10.0.0.1:8080"});
  t.host("a.com").prefix("/", b);
  const EncodedModel good = encode_model(t.input());
  EncodedModel m = good;
  m.ints[3] = 0xFFFFFFFFu;  // backends
  EXPECT_EQ(decode_error(m),
            "the encoded model is malformed at int 3: count 4294967295 is more than the 31 ints left can hold");
  m.ints[3] = 2;  // 31 ints cannot hold 2 backends of at least 16 ints each
  EXPECT_EQ(decode_error(m), "the encoded model is malformed at int 3: count 2 is more than the 31 ints left can hold");
  m = good;
  m.ints[19] = 0x40000000u;  // backends[0].endpoints
  EXPECT_EQ(decode_error(m),
            "the encoded model is malformed at int 19: count 1073741824 is more than the 15 ints left can hold");
  m = good;
  m.ints[24] = 0xFFFFFFFFu;  // hosts
  EXPECT_EQ(decode_error(m),
            "the encoded model is malformed at int 24: count 4294967295 is more than the 10 ints left can hold");
  m = good;
  m.ints[28] = 0x7FFFFFFFu;  // hosts[0].rules
  EXPECT_EQ(decode_error(m),
            "the encoded model is malformed at int 28: count 2147483647 is more than the 6 ints left can hold");
}

TEST(ModelDecoder, RefusesIntsAfterTheLastGatewayRule) {
  EncodedModel m = encode_model(rich_model());
  size_t n = m.ints.size();
  m.ints.push_back(0);
  const std::string at = "the encoded model is malformed at int " + std::to_string(n) + ": ";
  EXPECT_EQ(decode_error(m), at + "1 int follows the last gateway rule");
  m.ints.push_back(0);
  EXPECT_EQ(decode_error(m), at + "2 ints follow the last gateway rule");
  m = encode_model(testing::gateway_sample());
  n = m.ints.size();
  m.ints.push_back(0);
  EXPECT_EQ(decode_error(m), "the encoded model is malformed at int " + std::to_string(n) +
                                 ": 1 int follows the last gateway rule");
}

TEST(ModelDecoder, LeavesValuesToTheWriter) {
  // The decoder checks the shape only; build_table names a bad value.
  TableBuilder t;
  uint32_t b = t.backend("ns/a", {"10.0.0.1:8080"});
  t.host("a.com").prefix("/", b);
  EncodedModel m = encode_model(t.input());
  m.ints[22] = 70000;  // backends[0].endpoints[0].port
  TableInput out;
  ASSERT_FALSE(decode_exact(m.strings, m.ints, m.ints.size(), out));
  EXPECT_EQ(out.backends[0].endpoints[0].port, 0);
  std::vector<uint8_t> bytes;
  EXPECT_EQ(build_table(out, 1, 0, bytes).message, "backends[0].endpoints[0].port: must be 1 to 65535");
}

TEST(ModelDecoder, LeavesCacheOptionValuesToTheWriterWhichNamesThem) {
  TableBuilder t;
  uint32_t b = t.backend("ns/a", {"10.0.0.1:8080"});
  t.host("a.com").prefix("/", b);
  const EncodedModel good = encode_model(t.input());
  struct Case {
    size_t at;
    uint32_t value;
    const char* want;
  } cases[] = {
      {13, 0, "backends[0].options.cacheDefaultTtlS: must be a whole number from 1 to 2147483647, got 0"},
      {13, 0x80000000u, "backends[0].options.cacheDefaultTtlS: must be a whole number from 1 to 2147483647, got 2147483648"},
      {14, 0, "backends[0].options.cacheMaxTtlS: must be a whole number from 1 to 2147483647, got 0"},
      {16, 0xFFFFFFFEu, "backends[0].options.cacheServeStaleS: must be a whole number from 1 to 2147483647, got 4294967294"},
      {17, 0x80000000u, "backends[0].options.cacheGeneration: must be a whole number from 0 to 2147483647, got 2147483648"},
      {18, 65536, "backends[0].options.statsSlot: must be a whole number from 0 to 65535, got 65536"},
  };
  for (const Case& c : cases) {
    EncodedModel m = good;
    m.ints[c.at] = c.value;
    TableInput out;
    ASSERT_FALSE(decode_exact(m.strings, m.ints, m.ints.size(), out)) << c.at;
    std::vector<uint8_t> bytes;
    EXPECT_EQ(build_table(out, 1, 0, bytes).message, c.want);
  }
  // Any value but 1 for a flag is false, as encode-model.ts only writes 0 or 1.
  EncodedModel m = good;
  m.ints[15] = 7;
  TableInput out;
  ASSERT_FALSE(decode_exact(m.strings, m.ints, m.ints.size(), out));
  EXPECT_EQ(out.backends[0].options.cache_ignore_query, std::optional<bool>(false));
}

TEST(ModelDecoder, FramingRoundTripsAndTakesAnyBytes) {
  EncodedModel m = encode_model(rich_model());
  EncodedModel back = testing::unframe(testing::frame(m));
  EXPECT_EQ(back.strings, m.strings);
  EXPECT_EQ(back.ints, m.ints);
  EXPECT_TRUE(testing::unframe("").ints.empty());
  EXPECT_EQ(testing::unframe(std::string("\xff\xff\xff\xff" "abc", 7)).strings, "abc");
}

}  // namespace
}  // namespace atsi
