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
      3, 5, kNone,                                           // version, strings, no default backend
      1, 0, 1, kNone, 0, kNone, kNone, kNone, kNone, kNone,  // 1 backend: names, no problem, http, no options
      kNone, kNone, kNone, kNone, kNone, kNone,              // no cache options, no stats slot
      1, 4, 0x0a000001u, 8080, 1,                            // 1 endpoint: IPv4 10.0.0.1, port, weight
      1, 2, kNone, kNone,                                    // 1 host: name, no default backend or source
      1, 3, 1, 0, 4,                                         // 1 rule: path, Prefix, backend, source
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
  EXPECT_EQ(m.ints, (std::vector<uint32_t>{3, 0, kNone, 0, 0}));
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
  m.ints[0] = 2;  // the layout with addresses as strings: refused, never misread
  EXPECT_EQ(decode_error(m), "the encoded model has version 2; this addon reads version 3");
  m.ints[0] = 4;
  EXPECT_EQ(decode_error(m), "the encoded model has version 4; this addon reads version 3");
  m.ints[0] = 0;
  EXPECT_EQ(decode_error(m), "the encoded model has version 0; this addon reads version 3");
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
  m.ints[32] = 100;  // hosts[0].rules[0].source, the last int
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
            "the encoded model is malformed at int 3: count 4294967295 is more than the 29 ints left can hold");
  m.ints[3] = 2;  // 29 ints cannot hold 2 backends of at least 16 ints each
  EXPECT_EQ(decode_error(m), "the encoded model is malformed at int 3: count 2 is more than the 29 ints left can hold");
  m = good;
  m.ints[19] = 0x40000000u;  // backends[0].endpoints
  EXPECT_EQ(decode_error(m),
            "the encoded model is malformed at int 19: count 1073741824 is more than the 13 ints left can hold");
  m = good;
  m.ints[24] = 0xFFFFFFFFu;  // hosts
  EXPECT_EQ(decode_error(m),
            "the encoded model is malformed at int 24: count 4294967295 is more than the 8 ints left can hold");
  m = good;
  m.ints[28] = 0x7FFFFFFFu;  // hosts[0].rules
  EXPECT_EQ(decode_error(m),
            "the encoded model is malformed at int 28: count 2147483647 is more than the 4 ints left can hold");
}

TEST(ModelDecoder, RefusesIntsAfterTheLastHost) {
  EncodedModel m = encode_model(rich_model());
  size_t n = m.ints.size();
  m.ints.push_back(0);
  const std::string at = "the encoded model is malformed at int " + std::to_string(n) + ": ";
  EXPECT_EQ(decode_error(m), at + "1 int follows the last host");
  m.ints.push_back(0);
  EXPECT_EQ(decode_error(m), at + "2 ints follow the last host");
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
