// The Gateway API's lookup, table-driven, against what src/model/gateway
// says (lookupGatewayRoute, hostnames.ts, matches.ts, backends.ts) and the
// spec's text for redirects and rewrites (HTTPRequestRedirectFilter,
// HTTPPathModifier).
#include "gateway_lookup.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "gateway_tables.h"

namespace atsi {
namespace {

using testing::build;
using testing::choice;
using testing::gateway_answer;
using testing::GatewayBuilder;
using testing::TestRequest;

TestRequest req(const std::string& host, const std::string& path = "/") {
  TestRequest r;
  r.host = host;
  r.path = path;
  return r;
}

constexpr auto kPrefix = PathModifierKind::kReplacePrefixMatch;
constexpr auto kFull = PathModifierKind::kReplaceFullPath;

TEST(GatewayLookup, TheMostSpecificListenerWithNoFallback) {
  GatewayBuilder g;
  uint32_t exact = g.to(g.backend("ns/exact"));
  uint32_t wild = g.to(g.backend("ns/wild"));
  uint32_t deeper = g.to(g.backend("ns/deeper"));
  uint32_t any = g.to(g.backend("ns/any"));
  // In no particular order: the lookup ranks them, not the input.
  g.listener("10.0.0.9", 80, "").prefix("/", any);
  g.listener("10.0.0.9", 80, "*.example.com").prefix("/", wild);
  g.listener("10.0.0.9", 80, "a.example.com").prefix("/only", exact);
  g.listener("10.0.0.9", 80, "*.b.example.com").prefix("/", deeper);
  auto b = build(g.input());
  const TableView& v = b.view;
  struct Case {
    const char* host;
    const char* path;
    const char* want;
  } cases[] = {
      {"a.example.com", "/only/x", "ns/exact"},
      // The exact listener has no rule for /other: 404, never the wildcard's.
      {"a.example.com", "/other", "404 no rule of this listener matches"},
      {"x.example.com", "/", "ns/wild"},
      // One or more labels.
      {"y.x.example.com", "/", "ns/wild"},
      {"x.b.example.com", "/", "ns/deeper"},
      {"z.y.b.example.com", "/", "ns/deeper"},
      // Never the apex: b.example.com is *.example.com's, example.com the any listener's.
      {"b.example.com", "/", "ns/wild"},
      {"example.com", "/", "ns/any"},
      {"other.org", "/", "ns/any"},
      {"", "/", "ns/any"},
      // Normalized as Ingress hosts are.
      {"A.EXAMPLE.com:8080", "/only", "ns/exact"},
      {"a.example.com.", "/only", "ns/exact"},
      {"X.B.Example.Com.:80", "/", "ns/deeper"},
      {"[::1]:80", "/", "ns/any"},
  };
  for (const Case& c : cases) EXPECT_EQ(gateway_answer(v, req(c.host, c.path)), c.want) << c.host << c.path;
}

TEST(GatewayLookup, NoListenerForTheHostIs404AndOtherPortsAreNotTheGateways) {
  GatewayBuilder g;
  uint32_t a = g.to(g.backend("ns/a"));
  g.listener("10.0.0.9", 80, "*.example.com").prefix("/", a);
  auto b = build(g.input());
  EXPECT_EQ(gateway_answer(b.view, req("example.com")), "404 no listener of this Gateway for this host");
  EXPECT_EQ(gateway_answer(b.view, req("other.org")), "404 no listener of this Gateway for this host");
  EXPECT_EQ(gateway_answer(b.view, req("")), "404 no listener of this Gateway for this host");
  TestRequest other_port = req("x.example.com");
  other_port.port = 8080;
  EXPECT_EQ(gateway_answer(b.view, other_port), "not gateway");
  TestRequest other_address = req("x.example.com");
  other_address.address = "10.0.0.8";
  EXPECT_EQ(gateway_answer(b.view, other_address), "not gateway");
  uint8_t addr[16] = {10, 0, 0, 9};
  EXPECT_TRUE(gateway_listens(b.view, 4, addr, 80));
  EXPECT_FALSE(gateway_listens(b.view, 4, addr, 81));
  EXPECT_FALSE(gateway_listens(b.view, 6, addr, 80));
  EXPECT_FALSE(gateway_listens(b.view, 4, nullptr, 80));
}

TEST(GatewayLookup, AnIngressOnlyTableHasNoGatewayListener) {
  testing::TableBuilder t;
  uint32_t a = t.backend("ns/a", {"10.0.0.1:80"});
  t.host("").prefix("/", a);
  auto b = build(t.input());
  EXPECT_EQ(b.view.gateway_listener_count(), 0u);
  EXPECT_EQ(gateway_answer(b.view, req("a.com")), "not gateway");
  uint8_t addr[16] = {10, 0, 0, 9};
  EXPECT_FALSE(gateway_listens(b.view, 4, addr, 80));
  EXPECT_EQ(testing::route(b.view, "a.com", "/"), "ns/a");
}

TEST(GatewayLookup, GatewaysOnTwoAddressesWithTheSameListenersStayApart) {
  GatewayBuilder g;
  uint32_t one = g.to(g.backend("ns/one"));
  uint32_t two = g.to(g.backend("ns/two"));
  uint32_t six = g.to(g.backend("ns/six"));
  // Given in text order, not the table's (10.0.0.10 is above 10.0.0.9).
  g.listener("2001:db8::9", 80, "", "ns/gw6").prefix("/", six);
  g.listener("10.0.0.10", 80, "", "ns/two").prefix("/", two);
  g.listener("10.0.0.9", 80, "", "ns/one").prefix("/", one);
  auto b = build(g.input());
  const TableView& v = b.view;
  TestRequest r = req("a.example.com");
  EXPECT_EQ(gateway_answer(v, r), "ns/one");
  r.address = "10.0.0.10";
  EXPECT_EQ(gateway_answer(v, r), "ns/two");
  r.address = "2001:db8::9";
  EXPECT_EQ(gateway_answer(v, r), "ns/six");
  r.address = "2001:db8::10";
  EXPECT_EQ(gateway_answer(v, r), "not gateway");
  // The table is sorted by (family, address, port).
  ASSERT_EQ(v.gateway_listener_count(), 3u);
  EXPECT_EQ(v.str(v.gateway_listener(0).gateway), "ns/one");
  EXPECT_EQ(v.str(v.gateway_listener(1).gateway), "ns/two");
  EXPECT_EQ(v.str(v.gateway_listener(2).gateway), "ns/gw6");
  // An IPv4 request whose unused bytes are not zero is the same address.
  TestRequest dirty = req("a.example.com");
  dirty.family = 4;
  uint8_t bytes[16] = {10, 0, 0, 10, 0xAA, 0xBB};
  std::memcpy(dirty.bytes, bytes, 16);
  EXPECT_EQ(gateway_answer(v, dirty), "ns/two");
}

// In a cluster a pod has one address: Gateways are told apart by port, on
// listeners of every local address ("*"), of either family.
TEST(GatewayLookup, ListenersOnEveryAddressAreToldApartByPortAndAnExactAddressComesFirst) {
  GatewayBuilder g;
  uint32_t one = g.to(g.backend("ns/one"));
  uint32_t two = g.to(g.backend("ns/two"));
  uint32_t own = g.to(g.backend("ns/own"));
  g.listener("*", 20001, "", "ns/two", 80).prefix("/", two);
  g.listener("10.0.0.9", 20000, "", "ns/own", 80).prefix("/", own);
  g.listener("*", 20000, "", "ns/one", 80).prefix("/", one);
  g.listener("*", 20000, "a.example.com", "ns/one", 80).prefix("/", one);
  auto b = build(g.input());
  const TableView& v = b.view;
  // Sorted: every address (family 0) before the addresses, by port.
  ASSERT_EQ(v.gateway_listener_count(), 4u);
  EXPECT_EQ(v.gateway_listener(0).family, kAnyAddressFamily);
  EXPECT_EQ(v.gateway_listener(0).port, 20000);
  EXPECT_EQ(v.gateway_listener(2).port, 20001);
  EXPECT_EQ(v.gateway_listener(3).family, 4);

  TestRequest r = req("a.example.com");
  r.address = "10.1.2.3";
  r.port = 20000;
  EXPECT_EQ(gateway_answer(v, r), "ns/one");
  r.port = 20001;
  EXPECT_EQ(gateway_answer(v, r), "ns/two");
  r.address = "2001:db8::5";
  EXPECT_EQ(gateway_answer(v, r), "ns/two");
  r.port = 20002;
  EXPECT_EQ(gateway_answer(v, r), "not gateway");
  // A listener on the connection's own address and port takes it; the ones
  // on every address do not add to it.
  r.address = "10.0.0.9";
  r.port = 20000;
  EXPECT_EQ(gateway_answer(v, r), "ns/own");
  r.port = 20001;
  EXPECT_EQ(gateway_answer(v, r), "ns/two");
  uint8_t addr[16] = {192, 168, 0, 1};
  EXPECT_TRUE(gateway_listens(v, 4, addr, 20000));
  EXPECT_TRUE(gateway_listens(v, 4, addr, 20001));
  EXPECT_FALSE(gateway_listens(v, 4, addr, 20002));
  EXPECT_FALSE(gateway_listens(v, 0, addr, 20000));  // a request has a family
}

TEST(GatewayLookup, TheFirstEntryInTableOrderWins) {
  GatewayBuilder g;
  uint32_t a = g.to(g.backend("ns/a"));
  uint32_t p = g.to(g.backend("ns/p"));
  uint32_t root = g.to(g.backend("ns/root"));
  uint32_t host = g.to(g.backend("ns/host"));
  g.listener("10.0.0.9", 80, "*.example.com")
      .prefix("/h", host, "a.example.com")
      .exact("/foo", a)
      .prefix("/foo/", p)
      .prefix("/", root);
  // The same rules, "/" first: it takes everything.
  g.listener("10.0.0.9", 81, "").prefix("/", root).exact("/foo", a);
  auto b = build(g.input());
  const TableView& v = b.view;
  struct Case {
    const char* host;
    const char* path;
    const char* want;
  } cases[] = {
      {"x.example.com", "/foo", "ns/a"},
      {"x.example.com", "/foo/", "ns/p"},
      {"x.example.com", "/foo/bar", "ns/p"},
      {"x.example.com", "/foobar", "ns/root"},
      {"x.example.com", "/Foo", "ns/root"},
      {"x.example.com", "/bar/../foo", "ns/a"},
      {"x.example.com", "foo", "ns/a"},
      {"x.example.com", "/foo/./", "ns/p"},
      // An entry's own hostname: a.example.com's /h; then the listener's other entries.
      {"a.example.com", "/h/x", "ns/host"},
      {"b.example.com", "/h/x", "ns/root"},
      {"a.example.com", "/foo", "ns/a"},
  };
  for (const Case& c : cases) EXPECT_EQ(gateway_answer(v, req(c.host, c.path)), c.want) << c.host << c.path;
  TestRequest r = req("x.example.com", "/foo");
  r.port = 81;
  EXPECT_EQ(gateway_answer(v, r), "ns/root");
}

TEST(GatewayLookup, PathPrefixIsElementWiseAndIgnoresOneTrailingSlash) {
  struct Case {
    GatewayPathType type;
    const char* value;
    const char* path;
    bool match;
  } cases[] = {
      {GatewayPathType::kPathPrefix, "/abc", "/abc", true},
      {GatewayPathType::kPathPrefix, "/abc", "/abc/", true},
      {GatewayPathType::kPathPrefix, "/abc", "/abc/def", true},
      {GatewayPathType::kPathPrefix, "/abc", "/abcd", false},
      {GatewayPathType::kPathPrefix, "/abc/", "/abc", true},
      {GatewayPathType::kPathPrefix, "/abc/", "/abc/def", true},
      {GatewayPathType::kPathPrefix, "/abc/", "/abcd", false},
      {GatewayPathType::kPathPrefix, "/", "/", true},
      {GatewayPathType::kPathPrefix, "/", "/anything", true},
      {GatewayPathType::kExact, "/abc", "/abc", true},
      {GatewayPathType::kExact, "/abc", "/abc/", false},
      {GatewayPathType::kExact, "/abc/", "/abc", false},
      {GatewayPathType::kExact, "/abc", "/ABC", false},
  };
  for (const Case& c : cases) {
    GatewayBuilder g;
    uint32_t a = g.to(g.backend("ns/a"));
    g.listener("10.0.0.9", 80, "").entry("", c.type, c.value, a);
    auto b = build(g.input());
    EXPECT_EQ(gateway_answer(b.view, req("h.com", c.path)) == "ns/a", c.match) << c.value << " " << c.path;
  }
}

TEST(GatewayLookup, MethodHeaderAndQueryMatches) {
  GatewayBuilder g;
  uint32_t post = g.to(g.backend("ns/post"));
  uint32_t hdr = g.to(g.backend("ns/header"));
  uint32_t query = g.to(g.backend("ns/query"));
  uint32_t empty = g.to(g.backend("ns/empty"));
  uint32_t rest = g.to(g.backend("ns/rest"));
  g.listener("10.0.0.9", 80, "");
  g.prefix("/", post).last_entry().method = "POST";
  g.prefix("/", hdr).last_entry().headers = {{"x-env", "prod"}, {"x-team", "a,b"}};
  g.prefix("/", query).last_entry().query_params = {{"debug", "1"}};
  g.prefix("/", empty).last_entry().query_params = {{"flag", ""}};
  g.prefix("/", rest);
  auto b = build(g.input());
  const TableView& v = b.view;
  auto with = [](auto change) {
    TestRequest r = req("h.com");
    change(r);
    return r;
  };
  EXPECT_EQ(gateway_answer(v, with([](TestRequest& r) { r.method = "POST"; })), "ns/post");
  EXPECT_EQ(gateway_answer(v, with([](TestRequest& r) { r.method = "post"; })), "ns/rest");
  EXPECT_EQ(gateway_answer(v, with([](TestRequest& r) { r.headers = {{"X-Env", "prod"}, {"x-team", "a,b"}}; })),
            "ns/header");
  // A repeated header is its values joined with ','.
  EXPECT_EQ(gateway_answer(v, with([](TestRequest& r) {
              r.headers = {{"x-env", "prod"}, {"X-Team", "a"}, {"x-team", "b"}};
            })),
            "ns/header");
  EXPECT_EQ(gateway_answer(v, with([](TestRequest& r) { r.headers = {{"x-env", "prod"}}; })), "ns/rest");
  EXPECT_EQ(gateway_answer(v, with([](TestRequest& r) { r.headers = {{"x-env", "Prod"}, {"x-team", "a,b"}}; })),
            "ns/rest");
  EXPECT_EQ(gateway_answer(v, with([](TestRequest& r) { r.query = "debug=1"; })), "ns/query");
  EXPECT_EQ(gateway_answer(v, with([](TestRequest& r) { r.query = "a=2&debug=1&b"; })), "ns/query");
  // The first of a repeated parameter; nothing decoded.
  EXPECT_EQ(gateway_answer(v, with([](TestRequest& r) { r.query = "debug=2&debug=1"; })), "ns/rest");
  EXPECT_EQ(gateway_answer(v, with([](TestRequest& r) { r.query = "debug=%31"; })), "ns/rest");
  EXPECT_EQ(gateway_answer(v, with([](TestRequest& r) { r.query = "Debug=1"; })), "ns/rest");
  EXPECT_EQ(gateway_answer(v, with([](TestRequest& r) { r.query = "debug=1=2"; })), "ns/rest");
  // A parameter without '=' has the value "".
  EXPECT_EQ(gateway_answer(v, with([](TestRequest& r) { r.query = "x=1&flag"; })), "ns/empty");
  EXPECT_EQ(gateway_answer(v, with([](TestRequest& r) { r.query = "flag="; })), "ns/empty");
  EXPECT_EQ(gateway_answer(v, with([](TestRequest& r) { r.query = "flags"; })), "ns/rest");
  // No callback: no header is there.
  TestRequest r = req("h.com");
  GatewayRequest gr = testing::gateway_request(r);
  gr.header_equals = nullptr;
  EXPECT_EQ(v.str(v.backend(gateway_lookup(v, gr, 0).backend).service), "ns/rest");
}

TEST(GatewayLookup, WeightsSplitRequestsAndZeroIsNeverChosen) {
  GatewayBuilder g;
  uint32_t a = g.backend("ns/a");
  uint32_t zero = g.backend("ns/zero");
  uint32_t c = g.backend("ns/c");
  uint32_t r = g.rule("ns/split", {choice(a, 70), choice(zero, 0), choice(c, 30)});
  g.listener("10.0.0.9", 80, "").prefix("/", r);
  auto b = build(g.input());
  const TableView& v = b.view;
  // random % 100 over the choices of weight > 0, in order.
  EXPECT_EQ(gateway_answer(v, req("h.com"), 0), "ns/a");
  EXPECT_EQ(gateway_answer(v, req("h.com"), 69), "ns/a");
  EXPECT_EQ(gateway_answer(v, req("h.com"), 70), "ns/c");
  EXPECT_EQ(gateway_answer(v, req("h.com"), 99), "ns/c");
  EXPECT_EQ(gateway_answer(v, req("h.com"), 100), "ns/a");
  std::mt19937 gen(12345);
  int counts[3] = {};
  for (int i = 0; i < 10000; ++i) {
    std::string s = gateway_answer(v, req("h.com"), uint32_t(gen()));
    counts[s == "ns/a" ? 0 : s == "ns/zero" ? 1 : 2]++;
  }
  EXPECT_NEAR(counts[0], 7000, 200);
  EXPECT_NEAR(counts[2], 3000, 200);
  EXPECT_EQ(counts[1], 0);
}

TEST(GatewayLookup, FailureInvalidBackendAndNoEndpoints) {
  GatewayBuilder g;
  uint32_t ok = g.backend("ns/ok");
  uint32_t empty = g.backend("ns/empty", {});
  uint32_t gone = g.backend("ns/gone", {});
  g.input().backends[gone].problem = "service ns/gone has no port 80";
  uint32_t failing = g.rule("ns/broken", {choice(kNone, 1, "backendRef ns/x: Service not found")});
  g.input().gateway_rules[failing].failure = "every backendRef of the rule is invalid";
  uint32_t half = g.rule("ns/half", {choice(ok, 50), choice(kNone, 50, "backendRef ns/y: RefNotPermitted")});
  uint32_t none = g.rule("ns/none", {choice(empty)});
  uint32_t problem = g.rule("ns/problem", {choice(gone)});
  g.listener("10.0.0.9", 80, "").prefix("/fail", failing).prefix("/half", half).prefix("/none", none).prefix(
      "/problem", problem);
  auto b = build(g.input());
  const TableView& v = b.view;
  EXPECT_EQ(gateway_answer(v, req("h.com", "/fail")), "500 the rule has no valid backend: every backendRef of the rule is invalid");
  EXPECT_EQ(gateway_answer(v, req("h.com", "/half"), 49), "ns/ok");
  EXPECT_EQ(gateway_answer(v, req("h.com", "/half"), 50), "500 the backend is invalid: backendRef ns/y: RefNotPermitted");
  EXPECT_EQ(gateway_answer(v, req("h.com", "/none")), "503 no ready endpoints for this backend");
  EXPECT_EQ(gateway_answer(v, req("h.com", "/problem")), "503 the backend cannot serve: service ns/gone has no port 80");
  TestRequest r = req("h.com", "/none");
  GatewayMatch m = gateway_lookup(v, testing::gateway_request(r), 0);
  EXPECT_EQ(m.backend, empty);
  EXPECT_EQ(v.str(v.gateway_rule(m.rule).route), "ns/none");
  EXPECT_NE(m.choice, kNone);
}

TEST(GatewayLookup, AmbiguousAndTooLongPaths) {
  GatewayBuilder g;
  uint32_t a = g.to(g.backend("ns/a"));
  g.listener("10.0.0.9", 80, "x.com").prefix("/", a);
  auto b = build(g.input());
  EXPECT_EQ(gateway_answer(b.view, req("x.com", "/a/..;x/b")), "400");
  EXPECT_EQ(gateway_answer(b.view, req("y.com", "/a/..;x/b")), "400");
  EXPECT_EQ(gateway_answer(b.view, req("x.com", "/" + std::string(kMaxPathLength, 'a'))), "404 path too long");
  TestRequest r = req("x.com", "/a/..;x/b");
  GatewayMatch m = gateway_lookup(b.view, testing::gateway_request(r), 0);
  char text[256];
  size_t n = gateway_outcome_text(b.view, m, text, sizeof text);
  EXPECT_EQ(std::string(text, n).rfind("ambiguous path: ", 0), 0u) << text;
  EXPECT_EQ(m.listener, 0u);
}

// A rule on "/foo" of listener 10.0.0.9:<port> redirecting with `f`, to
// the Location a request gets.
std::string location(const InputFilter& f, const std::string& path, const std::string& query = "",
                     bool client_tls = false, uint16_t listener_port = 80, const std::string& host = "a.example.com",
                     const std::string& prefix = "/foo") {
  GatewayBuilder g;
  uint32_t r = g.rule("ns/moved", {}, {f});
  g.listener("10.0.0.9", 80, "", "ns/gw", listener_port).prefix(prefix, r);
  auto b = build(g.input());
  TestRequest q = req(host, path);
  q.query = query;
  return gateway_answer(b.view, q, 0, client_tls);
}

TEST(GatewayRedirect, SchemeHostnameAndPort) {
  using testing::redirect;
  struct Case {
    InputFilter filter;
    bool client_tls;
    uint16_t listener_port;
    const char* want;
  } cases[] = {
      // No scheme, no port: the request's scheme and the listener's port.
      {redirect(302), false, 80, "redirect 302 http://a.example.com/foo/x"},
      {redirect(302), false, 8080, "redirect 302 http://a.example.com:8080/foo/x"},
      {redirect(302), true, 443, "redirect 302 https://a.example.com/foo/x"},
      {redirect(302), true, 80, "redirect 302 https://a.example.com:80/foo/x"},
      // A scheme and no port: the scheme's well-known one, left out.
      {redirect(301, "https"), false, 8080, "redirect 301 https://a.example.com/foo/x"},
      {redirect(301, "http"), true, 8443, "redirect 301 http://a.example.com/foo/x"},
      // A port: written unless it is the scheme's.
      {redirect(308, "https", "", 8443), false, 80, "redirect 308 https://a.example.com:8443/foo/x"},
      {redirect(308, "https", "", 443), false, 80, "redirect 308 https://a.example.com/foo/x"},
      {redirect(308, "http", "", 443), false, 80, "redirect 308 http://a.example.com:443/foo/x"},
      {redirect(307, "", "", 80), true, 443, "redirect 307 https://a.example.com:80/foo/x"},
      {redirect(307, "", "", 80), false, 443, "redirect 307 http://a.example.com/foo/x"},
      // A hostname.
      {redirect(303, "", "b.example.org"), false, 80, "redirect 303 http://b.example.org/foo/x"},
  };
  for (const Case& c : cases)
    EXPECT_EQ(location(c.filter, "/foo/x", "", c.client_tls, c.listener_port), c.want) << c.want;
  // The request's host, normalized; the query as sent.
  EXPECT_EQ(location(redirect(302), "/foo/x", "a=1&b", false, 80, "A.Example.COM:8080."),
            "redirect 302 http://a.example.com/foo/x?a=1&b");
  EXPECT_EQ(location(redirect(302), "/foo", "", false, 80, "[2001:DB8::1]:80"), "redirect 302 http://[2001:db8::1]/foo");
  // A host that cannot stand in a URL: no Location.
  EXPECT_EQ(location(redirect(302), "/foo", "", false, 80, "a@b.com"), "redirect 302 ");
  EXPECT_EQ(location(redirect(302), "/foo", "", false, 80, "a b"), "redirect 302 ");
  EXPECT_EQ(location(redirect(302), "/foo", "", false, 80, ""), "redirect 302 ");
  // But a filter's hostname stands for it.
  EXPECT_EQ(location(redirect(302, "", "ok.com"), "/foo", "", false, 80, ""), "redirect 302 http://ok.com/foo");
}

TEST(GatewayRedirect, PathModifiers) {
  using testing::redirect;
  auto full = [](const std::string& v) { return redirect(302, "", "", 0, kFull, v); };
  auto pre = [](const std::string& v) { return redirect(302, "", "", 0, kPrefix, v); };
  const std::string at = "redirect 302 http://a.example.com";
  EXPECT_EQ(location(full("/new"), "/foo/x", "q=1"), at + "/new?q=1");
  EXPECT_EQ(location(full(""), "/foo/x"), at + "/");
  // HTTPPathModifier's table for ReplacePrefixMatch.
  struct Case {
    const char* prefix;
    const char* replacement;
    const char* path;
    const char* want;
  } cases[] = {
      {"/foo", "/xyz", "/foo/bar", "/xyz/bar"},
      {"/foo", "/xyz/", "/foo/bar", "/xyz/bar"},
      {"/foo/", "/xyz", "/foo/bar", "/xyz/bar"},
      {"/foo/", "/xyz/", "/foo/bar", "/xyz/bar"},
      {"/foo", "/xyz", "/foo", "/xyz"},
      {"/foo", "/xyz", "/foo/", "/xyz/"},
      {"/foo", "", "/foo/bar", "/bar"},
      {"/foo", "", "/foo/", "/"},
      {"/foo", "", "/foo", "/"},
      {"/foo", "/", "/foo/", "/"},
      {"/foo", "/", "/foo", "/"},
      {"/foo", "/", "/foo/baz", "/baz"},
      {"/foo", "/bar", "/foo/baz", "/bar/baz"},
      {"/foo", "/bar", "/foo", "/bar"},
      // The prefix "/" matches no element: the path goes under the replacement.
      {"/", "/bar", "/x/y", "/bar/x/y"},
      {"/", "/bar", "/", "/bar"},
      {"/", "/", "/x", "/x"},
  };
  for (const Case& c : cases)
    EXPECT_EQ(location(pre(c.replacement), c.path, "", false, 80, "a.example.com", c.prefix), at + c.want)
        << c.prefix << " " << c.replacement << " " << c.path;
  // Normalized request path, query kept.
  EXPECT_EQ(location(pre("/v2"), "/foo/a/../b", "x=%2F"), at + "/v2/b?x=%2F");
}

TEST(GatewayRedirect, AChoicesRedirectAnswersTooAndTheRulesComesFirst) {
  using testing::redirect;
  GatewayBuilder g;
  uint32_t a = g.backend("ns/a");
  InputGatewayChoice moved = choice(a, 1);
  moved.filters = {redirect(301, "https")};
  uint32_t r = g.rule("ns/r", {moved});
  uint32_t both = g.rule("ns/both", {moved}, {redirect(302, "", "rule.com")});
  g.listener("10.0.0.9", 80, "").prefix("/both", both).prefix("/", r);
  auto b = build(g.input());
  EXPECT_EQ(gateway_answer(b.view, req("a.com", "/x")), "redirect 301 https://a.com/x");
  EXPECT_EQ(gateway_answer(b.view, req("a.com", "/both")), "redirect 302 http://rule.com/both");
  // A rule's redirect chooses no backend.
  TestRequest q = req("a.com", "/both");
  GatewayMatch m = gateway_lookup(b.view, testing::gateway_request(q), 0);
  EXPECT_EQ(m.outcome, GatewayOutcome::kRedirect);
  EXPECT_EQ(m.choice, kNone);
  EXPECT_EQ(m.backend, kNone);
}

TEST(GatewayRewrite, ThePathSentUpstreamAndTheFiltersInOrder) {
  using testing::request_headers;
  using testing::rewrite;
  GatewayBuilder g;
  uint32_t a = g.backend("ns/a");
  InputGatewayChoice c = choice(a);
  c.filters = {request_headers({{"x-choice", "1"}}), rewrite(kFull, "/choice")};
  uint32_t prefix = g.rule("ns/p", {choice(a)}, {request_headers({{"X-Rule", "1"}}), rewrite(kPrefix, "/bar")});
  uint32_t host_only = g.rule("ns/h", {choice(a)}, {rewrite(PathModifierKind::kNone, "", "in.svc")});
  uint32_t by_choice = g.rule("ns/c", {c});
  g.listener("10.0.0.9", 80, "").prefix("/foo", prefix).prefix("/host", host_only).prefix("/c", by_choice);
  auto b = build(g.input());
  const TableView& v = b.view;
  auto rewritten = [&](const std::string& path) -> std::string {
    TestRequest q = req("a.com", path);
    GatewayRequest gr = testing::gateway_request(q);
    GatewayMatch m = gateway_lookup(v, gr, 0);
    EXPECT_EQ(m.outcome, GatewayOutcome::kRouted) << path;
    char buf[64];
    size_t n = gateway_rewritten_path(v, m, gr, buf, sizeof buf);
    if (n == SIZE_MAX) return "none";
    return std::string(buf, n);
  };
  EXPECT_EQ(rewritten("/foo/x/y"), "/bar/x/y");
  EXPECT_EQ(rewritten("/foo"), "/bar");
  EXPECT_EQ(rewritten("/host/x"), "none");
  EXPECT_EQ(rewritten("/c/x"), "/choice");
  // Cut like snprintf, with the whole length returned.
  {
    TestRequest q = req("a.com", "/foo/" + std::string(100, 'z'));
    GatewayRequest gr = testing::gateway_request(q);
    GatewayMatch m = gateway_lookup(v, gr, 0);
    char buf[8];
    EXPECT_EQ(gateway_rewritten_path(v, m, gr, buf, sizeof buf), 105u);
    EXPECT_STREQ(buf, "/bar/zz");
  }
  // The rule's filters, then the chosen backend's.
  TestRequest q = req("a.com", "/c");
  GatewayMatch m = gateway_lookup(v, testing::gateway_request(q), 0);
  std::vector<std::string> seen;
  for_each_gateway_filter(v, m, [&](const GatewayFilterRecord& f) {
    seen.push_back(std::to_string(f.kind) +
                   (f.set_count ? ":" + std::string(v.str(v.gateway_pair(f.first_set).name)) : ""));
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"1:x-choice", "4"}));
  q = req("a.com", "/foo");
  m = gateway_lookup(v, testing::gateway_request(q), 0);
  seen.clear();
  for_each_gateway_filter(v, m, [&](const GatewayFilterRecord& f) {
    seen.push_back(std::to_string(f.kind) +
                   (f.set_count ? ":" + std::string(v.str(v.gateway_pair(f.first_set).name)) : ""));
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"1:X-Rule", "4"}));
  EXPECT_EQ(gateway_redirect_filter(v, m), nullptr);
}

}  // namespace
}  // namespace atsi
