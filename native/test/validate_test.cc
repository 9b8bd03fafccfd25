// The writer's refusals name the element; the reader refuses every table it
// cannot trust and says why.
#include <gtest/gtest.h>

#include <cstring>

#include "hash.h"
#include "table_writer.h"
#include "test_tables.h"

namespace atsi {
namespace {

using testing::build;
using testing::build_bytes;
using testing::TableBuilder;

std::string build_error(const TableInput& in) {
  std::vector<uint8_t> out;
  Error e = build_table(in, 1, 0, out);
  return e ? e.message : "";
}

TEST(Writer, RefusesBadModelsNamingTheField) {
  {
    TableBuilder t;
    uint32_t b = t.backend("ns/a", {"10.0.0.1:80"});
    t.host("a.com").prefix("nope", b);
    EXPECT_EQ(build_error(t.input()), "hosts[0].rules[0].path: \"nope\" does not begin with '/'");
  }
  {
    TableBuilder t;
    t.backend("ns/a", {"10.0.0.1:80"});
    t.host("a.com").prefix("/", 7);
    EXPECT_EQ(build_error(t.input()), "hosts[0].rules[0].backend: backend index 7 is out of range (1 backends)");
  }
  {
    TableBuilder t;
    uint32_t b = t.backend("ns/a", {"10.0.0.1:80"});
    t.host("a.com").prefix("/x", b).prefix("/x/", b);
    EXPECT_EQ(build_error(t.input()),
              "hosts[0].rules[1].path: \"/x/\" (Prefix) duplicates an earlier rule of the same host");
  }
  {
    TableBuilder t;
    t.host("A.com");
    EXPECT_EQ(build_error(t.input()), "hosts[0].name: \"A.com\" is not a lowercase host name");
  }
  {
    TableBuilder t;
    t.host("a.com").host("a.com");
    EXPECT_EQ(build_error(t.input()), "hosts[1].name: host \"a.com\" appears twice");
  }
  {
    // Out of order: the names before are hashed from there on.
    TableBuilder t;
    t.host("b.com").host("c.com").host("a.com").host("b.com");
    EXPECT_EQ(build_error(t.input()), "hosts[3].name: host \"b.com\" appears twice");
  }
  {
    TableBuilder t;
    t.host("c.com").host("a.com").host("b.com");
    EXPECT_EQ(build_error(t.input()), "");
  }
  {
    TableBuilder t;
    t.host("").host("");
    EXPECT_EQ(build_error(t.input()), "hosts[1].name: a second catch-all host");
  }
  {
    TableBuilder t;
    t.host("*.");
    EXPECT_EQ(build_error(t.input()), "hosts[0].name: \"*.\" is not a valid wildcard host");
  }
  {
    // A wildcard whose suffix fits in 253 bytes but the whole name does not:
    // readers refuse names over 253, so the writer must too, or one such host
    // would take every route down with the table.
    std::string suffix;
    for (int i = 0; i < 4; ++i) suffix += std::string(62, 'a' + i) + ".";
    suffix += "c";  // 253 bytes; 255 with "*."
    ASSERT_EQ(suffix.size(), 255u - 2);
    TableBuilder t;
    t.host("*." + suffix);
    EXPECT_EQ(build_error(t.input()), "hosts[0].name: \"*." + suffix + "\" is not a valid wildcard host");
  }
  {
    TableBuilder t;
    uint32_t b = t.backend("ns/a", {});
    t.input().backends[b].endpoints.push_back({"10.0.0.300", 80, 1});
    EXPECT_EQ(build_error(t.input()),
              "backends[0].endpoints[0].address: \"10.0.0.300\" is not an IPv4 or IPv6 address");
  }
  {
    TableBuilder t;
    uint32_t b = t.backend("ns/a", {});
    t.input().backends[b].endpoints.push_back({"10.0.0.1", 0, 1});
    EXPECT_EQ(build_error(t.input()), "backends[0].endpoints[0].port: must be 1 to 65535");
  }
  {
    TableBuilder t;
    t.table_default(3);
    EXPECT_EQ(build_error(t.input()), "defaultBackend: backend index 3 is out of range (0 backends)");
  }
}

TEST(Writer, SameInputSameBytes) {
  TableBuilder t;
  uint32_t b = t.backend("ns/a", {"10.0.0.1:80", "[2001:db8::1]:8080*3"});
  t.host("a.com").prefix("/", b).exact("/x", b);
  t.host("*.b.com").prefix("/y", b);
  EXPECT_EQ(build_bytes(t.input(), 5), build_bytes(t.input(), 5));
}

TEST(Writer, EmptyTableIsValid) {
  TableInput in;
  auto b = build(in);
  EXPECT_EQ(b.view.host_count(), 0u);
  EXPECT_EQ(lookup(b.view, "a.com", "/").outcome, Outcome::kNotFound);
}

TEST(Writer, EndpointsAndOptionsRoundTrip) {
  TableBuilder t;
  uint32_t b = t.backend("ns/a", {"10.0.0.1:80", "[2001:db8::1]:8443*3"}, "https");
  t.input().backends[b].scheme = kSchemeHttps;
  t.input().backends[b].options.connect_timeout_ms = 1500;
  t.input().backends[b].options.redirect_to_https = true;
  t.input().backends[b].options.upstream_host = "internal.svc";
  t.host("a.com").prefix("/", b);
  auto built = build(t.input());
  const auto& v = built.view;
  const BackendRecord& br = v.backend(0);
  EXPECT_EQ(v.str(br.port), "https");
  EXPECT_EQ(br.scheme, kSchemeHttps);
  EXPECT_EQ(br.total_weight, 4u);
  EXPECT_EQ(br.flags & kBackendUniformWeights, 0u);
  const EndpointRecord& e6 = v.endpoint(1);
  EXPECT_EQ(e6.family, 6);
  EXPECT_EQ(e6.port, 8443);
  EXPECT_EQ(e6.address[0], 0x20);
  EXPECT_EQ(e6.address[15], 0x01);
  BackendOptionsView o = v.options(br);
  EXPECT_EQ(o.connect_timeout_ms, 1500u);
  EXPECT_EQ(o.response_timeout_ms, 0u);
  EXPECT_TRUE(o.redirect_to_https);
  EXPECT_EQ(o.upstream_host, "internal.svc");
}

TEST(Writer, CacheOptionsRoundTripThroughTheView) {
  TableBuilder t;
  uint32_t all = t.backend("ns/all", {"10.0.0.1:80"});
  uint32_t none = t.backend("ns/none", {"10.0.0.2:80"});
  uint32_t zeros = t.backend("ns/zeros", {"10.0.0.3:80"});
  InputOptions& o = t.input().backends[all].options;
  o.cache_default_ttl_s = 60;
  o.cache_max_ttl_s = kMaxCacheSeconds;
  o.cache_ignore_query = true;
  o.cache_serve_stale_s = 30;
  o.cache_generation = 7;
  o.stats_slot = kMaxStatsSlot;
  o.upstream_host = "up.svc";  // an odd length: the records after it stay aligned
  InputOptions& z = t.input().backends[zeros].options;
  z.cache_ignore_query = false;
  z.cache_generation = 0;
  z.stats_slot = 0;
  z.redirect_to_https = false;
  t.host("a.com").prefix("/", all).prefix("/none", none).prefix("/zeros", zeros);
  auto built = build(t.input());
  const TableView& v = built.view;

  BackendOptionsView a = v.options(v.backend(all));
  EXPECT_EQ(a.cache_default_ttl_s, 60u);
  EXPECT_EQ(a.cache_max_ttl_s, kMaxCacheSeconds);
  EXPECT_TRUE(a.cache_ignore_query);
  EXPECT_EQ(a.cache_serve_stale_s, 30u);
  EXPECT_EQ(a.cache_generation, 7u);
  EXPECT_EQ(a.stats_slot, kMaxStatsSlot);
  EXPECT_EQ(a.upstream_host, "up.svc");
  EXPECT_TRUE(a.any_cache_option());
  for (OptionType ty : {kOptCacheDefaultTtlS, kOptCacheMaxTtlS, kOptCacheIgnoreQuery, kOptCacheServeStaleS,
                        kOptCacheGeneration, kOptStatsSlot, kOptUpstreamHost})
    EXPECT_TRUE(a.has(ty)) << ty;
  EXPECT_FALSE(a.has(kOptConnectTimeoutMs));

  BackendOptionsView n = v.options(v.backend(none));
  EXPECT_EQ(v.backend(none).options_size, 0u);
  EXPECT_EQ(n.cache_default_ttl_s, 0u);
  EXPECT_EQ(n.cache_generation, kNone);
  EXPECT_EQ(n.stats_slot, kNone);
  EXPECT_EQ(n.present, 0u);
  EXPECT_FALSE(n.any_cache_option());

  // Written as given, so that false and 0 are not absent.
  BackendOptionsView zv = v.options(v.backend(zeros));
  EXPECT_TRUE(zv.has(kOptCacheIgnoreQuery) && !zv.cache_ignore_query);
  EXPECT_TRUE(zv.has(kOptCacheGeneration));
  EXPECT_EQ(zv.cache_generation, 0u);
  EXPECT_EQ(zv.stats_slot, 0u);
  EXPECT_TRUE(zv.has(kOptRedirectToHttps));
  EXPECT_TRUE(zv.any_cache_option());  // generation 0 is a generation
}

TEST(Writer, RefusesCacheOptionsOutOfRangeNamingTheField) {
  auto refused = [](auto set) {
    TableBuilder t;
    uint32_t b = t.backend("ns/a", {"10.0.0.1:80"});
    t.backend("ns/b", {"10.0.0.2:80"});
    set(t.input().backends[1].options);
    t.host("a.com").prefix("/", b);
    std::vector<uint8_t> out;
    return build_table(t.input(), 1, 0, out).message;
  };
  EXPECT_EQ(refused([](InputOptions& o) { o.cache_default_ttl_s = 0; }),
            "backends[1].options.cacheDefaultTtlS: must be a whole number from 1 to 2147483647, got 0");
  EXPECT_EQ(refused([](InputOptions& o) { o.cache_max_ttl_s = 1u << 31; }),
            "backends[1].options.cacheMaxTtlS: must be a whole number from 1 to 2147483647, got 2147483648");
  EXPECT_EQ(refused([](InputOptions& o) { o.cache_serve_stale_s = 0; }),
            "backends[1].options.cacheServeStaleS: must be a whole number from 1 to 2147483647, got 0");
  EXPECT_EQ(refused([](InputOptions& o) { o.cache_generation = kNone; }),
            "backends[1].options.cacheGeneration: must be a whole number from 0 to 2147483647, got 4294967295");
  EXPECT_EQ(refused([](InputOptions& o) { o.stats_slot = 65536; }),
            "backends[1].options.statsSlot: must be a whole number from 0 to 65535, got 65536");
  EXPECT_EQ(refused([](InputOptions& o) { o.cache_generation = 0; }), "");
}

TEST(Writer, AReaderSkipsOptionTypesItDoesNotKnow) {
  // What a reader older than an option sees: a record of a type it has no
  // case for. It steps over it by its length and reads the rest; validation
  // never looks inside options. So new options need no format version.
  TableBuilder t;
  uint32_t b = t.backend("ns/a", {"10.0.0.1:80"});
  InputOptions& o = t.input().backends[b].options;
  o.upstream_host = "abcde";  // the first record, 5 bytes padded to 8
  o.cache_default_ttl_s = 60;
  o.stats_slot = 3;
  t.host("a.com").prefix("/", b);
  std::vector<uint8_t> bytes = build_bytes(t.input(), 1);
  Header h;
  std::memcpy(&h, bytes.data(), sizeof h);
  const size_t first = h.sections[kSectionOptions].offset;
  OptionHeader oh;
  std::memcpy(&oh, bytes.data() + first, sizeof oh);
  ASSERT_EQ(oh.type, kOptUpstreamHost);
  oh.type = 999;  // a type no reader knows
  std::memcpy(bytes.data() + first, &oh, sizeof oh);
  uint64_t sum = table_checksum(bytes.data(), bytes.size());
  std::memcpy(bytes.data() + offsetof(Header, checksum), &sum, 8);
  std::vector<uint64_t> aligned((bytes.size() + 7) / 8);
  std::memcpy(aligned.data(), bytes.data(), bytes.size());
  TableView v;
  ASSERT_FALSE(TableView::validate(reinterpret_cast<const uint8_t*>(aligned.data()), bytes.size(), v));
  BackendOptionsView ov = v.options(v.backend(0));
  EXPECT_EQ(ov.upstream_host, "");
  EXPECT_EQ(ov.cache_default_ttl_s, 60u);
  EXPECT_EQ(ov.stats_slot, 3u);
  EXPECT_FALSE(ov.has(kOptUpstreamHost));
}

class Reader : public ::testing::Test {
 protected:
  void SetUp() override {
    TableBuilder t;
    uint32_t b = t.backend("ns/a", {"10.0.0.1:80"});
    t.host("a.com").prefix("/", b).exact("/x", b);
    t.host("*.b.com").prefix("/y", b);
    bytes_ = build_bytes(t.input(), 9);
  }
  // Validates a copy in aligned storage.
  std::string check(const std::vector<uint8_t>& bytes, size_t size) {
    std::vector<uint64_t> aligned((size + 7) / 8 + 1);
    std::memcpy(aligned.data(), bytes.data(), std::min(size, bytes.size()));
    TableView v;
    Error e = TableView::validate(reinterpret_cast<const uint8_t*>(aligned.data()), size, v);
    return e ? e.message : "ok";
  }
  std::string check(const std::vector<uint8_t>& bytes) { return check(bytes, bytes.size()); }
  // Corrupts then re-seals the checksum, as a buggy writer would.
  std::vector<uint8_t> resealed(std::vector<uint8_t> b) {
    uint64_t sum = table_checksum(b.data(), b.size());
    std::memcpy(b.data() + offsetof(Header, checksum), &sum, 8);
    return b;
  }
  Header header() const {
    Header h;
    std::memcpy(&h, bytes_.data(), sizeof h);
    return h;
  }
  std::vector<uint8_t> bytes_;
};

TEST_F(Reader, AcceptsWhatTheWriterWrote) { EXPECT_EQ(check(bytes_), "ok"); }

TEST_F(Reader, RefusesTruncatedAndShort) {
  EXPECT_EQ(check(bytes_, 10), "shorter than a header (10 bytes)");
  std::string why = check(bytes_, bytes_.size() - 8);
  EXPECT_NE(why.find("truncated"), std::string::npos) << why;
}

TEST_F(Reader, RefusesBadMagicVersionChecksum) {
  auto b = bytes_;
  b[0] = 'X';
  EXPECT_EQ(check(b), "bad magic");
  b = bytes_;
  uint32_t v = 99;
  std::memcpy(b.data() + offsetof(Header, format_version), &v, 4);
  EXPECT_EQ(check(b), "format version 99, this reader knows " + std::to_string(kFormatVersion));
  b = bytes_;
  b[b.size() - 20] ^= 0x40;
  EXPECT_EQ(check(b), "checksum mismatch");
}

TEST_F(Reader, RefusesOutOfRangeReferencesEvenWithAGoodChecksum) {
  Header h = header();
  auto rule_at = [&](uint32_t i) { return h.sections[kSectionRules].offset + i * sizeof(RuleRecord); };
  auto b = bytes_;
  uint32_t bad = 1000;
  std::memcpy(b.data() + rule_at(0) + offsetof(RuleRecord, backend), &bad, 4);
  EXPECT_EQ(check(resealed(b)), "rule 0: reference out of range");

  b = bytes_;
  uint32_t huge = 0xFFFFFF00u;
  std::memcpy(b.data() + rule_at(1) + offsetof(RuleRecord, path) + offsetof(StrRef, offset), &huge, 4);
  EXPECT_EQ(check(resealed(b)), "rule 1: reference out of range");

  b = bytes_;
  uint32_t off = uint32_t(b.size());
  std::memcpy(b.data() + offsetof(Header, sections) + kSectionHosts * sizeof(Section), &off, 4);
  EXPECT_EQ(check(resealed(b)), "section 1 out of bounds");

  b = bytes_;
  uint32_t slot_value = 77;
  uint32_t idx = h.sections[kSectionHostIndex].offset;
  for (uint32_t i = 0; i < h.sections[kSectionHostIndex].count; ++i) {
    std::memcpy(b.data() + idx + i * sizeof(KeySlot) + offsetof(KeySlot, entry), &slot_value, 4);
  }
  EXPECT_EQ(check(resealed(b)), "index malformed");

  b = bytes_;
  uint32_t weight = 0;
  std::memcpy(b.data() + h.sections[kSectionEndpoints].offset + offsetof(EndpointRecord, weight), &weight, 4);
  EXPECT_EQ(check(resealed(b)), "endpoint 0: invalid");
}

TEST_F(Reader, RefusesAnExactHostThatIsNotAHostName) {
  // Its name and its key entry's copy changed alike, so that they agree,
  // and resealed: the plugin puts an exact host's name in the routed URL and
  // the cache key as it stands, so only a name the writer could write passes.
  const Header h = header();
  int exact = 0;
  for (uint32_t i = 0; i < h.sections[kSectionHosts].count; ++i) {
    HostRecord r;
    std::memcpy(&r, bytes_.data() + h.sections[kSectionHosts].offset + i * sizeof r, sizeof r);
    if (r.kind != kHostExact) continue;
    ++exact;
    for (char c : {'/', 'A', '@'}) {
      auto b = bytes_;
      b[h.sections[kSectionStrings].offset + r.name.offset] = uint8_t(c);
      b[h.sections[kSectionHostKeys].offset + r.key * 8 + sizeof(HostKey)] = uint8_t(c);
      EXPECT_EQ(check(resealed(b)), "host " + std::to_string(i) + ": not a lowercase host name") << c;
    }
  }
  EXPECT_EQ(exact, 1);
}

TEST_F(Reader, RefusesKeyEntriesThatDisagreeWithTheirRecords) {
  // The entries a lookup reads are copies: a table whose copies say another
  // thing than the records is refused whole, even resealed.
  Header h = header();
  const uint32_t host_key0 = h.sections[kSectionHostKeys].offset;  // the first host's entry is first
  auto b = bytes_;
  uint32_t other = 0xFFFFFFFEu;
  std::memcpy(b.data() + host_key0 + offsetof(HostKey, default_backend), &other, 4);
  EXPECT_EQ(check(resealed(b)), "host 0: key entry disagrees with the host");

  b = bytes_;
  b[host_key0 + sizeof(HostKey)] ^= 0x01;  // a byte of the name
  EXPECT_EQ(check(resealed(b)), "host 0: key entry disagrees with the host");

  b = bytes_;
  uint16_t longer = 0xFFFF;
  std::memcpy(b.data() + host_key0 + offsetof(HostKey, length), &longer, 2);
  EXPECT_EQ(check(resealed(b)), "host 0: key entry out of bounds");

  b = bytes_;
  const uint32_t rule0 = h.sections[kSectionRules].offset;
  RuleRecord r;
  std::memcpy(&r, b.data() + rule0, sizeof r);
  const uint32_t rule_key0 = h.sections[kSectionRuleKeys].offset + r.key * 8;
  uint32_t backend = r.backend + 1;
  std::memcpy(b.data() + rule_key0 + offsetof(RuleKey, backend), &backend, 4);
  EXPECT_EQ(check(resealed(b)), "rule 0: key entry disagrees with the rule");

  b = bytes_;
  uint8_t flipped = uint8_t(r.path_type == kPathExact ? 0 : 1);
  std::memcpy(b.data() + rule_key0 + offsetof(RuleKey, exact), &flipped, 1);
  EXPECT_EQ(check(resealed(b)), "rule 0: key entry disagrees with the rule");
}

TEST_F(Reader, EveryTruncationAndEveryByteFlipIsRefused) {
  for (size_t n = 0; n < bytes_.size(); ++n) EXPECT_NE(check(bytes_, n), "ok") << n;
  for (size_t i = 0; i < bytes_.size(); ++i) {
    auto b = bytes_;
    b[i] ^= 0x5a;
    EXPECT_NE(check(b), "ok") << "flip at " << i;
  }
}

}  // namespace
}  // namespace atsi
