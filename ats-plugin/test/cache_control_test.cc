// Cache-Control as the plugin reads it (RFC 9111 §5.2, RFC 9110 §5.6 list
// syntax), and the cache policy built on it: the overrides a route's
// options give and the storing decisions at the pod's response.
#include "cache_control.h"

#include <gtest/gtest.h>

#include <string>

#include "cache_policy.h"

namespace atsi::plugin {
namespace {

CacheControl parse(std::initializer_list<std::string_view> values) {
  CacheControl cc;
  for (std::string_view v : values) parse_cache_control(v, cc);
  return cc;
}
CacheControl parse(std::string_view v) { return parse({v}); }

TEST(CacheControl, DirectivesAreTokensCaseInsensitiveSeparatedByCommas) {
  CacheControl cc = parse("Public, MAX-AGE=60,s-MaxAge=30 ,  no-cache,NO-STORE,must-revalidate,Proxy-Revalidate");
  EXPECT_TRUE(cc.is_public);
  EXPECT_TRUE(cc.has_max_age);
  EXPECT_EQ(cc.max_age, 60u);
  EXPECT_TRUE(cc.has_s_maxage);
  EXPECT_EQ(cc.s_maxage, 30u);
  EXPECT_TRUE(cc.no_cache);
  EXPECT_TRUE(cc.no_store);
  EXPECT_TRUE(cc.must_revalidate);
  EXPECT_TRUE(cc.proxy_revalidate);
  EXPECT_FALSE(cc.is_private);
}

TEST(CacheControl, NothingIsNothing) {
  for (std::string_view v : {"", " ", ",", " , ,, ", "\t"}) {
    CacheControl cc = parse(v);
    EXPECT_FALSE(cc.is_public || cc.is_private || cc.no_store || cc.no_cache || cc.has_max_age || cc.has_s_maxage)
        << "'" << v << "'";
  }
}

TEST(CacheControl, WhitespaceAroundTheEqualsSignAndEmptyElements) {
  CacheControl cc = parse(",,max-age = 5 ,, private ,");
  EXPECT_TRUE(cc.has_max_age);
  EXPECT_EQ(cc.max_age, 5u);
  EXPECT_TRUE(cc.is_private);
}

TEST(CacheControl, SeveralFieldsAddUp) {
  CacheControl cc = parse({"public", "s-maxage=10", "no-store"});
  EXPECT_TRUE(cc.is_public);
  EXPECT_TRUE(cc.has_s_maxage);
  EXPECT_TRUE(cc.no_store);
}

TEST(CacheControl, QuotedArgumentsMayHoldCommasAndEscapes) {
  // The comma inside the quotes does not end the directive: "public" is not
  // a directive here, only part of private's argument.
  CacheControl cc = parse(R"(private="set-cookie, public", max-age=7)");
  EXPECT_TRUE(cc.is_private);
  EXPECT_FALSE(cc.is_public);
  EXPECT_EQ(cc.max_age, 7u);
  cc = parse(R"(no-cache="a\", s-maxage=9, b", public)");
  EXPECT_TRUE(cc.no_cache);
  EXPECT_FALSE(cc.has_s_maxage);
  EXPECT_TRUE(cc.is_public);
  // A quoted delta-seconds is accepted (RFC 9111 §5.2: recipients accept both forms).
  cc = parse(R"(s-maxage="120")");
  EXPECT_TRUE(cc.has_s_maxage);
  EXPECT_EQ(cc.s_maxage, 120u);
}

TEST(CacheControl, UnknownDirectivesAreIgnored) {
  CacheControl cc = parse(R"(immutable, stale-while-revalidate=30, x-ext="a,b", public)");
  EXPECT_TRUE(cc.is_public);
  EXPECT_FALSE(cc.has_max_age);
  // Names are whole tokens: a longer or shorter one is another directive.
  cc = parse("publicity, privates, max-ages=5, s-maxage2=3, no-stores");
  EXPECT_FALSE(cc.is_public || cc.is_private || cc.no_store || cc.has_max_age || cc.has_s_maxage);
}

TEST(CacheControl, DeltaSecondsAreDigitsTheFirstValidOneCounts) {
  EXPECT_FALSE(parse("max-age=abc").has_max_age);
  EXPECT_FALSE(parse("max-age=-1").has_max_age);
  EXPECT_FALSE(parse("max-age=1.5").has_max_age);
  EXPECT_FALSE(parse("max-age=").has_max_age);
  EXPECT_FALSE(parse("max-age").has_max_age);
  EXPECT_FALSE(parse("s-maxage=\"\"").has_s_maxage);
  EXPECT_EQ(parse("max-age=10, max-age=20").max_age, 10u);
  EXPECT_EQ(parse("max-age=x, max-age=20").max_age, 20u);
  EXPECT_EQ(parse("max-age=0").max_age, 0u);
  EXPECT_TRUE(parse("max-age=0").has_max_age);
  // Larger than 2^31: taken as 2^31 (RFC 9111 §1.2.2).
  EXPECT_EQ(parse("max-age=99999999999999999999999").max_age, kMaxDeltaSeconds);
  EXPECT_EQ(parse("s-maxage=2147483648").s_maxage, kMaxDeltaSeconds);
  EXPECT_EQ(parse("s-maxage=2147483647").s_maxage, 2147483647u);
}

TEST(CacheControl, AMalformedElementRestrictsButNeverPermits) {
  // Something after the name that is not "=argument": the element is
  // malformed. A restriction it names still holds; a permission does not.
  CacheControl cc = parse("private x, public y, s-maxage=5 z, no-store;, max-age=3");
  EXPECT_TRUE(cc.is_private);
  EXPECT_TRUE(cc.no_store);
  EXPECT_FALSE(cc.is_public);
  EXPECT_FALSE(cc.has_s_maxage);
  EXPECT_EQ(cc.max_age, 3u);
  // An unclosed quote runs to the end.
  cc = parse(R"(no-cache="a, public)");
  EXPECT_TRUE(cc.no_cache);
  EXPECT_FALSE(cc.is_public);
  cc = parse(R"(x="unclosed, s-maxage=4)");
  EXPECT_FALSE(cc.has_s_maxage);
  // A quoted string after garbage is skipped whole, commas and all.
  cc = parse(R"(x y "a, public", max-age=2)");
  EXPECT_FALSE(cc.is_public);
  EXPECT_EQ(cc.max_age, 2u);
}

TEST(CacheControl, ArbitraryBytesNeverReadOutside) {
  // Every prefix of a tricky value parses (ASan would see an overrun).
  const std::string v = R"(a="\"\\,", private="x\)";
  for (size_t n = 0; n <= v.size(); ++n) {
    CacheControl cc;
    parse_cache_control(std::string_view(v.data(), n), cc);
  }
  std::string bytes;
  for (int c = 0; c < 256; ++c) bytes.push_back(char(c));
  CacheControl cc;
  parse_cache_control(bytes, cc);
}

// ------------------------------------------------------------ policy

TEST(CacheOverrides, NoOptionsLeaveATSAlone) {
  CacheOverrides c = cache_overrides(BackendOptionsView{});
  EXPECT_EQ(c.required_headers, kLeave);
  EXPECT_EQ(c.heuristic_min_lifetime, kLeave);
  EXPECT_EQ(c.heuristic_max_lifetime, kLeave);
  EXPECT_EQ(c.guaranteed_max_lifetime, kLeave);
  EXPECT_EQ(c.max_stale_age, kLeave);
  EXPECT_EQ(c.negative_revalidating_enabled, kLeave);
  EXPECT_EQ(c.negative_revalidating_lifetime, kLeave);
  EXPECT_EQ(c.generation, kLeave);
}

TEST(CacheOverrides, ADefaultTtlIsAHeuristicOfExactlyThatLength) {
  BackendOptionsView o;
  o.cache_default_ttl_s = 60;
  CacheOverrides c = cache_overrides(o);
  EXPECT_EQ(c.required_headers, 0);
  EXPECT_EQ(c.heuristic_min_lifetime, 60);
  EXPECT_EQ(c.heuristic_max_lifetime, 60);
  EXPECT_EQ(c.guaranteed_max_lifetime, kLeave);
}

TEST(CacheOverrides, AMaximumBoundsEverythingTheDefaultIncluded) {
  BackendOptionsView o;
  o.cache_max_ttl_s = 30;
  CacheOverrides c = cache_overrides(o);
  EXPECT_EQ(c.guaranteed_max_lifetime, 30);
  EXPECT_EQ(c.required_headers, kLeave);
  // ATS applies the heuristic minimum after the maximum: a default above
  // the maximum would win, so it is cut here.
  o.cache_default_ttl_s = 600;
  c = cache_overrides(o);
  EXPECT_EQ(c.heuristic_min_lifetime, 30);
  EXPECT_EQ(c.heuristic_max_lifetime, 30);
  o.cache_default_ttl_s = 10;
  c = cache_overrides(o);
  EXPECT_EQ(c.heuristic_min_lifetime, 10);
  EXPECT_EQ(c.guaranteed_max_lifetime, 30);
}

TEST(CacheOverrides, ServeStaleIsTheAgeBoundAndNegativeRevalidating) {
  BackendOptionsView o;
  o.cache_serve_stale_s = 120;
  CacheOverrides c = cache_overrides(o);
  EXPECT_EQ(c.max_stale_age, 120);
  EXPECT_EQ(c.negative_revalidating_enabled, 1);
  EXPECT_EQ(c.negative_revalidating_lifetime, kNegativeRevalidatingLifetimeS);
}

TEST(CacheOverrides, TheGenerationAsGivenZeroIncluded) {
  BackendOptionsView o;
  o.cache_generation = 0;
  EXPECT_EQ(cache_overrides(o).generation, 0);
  o.cache_generation = 12345;
  EXPECT_EQ(cache_overrides(o).generation, 12345);
}

TEST(CacheOverrides, ValuesNoWriterGivesStayWithinWhatATSTakes) {
  // A table the writer would refuse can still be read: never a negative
  // number or a 2^32 - 1 second lifetime for ATS.
  BackendOptionsView o;
  o.cache_default_ttl_s = 0xFFFFFFFEu;
  o.cache_max_ttl_s = 0xFFFFFFFEu;
  o.cache_serve_stale_s = 0xFFFFFFFEu;
  o.cache_generation = 0xFFFFFFFEu;
  CacheOverrides c = cache_overrides(o);
  EXPECT_EQ(c.heuristic_min_lifetime, int64_t(kMaxCacheSeconds));
  EXPECT_EQ(c.guaranteed_max_lifetime, int64_t(kMaxCacheSeconds));
  EXPECT_EQ(c.max_stale_age, int64_t(kMaxCacheSeconds));
  EXPECT_EQ(c.generation, int64_t(kMaxCacheGeneration));
}

TEST(StoringDecisions, ACookieIsNeverStored) {
  EXPECT_TRUE(refuse_to_store(true, false, parse("public, max-age=60")));
  EXPECT_TRUE(refuse_to_store(true, true, parse("public, s-maxage=60")));
  EXPECT_FALSE(refuse_to_store(false, false, parse("max-age=60")));
  EXPECT_FALSE(refuse_to_store(false, false, parse("")));  // ATS's own rules decide the rest
}

TEST(StoringDecisions, AnAuthorizedRequestsResponseOnlyWithPublicOrSMaxage) {
  EXPECT_TRUE(refuse_to_store(false, true, parse("max-age=60")));
  EXPECT_TRUE(refuse_to_store(false, true, parse("")));
  EXPECT_TRUE(refuse_to_store(false, true, parse("max-age=60, must-revalidate")));
  EXPECT_TRUE(refuse_to_store(false, true, parse("proxy-revalidate, max-age=60")));
  EXPECT_TRUE(refuse_to_store(false, true, parse("no-cache")));
  EXPECT_FALSE(refuse_to_store(false, true, parse("public, max-age=60")));
  EXPECT_FALSE(refuse_to_store(false, true, parse("s-maxage=60")));
  EXPECT_FALSE(refuse_to_store(false, true, parse("S-MAXAGE=\"0\"")));
  EXPECT_TRUE(refuse_to_store(false, true, parse("private, s-maxage=60")));
  EXPECT_TRUE(refuse_to_store(false, true, parse("public, private")));
  EXPECT_TRUE(refuse_to_store(false, true, parse("public, no-store")));
  EXPECT_TRUE(refuse_to_store(false, true, parse("s-maxage=x")));
}

TEST(StoringDecisions, AStoredResponseAnswersAnAuthorizedRequestWithSMaxage) {
  EXPECT_TRUE(reusable_for_authorized(parse("s-maxage=60")));
  EXPECT_TRUE(reusable_for_authorized(parse("public, s-maxage=60, must-revalidate")));
  EXPECT_FALSE(reusable_for_authorized(parse("max-age=60")));
  EXPECT_FALSE(reusable_for_authorized(parse("public, max-age=60")));  // ATS does that itself
  EXPECT_FALSE(reusable_for_authorized(parse("s-maxage=60, private")));
  EXPECT_FALSE(reusable_for_authorized(parse("s-maxage=60, no-store")));
}

}  // namespace
}  // namespace atsi::plugin
