// Lookup semantics, table-driven: DESIGN.md section 3 and the path-type table
// of the Kubernetes Ingress documentation.
#include "lookup.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "test_tables.h"

namespace atsi {
namespace {

using testing::build;
using testing::outcome;
using testing::route;
using testing::TableBuilder;

struct Rule {
  const char* path;
  PathType type;
  const char* service;
};

// One host "h.com" holding `rules`, each to its own backend named by
// `service`; requests that match nothing get 404.
std::string match_one(std::initializer_list<Rule> rules, const char* request) {
  TableBuilder t;
  t.host("h.com");
  for (const Rule& r : rules) {
    uint32_t b = t.backend(r.service, {"10.0.0.1:80"});
    t.rule(r.path, r.type, b);
  }
  auto built = build(t.input());
  return route(built.view, "h.com", request);
}

constexpr PathType E = kPathExact, P = kPathPrefix, I = kPathImplementationSpecific;

TEST(Lookup, KubernetesPathTypeExamples) {
  struct Case {
    std::initializer_list<Rule> rules;
    const char* request;
    const char* want;
  } cases[] = {
      {{{"/", P, "a"}}, "/anything/at/all", "a"},
      {{{"/", P, "a"}}, "/", "a"},
      {{{"/foo", E, "a"}}, "/foo", "a"},
      {{{"/foo", E, "a"}}, "/bar", "404"},
      {{{"/foo", E, "a"}}, "/foo/", "404"},
      {{{"/foo/", E, "a"}}, "/foo", "404"},
      {{{"/foo", P, "a"}}, "/foo", "a"},
      {{{"/foo", P, "a"}}, "/foo/", "a"},
      {{{"/foo/", P, "a"}}, "/foo", "a"},
      {{{"/foo/", P, "a"}}, "/foo/", "a"},
      {{{"/aaa/bb", P, "a"}}, "/aaa/bbb", "404"},
      {{{"/aaa/bbb", P, "a"}}, "/aaa/bbb", "a"},
      {{{"/aaa/bbb/", P, "a"}}, "/aaa/bbb", "a"},
      {{{"/aaa/bbb", P, "a"}}, "/aaa/bbb/", "a"},
      {{{"/aaa/bbb", P, "a"}}, "/aaa/bbb/ccc", "a"},
      {{{"/aaa/bbb", P, "a"}}, "/aaa/bbbxyz", "404"},
      {{{"/", P, "root"}, {"/aaa", P, "aaa"}}, "/aaa/ccc", "aaa"},
      {{{"/", P, "root"}, {"/aaa", P, "aaa"}, {"/aaa/bbb", P, "bbb"}}, "/aaa/bbb", "bbb"},
      {{{"/", P, "root"}, {"/aaa", P, "aaa"}, {"/aaa/bbb", P, "bbb"}}, "/ccc", "root"},
      {{{"/aaa", P, "a"}}, "/ccc", "404"},
      {{{"/foo", P, "prefix"}, {"/foo", E, "exact"}}, "/foo", "exact"},
      {{{"/foo", E, "exact"}, {"/foo", P, "prefix"}}, "/foo/x", "prefix"},
      // ImplementationSpecific behaves as Prefix.
      {{{"/foo", I, "a"}}, "/foo/bar", "a"},
      {{{"/foo", I, "a"}}, "/foobar", "404"},
      // Matching is case-sensitive and on the path without the query.
      {{{"/App", P, "a"}}, "/app", "404"},
      {{{"/app", E, "a"}}, "/app?x=1", "a"},
      // Dot-segments are resolved before matching.
      {{{"/admin", P, "admin"}, {"/foo", P, "foo"}}, "/foo/../admin", "admin"},
      {{{"/foo", P, "foo"}}, "/foo/../admin", "404"},
      {{{"/foo/bar", E, "a"}}, "/foo/./bar", "a"},
      // The path may arrive without its leading slash (as ATS gives it).
      {{{"/app1", P, "a"}}, "app1/x", "a"},
      // The longest match is by elements, not by rule order.
      {{{"/a/b/c", P, "abc"}, {"/a", P, "a"}}, "/a/b/c/d", "abc"},
      {{{"/a", P, "a"}, {"/a/b/c", P, "abc"}}, "/a/b/x", "a"},
  };
  for (const Case& c : cases) {
    std::string rules;
    for (const Rule& r : c.rules) rules += std::string(r.path) + "(" + std::to_string(r.type) + ") ";
    EXPECT_EQ(match_one(c.rules, c.request), c.want) << "rules " << rules << "request " << c.request;
  }
}

TEST(Lookup, HostsExactWildcardCatchAllChosenOnce) {
  TableBuilder t;
  uint32_t exact = t.backend("ns/exact", {"10.0.0.1:80"});
  uint32_t wild = t.backend("ns/wild", {"10.0.0.2:80"});
  uint32_t any = t.backend("ns/any", {"10.0.0.3:80"});
  t.host("foo.com").prefix("/only", exact);
  t.host("bar.foo.com").prefix("/", exact);
  t.host("*.foo.com").prefix("/", wild);
  t.host("").prefix("/", any);
  auto b = build(t.input());
  const auto& v = b.view;
  EXPECT_EQ(route(v, "bar.foo.com", "/x"), "ns/exact");
  EXPECT_EQ(route(v, "baz.foo.com", "/x"), "ns/wild");
  EXPECT_EQ(route(v, "BAZ.Foo.Com:8080", "/x"), "ns/wild");
  // A wildcard covers exactly one label.
  EXPECT_EQ(route(v, "a.baz.foo.com", "/x"), "ns/any");
  EXPECT_EQ(route(v, "foo.com", "/only/x"), "ns/exact");
  // The host is chosen once: an unmatched path of foo.com does not fall
  // through to the wildcard or the catch-all.
  EXPECT_EQ(route(v, "foo.com", "/other"), "404");
  EXPECT_EQ(route(v, "unknown.org", "/x"), "ns/any");
  EXPECT_EQ(route(v, "", "/x"), "ns/any");
  EXPECT_EQ(route(v, "[::1]:80", "/x"), "ns/any");
  EXPECT_EQ(route(v, "foo.com.", "/only"), "ns/exact");
}

TEST(Lookup, NoCatchAllMeans404ForUnknownHosts) {
  TableBuilder t;
  uint32_t a = t.backend("ns/a", {"10.0.0.1:80"});
  t.host("a.com").prefix("/", a);
  auto b = build(t.input());
  EXPECT_EQ(route(b.view, "b.com", "/"), "404");
  Match m = lookup(b.view, "b.com", "/");
  EXPECT_EQ(m.host, kNone);
  EXPECT_EQ(m.reason, Reason::kNoHost);
  EXPECT_EQ(outcome(b.view, m), "no route for this host");
  m = lookup(b.view, "a.com", "/");
  EXPECT_EQ(m.outcome, Outcome::kRouted);
  EXPECT_EQ(m.kind, MatchKind::kPrefix);
}

TEST(Lookup, DefaultBackends) {
  TableBuilder t;
  uint32_t app = t.backend("ns/app", {"10.0.0.1:80"});
  uint32_t hostdef = t.backend("ns/hostdef", {"10.0.0.2:80"});
  uint32_t catchdef = t.backend("ns/catchdef", {"10.0.0.3:80"});
  uint32_t global = t.backend("ns/global", {"10.0.0.4:80"});
  t.host("with-default.com").prefix("/app", app).host_default(hostdef);
  t.host("plain.com").exact("/app", app);
  t.host("").host_default(catchdef);
  t.table_default(global);
  auto b = build(t.input());
  EXPECT_EQ(route(b.view, "with-default.com", "/app/x"), "ns/app");
  EXPECT_EQ(route(b.view, "with-default.com", "/other"), "ns/hostdef");
  EXPECT_EQ(lookup(b.view, "with-default.com", "/other").kind, MatchKind::kHostDefault);
  // A named host without its own default goes to the controller's default,
  // not to the catch-all's.
  EXPECT_EQ(route(b.view, "plain.com", "/other"), "ns/global");
  EXPECT_EQ(lookup(b.view, "plain.com", "/other").kind, MatchKind::kTableDefault);
  EXPECT_EQ(route(b.view, "nobody.com", "/"), "ns/catchdef");
}

TEST(Lookup, ServiceWithoutEndpointsIs503) {
  TableBuilder t;
  uint32_t none = t.backend("ns/none", {});
  uint32_t missing = t.backend("ns/missing", {});
  t.input().backends[missing].problem = "service ns/missing does not exist";
  t.host("a.com").prefix("/none", none).prefix("/missing", missing);
  auto b = build(t.input());
  Match m = lookup(b.view, "a.com", "/none");
  EXPECT_EQ(m.outcome, Outcome::kNoEndpoints);
  EXPECT_EQ(m.reason, Reason::kNoEndpoints);
  EXPECT_EQ(outcome(b.view, m), "no ready endpoints for this backend");
  m = lookup(b.view, "a.com", "/missing/x");
  EXPECT_EQ(m.outcome, Outcome::kNoEndpoints);
  EXPECT_EQ(b.view.str(b.view.backend(m.backend).problem), "service ns/missing does not exist");
}

TEST(Lookup, WalkthroughOfTheOriginalProject) {
  // test.media.com /app1 /app2 from one namespace; test.edge.com /app1 from
  // that namespace and /app2 from another.
  TableBuilder t;
  uint32_t a1 = t.backend("trafficserver-test-2/appsvc1", {"10.1.0.1:8080", "10.1.0.2:8080"}, "8080");
  uint32_t a2 = t.backend("trafficserver-test-2/appsvc2", {"10.1.0.3:8080", "10.1.0.4:8080"}, "8080");
  uint32_t b2 = t.backend("trafficserver-test-3/appsvc2", {"10.2.0.3:8080"}, "8080");
  t.host("test.edge.com")
      .rule("/app1", kPathPrefix, a1, "trafficserver-test-2/app-ingress")
      .rule("/app2", kPathPrefix, b2, "trafficserver-test-3/app-ingress");
  t.host("test.media.com").prefix("/app1", a1).prefix("/app2", a2);
  auto b = build(t.input());
  EXPECT_EQ(route(b.view, "test.media.com", "/app1"), "trafficserver-test-2/appsvc1");
  EXPECT_EQ(route(b.view, "test.media.com", "/app2"), "trafficserver-test-2/appsvc2");
  EXPECT_EQ(route(b.view, "test.edge.com", "/app1"), "trafficserver-test-2/appsvc1");
  EXPECT_EQ(route(b.view, "test.edge.com", "/app2"), "trafficserver-test-3/appsvc2");
  EXPECT_EQ(route(b.view, "test.edge.com", "/app3"), "404");
  EXPECT_EQ(route(b.view, "other.com", "/app1"), "404");
  Match m = lookup(b.view, "test.edge.com", "/app2");
  EXPECT_EQ(b.view.str(b.view.rule(m.rule).source), "trafficserver-test-3/app-ingress");
}

TEST(Lookup, ManyHostsAndRulesAllReachable) {
  TableBuilder t;
  uint32_t be = t.backend("ns/x", {"10.0.0.1:80"});
  for (int h = 0; h < 300; ++h) {
    t.host("h" + std::to_string(h) + ".example.com");
    for (int r = 0; r < 20; ++r) t.prefix("/p" + std::to_string(r) + "/q", be);
    t.exact("/e", be);
  }
  auto b = build(t.input());
  for (int h = 0; h < 300; ++h) {
    std::string host = "h" + std::to_string(h) + ".example.com";
    for (int r = 0; r < 20; ++r) {
      Match m = lookup(b.view, host, "/p" + std::to_string(r) + "/q/z");
      ASSERT_EQ(m.outcome, Outcome::kRouted) << host << " " << r;
      EXPECT_EQ(b.view.str(b.view.rule(m.rule).path), "/p" + std::to_string(r) + "/q");
      EXPECT_EQ(b.view.str(b.view.host(m.host).name), host);
    }
    EXPECT_EQ(lookup(b.view, host, "/e").kind, MatchKind::kExact);
    EXPECT_EQ(lookup(b.view, host, "/p1").outcome, Outcome::kNotFound);
  }
}

TEST(Lookup, PathTooLongIs404WithReason) {
  TableBuilder t;
  uint32_t be = t.backend("ns/x", {"10.0.0.1:80"});
  t.host("a.com").prefix("/", be);
  auto b = build(t.input());
  Match m = lookup(b.view, "a.com", "/" + std::string(kMaxPathLength + 10, 'x'));
  EXPECT_EQ(m.outcome, Outcome::kNotFound);
  EXPECT_EQ(m.reason, Reason::kPathTooLong);
  EXPECT_EQ(outcome(b.view, m), "path too long");
}

// The spellings of the hostile-input test: what a pod resolving ";" params
// and dot-segments would serve is what is matched.
TEST(Lookup, MatchesOnThePathWithParamsDecodedAndResolved) {
  TableBuilder t;
  uint32_t pub = t.backend("ns/public", {"10.0.0.1:80"});
  uint32_t admin = t.backend("ns/admin", {"10.0.0.2:80"});
  uint32_t root = t.backend("ns/root", {"10.0.0.3:80"});
  t.host("a.com").prefix("/public", pub).prefix("/admin", admin).exact("/login;jsessionid=1", pub).prefix("/", root);
  t.host("b.com").prefix("/public", pub).host_default(root);
  auto b = build(t.input());
  EXPECT_EQ(route(b.view, "a.com", "/public;x/../../admin"), "ns/admin");
  EXPECT_EQ(route(b.view, "a.com", "public;x/../../admin"), "ns/admin");
  EXPECT_EQ(route(b.view, "a.com", "/public;jsessionid=abc"), "ns/root");  // the segment "public;jsessionid=abc"
  EXPECT_EQ(route(b.view, "a.com", "/public/;jsessionid=abc"), "ns/public");
  EXPECT_EQ(route(b.view, "a.com", "/public/x;jsessionid=abc"), "ns/public");
  EXPECT_EQ(route(b.view, "a.com", "/login;jsessionid=1"), "ns/public");
  EXPECT_EQ(route(b.view, "a.com", "/%61dmin"), "ns/admin");
  EXPECT_EQ(route(b.view, "a.com", "/%61%64%6D%69%6e/x"), "ns/admin");
  EXPECT_EQ(route(b.view, "a.com", "/%41DMIN"), "ns/root");  // "/ADMIN": paths are case-sensitive
  EXPECT_EQ(route(b.view, "a.com", "/admin%2Fx"), "ns/root");
  EXPECT_EQ(route(b.view, "a.com", "/p%75blic;x/%2e%2e/%2E%2E/%61dmin"), "ns/admin");
  for (const char* p : {"/public/..;/admin", "/public/.;x/admin", "/public/%2e%2E;x/admin"}) {
    Match m = lookup(b.view, "a.com", p);
    EXPECT_EQ(m.outcome, Outcome::kNotFound) << p;
    EXPECT_EQ(m.reason, Reason::kAmbiguousPath) << p;
    EXPECT_NE(m.host, kNone) << p;
    // Not to a default backend either.
    EXPECT_EQ(lookup(b.view, "b.com", p).reason, Reason::kAmbiguousPath) << p;
  }
  // An unknown host is still an unknown host (global mode declines it).
  EXPECT_EQ(lookup(b.view, "c.com", "/..;/x").host, kNone);
}

TEST(OutcomeText, OneTextPerReason) {
  TableBuilder t;
  uint32_t a = t.backend("ns/a", {"10.0.0.1:80"});
  uint32_t none = t.backend("ns/none", {});
  uint32_t missing = t.backend("ns/missing", {});
  t.input().backends[missing].problem = "service ns/missing does not exist";
  t.host("a.com").prefix("/a", a).prefix("/none", none).prefix("/missing", missing);
  auto b = build(t.input());
  auto text = [&](const char* host, const std::string& path) { return outcome(b.view, lookup(b.view, host, path)); };
  EXPECT_EQ(text("a.com", "/a/x"), "");
  EXPECT_EQ(text("b.com", "/a"), "no route for this host");
  EXPECT_EQ(text("a.com", "/b"), "no route for this path");
  EXPECT_EQ(text("a.com", "/" + std::string(kMaxPathLength, 'x')), "path too long");
  EXPECT_EQ(text("a.com", "/a/..;/x"),
            "ambiguous path: a \".\" or \"..\" segment with parameters (\"..;\"), which servers resolve differently");
  EXPECT_EQ(text("a.com", "/none"), "no ready endpoints for this backend");
  EXPECT_EQ(text("a.com", "/missing/x"), "the backend cannot serve: service ns/missing does not exist");
  EXPECT_EQ(lookup(b.view, "a.com", "/missing").reason, Reason::kBackendProblem);
  EXPECT_EQ(lookup(b.view, "a.com", "/b").reason, Reason::kNoPath);
  EXPECT_EQ(lookup(b.view, "a.com", "/a").reason, Reason::kNone);
}

TEST(OutcomeText, CutsToTheBufferAndSaysHowLongTheWholeIs) {
  TableBuilder t;
  uint32_t missing = t.backend("ns/missing", {});
  t.input().backends[missing].problem = "service ns/missing does not exist";
  t.host("a.com").prefix("/", missing);
  auto b = build(t.input());
  Match m = lookup(b.view, "a.com", "/");
  const std::string whole = "the backend cannot serve: service ns/missing does not exist";
  char buf[128];
  std::memset(buf, '#', sizeof buf);
  EXPECT_EQ(outcome_text(b.view, m, buf, sizeof buf), whole.size());
  EXPECT_STREQ(buf, whole.c_str());
  // Cut: size - 1 bytes and a NUL, nothing past them.
  std::memset(buf, '#', sizeof buf);
  EXPECT_EQ(outcome_text(b.view, m, buf, 5), whole.size());
  EXPECT_STREQ(buf, "the ");
  EXPECT_EQ(buf[5], '#');
  // Cut inside the problem text, and exactly at the end of the whole.
  std::memset(buf, '#', sizeof buf);
  EXPECT_EQ(outcome_text(b.view, m, buf, 30), whole.size());
  EXPECT_EQ(std::string(buf), whole.substr(0, 29));
  EXPECT_EQ(outcome_text(b.view, m, buf, whole.size()), whole.size());
  EXPECT_EQ(std::string(buf), whole.substr(0, whole.size() - 1));
  EXPECT_EQ(outcome_text(b.view, m, buf, whole.size() + 1), whole.size());
  EXPECT_EQ(std::string(buf), whole);
  // Size 0 writes nothing at all; size 1 only the NUL.
  std::memset(buf, '#', sizeof buf);
  EXPECT_EQ(outcome_text(b.view, m, buf, 0), whole.size());
  EXPECT_EQ(buf[0], '#');
  EXPECT_EQ(outcome_text(b.view, m, buf, 1), whole.size());
  EXPECT_EQ(buf[0], '\0');
  EXPECT_EQ(buf[1], '#');
  // A routed match has no text.
  Match routed;
  routed.outcome = Outcome::kRouted;
  EXPECT_EQ(outcome_text(b.view, routed, buf, sizeof buf), 0u);
  EXPECT_STREQ(buf, "");
}

}  // namespace
}  // namespace atsi
