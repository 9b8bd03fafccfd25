#include "decision.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "gateway_tables.h"
#include "test_tables.h"

namespace atsi::plugin {
namespace {

using atsi::testing::build;
using atsi::testing::outcome;
using atsi::testing::TableBuilder;

class DecisionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TableBuilder t;
    uint32_t app = t.backend("ns/app", {"10.0.0.1:8080", "[2001:db8::7]:8443"});
    uint32_t none = t.backend("ns/none", {});
    uint32_t gone = t.backend("ns/gone", {});
    t.input().backends[gone].problem = "service ns/gone does not exist";
    uint32_t secure = t.backend("ns/secure", {"10.0.0.2:443"});
    t.input().backends[secure].scheme = kSchemeHttps;
    t.input().backends[secure].options.redirect_to_https = true;
    t.host("a.com").prefix("/app", app).prefix("/none", none).prefix("/gone", gone).prefix("/secure", secure);
    built_ = build(t.input());
    bal_.reset(built_.view, 0);
  }
  Decision decide_for(const char* host, const char* path, bool tls = false, bool decline = false) {
    return decide(&built_.view, bal_, RequestFacts{host, path, tls}, decline);
  }
  atsi::testing::Built built_;
  Balancer bal_;
};

TEST_F(DecisionTest, RoutesToEndpointsInTurn) {
  Decision d = decide_for("A.com:80", "app/x");
  ASSERT_EQ(d.action, Action::kRoute);
  char buf[64];
  EXPECT_EQ(std::string(buf, endpoint_address_text(*d.endpoint, buf, sizeof buf)), "10.0.0.1");
  EXPECT_EQ(d.endpoint->port, 8080);
  d = decide_for("a.com", "app");
  EXPECT_EQ(std::string(buf, endpoint_address_text(*d.endpoint, buf, sizeof buf)), "2001:db8::7");
  EXPECT_EQ(d.endpoint->port, 8443);
}

TEST_F(DecisionTest, AnswersWithAReason) {
  char body[256];
  Decision d = decide_for("a.com", "other");
  EXPECT_EQ(d.action, Action::kAnswer);
  EXPECT_EQ(std::string(body, answer_body(d, body, sizeof body)), "404 no route for this path\n");
  d = decide_for("a.com", "none");
  EXPECT_EQ(std::string(body, answer_body(d, body, sizeof body)), "503 no ready endpoints for this backend\n");
  d = decide_for("a.com", "gone/x");
  EXPECT_EQ(std::string(body, answer_body(d, body, sizeof body)),
            "503 the backend cannot serve: service ns/gone does not exist\n");
  d = decide(nullptr, bal_, RequestFacts{"a.com", "app", false}, false);
  EXPECT_EQ(std::string(body, answer_body(d, body, sizeof body)), "503 no route table has been published yet\n");
  // Bodies are cut to the buffer, never overrun.
  EXPECT_EQ(answer_body(d, body, 8), 7u);
}

TEST_F(DecisionTest, BodiesSayTheCoresOutcomeText) {
  char body[256];
  struct Case {
    const char* host;
    std::string path;
    const char* want;
  } cases[] = {
      {"b.com", "app", "404 no route for this host\n"},
      {"a.com", "other", "404 no route for this path\n"},
      {"a.com", std::string(kMaxPathLength + 1, 'x'), "404 path too long\n"},
      {"a.com", "app/..;/x",
       "400 ambiguous path: a \".\" or \"..\" segment with parameters (\"..;\"), which servers resolve differently\n"},
      {"a.com", "none", "503 no ready endpoints for this backend\n"},
      {"a.com", "gone", "503 the backend cannot serve: service ns/gone does not exist\n"},
  };
  for (const Case& c : cases) {
    Decision d = decide_for(c.host, c.path.c_str());
    ASSERT_EQ(d.action, Action::kAnswer) << c.want;
    EXPECT_EQ(d.table, &built_.view);
    EXPECT_EQ(std::string(body, answer_body(d, body, sizeof body)), c.want);
    EXPECT_EQ(std::string(body), std::to_string(d.status) + " " + outcome(built_.view, d.match) + "\n");
  }
}

TEST_F(DecisionTest, BodiesAreCutToTheBufferNeverOverrun) {
  Decision d = decide_for("a.com", "gone");
  const std::string whole = "503 the backend cannot serve: service ns/gone does not exist\n";
  char body[128];
  for (size_t size = 1; size <= whole.size() + 1; ++size) {
    std::memset(body, '#', sizeof body);
    size_t n = answer_body(d, body, size);
    EXPECT_EQ(n, size - 1) << size;
    EXPECT_EQ(std::string(body, n), whole.substr(0, size - 1)) << size;
    EXPECT_EQ(body[n], '\0') << size;
    EXPECT_EQ(body[size], '#') << size;
  }
  std::memset(body, '#', sizeof body);
  EXPECT_EQ(answer_body(d, body, 0), 0u);
  EXPECT_EQ(body[0], '#');
}

TEST_F(DecisionTest, UnknownHostsAreDeclinedOnlyWhenAsked) {
  EXPECT_EQ(decide_for("b.com", "app", false, true).action, Action::kDecline);
  EXPECT_EQ(decide_for("b.com", "app", false, false).status, 404);
  // A known host's unknown path is ours to answer either way.
  EXPECT_EQ(decide_for("a.com", "zzz", false, true).status, 404);
}

TEST_F(DecisionTest, RedirectsPlainHttpWhenTheBackendAsks) {
  Decision d = decide_for("a.com", "secure");
  EXPECT_EQ(d.action, Action::kRedirect);
  EXPECT_EQ(d.status, 308);
  d = decide_for("a.com", "secure", /*tls=*/true);
  EXPECT_EQ(d.action, Action::kRoute);
  EXPECT_EQ(d.scheme, kSchemeHttps);
}

std::string cache_key(const RequestFacts& req, std::string_view query, bool ignore_query = false) {
  char buf[256];
  BackendOptionsView o;
  o.cache_ignore_query = ignore_query;
  return std::string(buf, cache_key_url(req, o, query, buf, sizeof buf));
}

std::string location(const RequestFacts& req, std::string_view query) {
  char buf[256];
  return std::string(buf, redirect_location(req, query, buf, sizeof buf));
}

TEST(CacheKeyUrl, TheUrlTheClientAskedForWithTheHostAsMatched) {
  // One object for every spelling of a host, as lookup matches them.
  EXPECT_EQ(cache_key({"A.com:80", "app/x", false}, ""), "http://a.com/app/x");
  EXPECT_EQ(cache_key({"a.COM.", "app/x", false}, ""), "http://a.com/app/x");
  EXPECT_EQ(cache_key({"a.com:8080", "app/x", false}, ""), "http://a.com/app/x");
  // The scheme stays: http and https objects are apart.
  EXPECT_EQ(cache_key({"a.com", "app/x", true}, "q=1&b"), "https://a.com/app/x?q=1&b");
  EXPECT_EQ(cache_key({"a.com", "", false}, ""), "http://a.com/");
  EXPECT_EQ(cache_key({"[2001:DB8::1]:8080", "p", false}, "x"), "http://[2001:db8::1]/p?x");
  EXPECT_EQ(cache_key({"10.0.0.1:80", "p", false}, ""), "http://10.0.0.1/p");
  EXPECT_EQ(cache_key({"under_score.a.com", "p", false}, ""), "http://under_score.a.com/p");
}

TEST(CacheKeyUrl, TheQueryIsLeftOutWhenTheBackendSaysSo) {
  EXPECT_EQ(cache_key({"a.com", "app.js", false}, "v=1", /*ignore_query=*/true), "http://a.com/app.js");
  EXPECT_EQ(cache_key({"a.com", "app.js", false}, "v=2", /*ignore_query=*/true), "http://a.com/app.js");
  EXPECT_EQ(cache_key({"a.com", "app.js", false}, "v=2"), "http://a.com/app.js?v=2");
}

TEST(CacheKeyUrl, NoKeyForAHostThatCouldNameAnotherUrl) {
  // "a.com/x?" as a Host would make "http://a.com/x?/y", the key of
  // another URL of a.com (path /x, query "/y"): no key, so no caching.
  EXPECT_EQ(cache_key({"a.com/x?", "y", false}, ""), "");
  EXPECT_EQ(cache_key({"a.com#", "y", false}, ""), "");
  EXPECT_EQ(cache_key({"a com", "y", false}, ""), "");
  EXPECT_EQ(cache_key({"user@a.com", "y", false}, ""), "");
  EXPECT_EQ(cache_key({"[::1/x]", "y", false}, ""), "");
  EXPECT_EQ(cache_key({"", "y", false}, ""), "");
  EXPECT_EQ(cache_key({std::string(kMaxHostLength + 1, 'a'), "y", false}, ""), "");
}

TEST(CacheKeyUrl, ItsSizeIsTheLengthOfTheText) {
  // The router checks the size before it sets the key as a URL object.
  char host_buf[kHostBufferSize];
  char buf[256];
  for (const RequestFacts& req : {RequestFacts{"A.com:80", "app/x", false}, RequestFacts{"a.com", "", true},
                                  RequestFacts{"[2001:DB8::1]:8080", "p;v=1", false}, RequestFacts{"a.com/x?", "y", false}}) {
    for (bool ignore : {false, true}) {
      for (std::string_view query : {"", "q=1&b"}) {
        BackendOptionsView o;
        o.cache_ignore_query = ignore;
        std::string_view host = routed_url_host(req.host, host_buf);
        EXPECT_EQ(cache_key_size(host, req, o, query), cache_key_url(host, req, o, query, buf, sizeof buf))
            << req.host << " " << req.path << " " << query << " " << ignore;
      }
    }
  }
}

TEST(RedirectLocation, HttpsWithTheHostAsMatched) {
  EXPECT_EQ(location({"A.COM:80", "secure/x", false}, "a=1"), "https://a.com/secure/x?a=1");
  EXPECT_EQ(location({"a.com.", "", false}, ""), "https://a.com/");
  EXPECT_EQ(location({"[2001:DB8::1]:8080", "secure", false}, ""), "https://[2001:db8::1]/secure");
  EXPECT_EQ(location({"a.com:8080", "s", false}, "q"), "https://a.com/s?q");
}

TEST(Urls, TooLongIsRefusedNotCut) {
  RequestFacts req{"a.com", "app/x", false};
  const std::string key = "http://a.com/app/x?q=1";
  const std::string loc = "https://a.com/app/x?q=1";
  char buf[64];
  // Exactly fits (with the NUL), then one byte short.
  const BackendOptionsView none;
  EXPECT_EQ(cache_key_url(req, none, "q=1", buf, key.size() + 1), key.size());
  EXPECT_EQ(std::string(buf), key);
  std::memset(buf, '#', sizeof buf);
  EXPECT_EQ(cache_key_url(req, none, "q=1", buf, key.size()), 0u);
  EXPECT_EQ(buf[0], '\0');
  EXPECT_EQ(redirect_location(req, "q=1", buf, loc.size() + 1), loc.size());
  EXPECT_EQ(std::string(buf), loc);
  std::memset(buf, '#', sizeof buf);
  EXPECT_EQ(redirect_location(req, "q=1", buf, loc.size()), 0u);
  EXPECT_EQ(buf[0], '\0');
  // A long query against the buffer.
  std::string query(100, 'q');
  EXPECT_EQ(cache_key_url(req, none, query, buf, sizeof buf), 0u);
  EXPECT_EQ(redirect_location(req, query, buf, sizeof buf), 0u);
  EXPECT_EQ(redirect_location(req, query, buf, 0), 0u);
}

TEST_F(DecisionTest, TheDebugHeaderNamesRuleServiceAndEndpoint) {
  Decision d = decide_for("A.com:80", "app/x");
  EXPECT_EQ(route_description(built_.view, d),
            "host=a.com path=/app type=Prefix ingress=ns/ing service=ns/app:80 endpoint=10.0.0.1:8080 generation=1");
  d = decide_for("a.com", "app");
  EXPECT_EQ(route_description(built_.view, d),
            "host=a.com path=/app type=Prefix ingress=ns/ing service=ns/app:80 endpoint=[2001:db8::7]:8443 "
            "generation=1");
  d = decide_for("a.com", "none");
  EXPECT_EQ(route_description(built_.view, d),
            "host=a.com path=/none type=Prefix ingress=ns/ing service=ns/none:80 generation=1");
}

TEST(RouteDescription, DefaultBackendsAndExactRules) {
  TableBuilder t;
  uint32_t a = t.backend("ns/a", {"10.0.0.9:81"}, "http");
  uint32_t z = t.backend("ns/z", {"[::1]:82"});
  t.host("d.com").host_default(a, "ns/d").exact("/e", z);
  t.table_default(z);
  auto built = build(t.input(), 7);
  Balancer bal;
  bal.reset(built.view, 0);
  Decision d = decide(&built.view, bal, RequestFacts{"d.com", "other", false}, false);
  EXPECT_EQ(route_description(built.view, d),
            "host=d.com rule=default service=ns/a:http endpoint=10.0.0.9:81 generation=7");
  d = decide(&built.view, bal, RequestFacts{"d.com", "e", false}, false);
  EXPECT_EQ(route_description(built.view, d),
            "host=d.com path=/e type=Exact ingress=ns/ing service=ns/z:80 endpoint=[::1]:82 generation=7");
  d = decide(&built.view, bal, RequestFacts{"x.org", "", false}, true);
  EXPECT_EQ(d.action, Action::kRoute);  // a table default is not an unknown host
  EXPECT_EQ(route_description(built.view, d), "rule=default service=ns/z:80 endpoint=[::1]:82 generation=7");
}

}  // namespace
}  // namespace atsi::plugin

namespace atsi::plugin {
namespace {

// A Gateway API answer's body: the status, the core's text, cut to fit.
TEST(GatewayAnswerBody, SaysTheStatusAndTheCoresText) {
  testing::GatewayBuilder g;
  uint32_t gone = g.rule("ns/broken", {testing::choice(kNone, 1, "backendRef Service ns/gone does not exist")});
  g.listener("10.0.0.9", 80, "a.example.com").prefix("/", gone);
  testing::Built b = testing::build(g.input());
  testing::TestRequest r;
  r.path = "/x";
  GatewayMatch m = gateway_lookup(b.view, testing::gateway_request(r), 0);
  ASSERT_EQ(m.outcome, GatewayOutcome::kInvalidBackend);
  char body[256];
  char text[200];
  size_t tn = gateway_outcome_text(b.view, m, text, sizeof text);
  EXPECT_EQ(std::string(body, gateway_answer_body(500, b.view, m, body, sizeof body)),
            "500 " + std::string(text, tn) + "\n");
  EXPECT_NE(std::string(text, tn).find("ns/gone"), std::string::npos);
  r.host = "other.example.com";
  m = gateway_lookup(b.view, testing::gateway_request(r), 0);
  ASSERT_EQ(m.outcome, GatewayOutcome::kNoListener);
  EXPECT_EQ(std::string(body, gateway_answer_body(404, b.view, m, body, sizeof body)).substr(0, 4), "404 ");
  // Cut to the buffer, never overrun; the NUL always fits.
  EXPECT_EQ(gateway_answer_body(500, b.view, m, body, 8), 7u);
  EXPECT_EQ(body[7], '\0');
  EXPECT_EQ(gateway_answer_body(500, b.view, m, body, 0), 0u);
}

}  // namespace
}  // namespace atsi::plugin
