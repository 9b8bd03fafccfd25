#include "decision.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

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

}  // namespace
}  // namespace atsi::plugin
