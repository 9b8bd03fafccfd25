// The per-transaction words, the cache result a request is counted under,
// the next endpoint after a refused connection, and who may PURGE.
#include "txn_state.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <string>

#include "client_policy.h"
#include "decision.h"

namespace atsi::plugin {
namespace {

TEST(TxnState, RoundTripsAtEveryFieldsLimits) {
  for (TxnState s : {TxnState{kTxnRouted, 0, 0}, TxnState{0xff, 255, 65535}, TxnState{kTxnCounted | kTxnStorable, 7, 9}}) {
    TxnState back = unpack_state(pack_state(s));
    EXPECT_EQ(back.flags, s.flags);
    EXPECT_EQ(back.table, s.table);
    EXPECT_EQ(back.slot, s.slot);
    EXPECT_NE(pack_state(s), 0u);
  }
  EXPECT_EQ(unpack_state(0).flags, 0u) << "a transaction the plugin never touched";
}

TEST(TxnState, HopWordRoundTripsAndSaysWhatFits) {
  HopState h{0xbeef, 15, (1u << 20) - 1, (1u << 24) - 1};
  HopState back = unpack_hop(pack_hop(h));
  EXPECT_EQ(back.generation_tag, 0xbeefu);
  EXPECT_EQ(back.hop, 15u);
  EXPECT_EQ(back.first, (1u << 20) - 1);
  EXPECT_EQ(back.backend, (1u << 24) - 1);
  EXPECT_TRUE(fits_hop_word((1u << 24) - 1, (1u << 20) - 1));
  EXPECT_FALSE(fits_hop_word(1u << 24, 0));
  EXPECT_FALSE(fits_hop_word(0, 1u << 20));
  EXPECT_EQ(generation_tag(0x123456789ull), 0x6789u);
}

TEST(CacheResult, EachLookupOutcome) {
  EXPECT_EQ(cache_result(Lookup::kHitFresh, false), CacheResult::kHitFresh);
  EXPECT_EQ(cache_result(Lookup::kHitStale, false), CacheResult::kHitStale);
  EXPECT_EQ(cache_result(Lookup::kMiss, true), CacheResult::kMiss) << "a miss the cache will store";
  EXPECT_EQ(cache_result(Lookup::kMiss, false), CacheResult::kNotCacheable) << "a miss it will not";
  EXPECT_EQ(cache_result(Lookup::kSkipped, true), CacheResult::kNotCacheable);
  EXPECT_EQ(cache_result(Lookup::kNone, false), CacheResult::kNotCacheable) << "no lookup at all";
}

TEST(PlanHop, TriesEveryOtherEndpointOnceInTableOrder) {
  // Four endpoints, the balancer picked position 2: 2 (hop 0), then 3, 0, 1.
  EXPECT_EQ(plan_hop(0, 2, 4).kind, HopPlan::kPrepare);
  EXPECT_EQ(plan_hop(0, 2, 4).position, 3u);
  EXPECT_EQ(plan_hop(1, 2, 4).position, 0u);
  EXPECT_EQ(plan_hop(2, 2, 4).position, 1u);
  EXPECT_EQ(plan_hop(3, 2, 4).kind, HopPlan::kLast) << "the attempt on position 1 is the last";
  EXPECT_EQ(plan_hop(4, 2, 4).kind, HopPlan::kGiveUp) << "every endpoint failed";
}

TEST(PlanHop, OneEndpointIsTheLastAtOnce) {
  EXPECT_EQ(plan_hop(0, 0, 1).kind, HopPlan::kLast);
  EXPECT_EQ(plan_hop(1, 0, 1).kind, HopPlan::kGiveUp);
}

TEST(PlanHop, BoundedAndSafeOnNonsense) {
  EXPECT_EQ(plan_hop(kMaxHops - 2, 0, 1000).kind, HopPlan::kPrepare);
  EXPECT_EQ(plan_hop(kMaxHops - 1, 0, 1000).kind, HopPlan::kLast);
  EXPECT_EQ(plan_hop(kMaxHops, 0, 1000).kind, HopPlan::kGiveUp);
  EXPECT_EQ(plan_hop(0, 0, 0).kind, HopPlan::kGiveUp) << "no endpoint";
  EXPECT_EQ(plan_hop(0, 5, 3).kind, HopPlan::kGiveUp) << "a first position past the backend";
}

TEST(UnreachableBody, SaysWhichPodAndWhy) {
  EndpointRecord e{};
  e.family = 4;
  e.port = 8080;
  inet_pton(AF_INET, "10.0.0.2", e.address);
  char buf[256];
  size_t n = unreachable_body("ns/a", "http", 1, 1, &e, false, buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n), "502 the pod refused the connection (ns/a:http at 10.0.0.2:8080)\n");
  n = unreachable_body("ns/a", "80", 2, 3, &e, false, buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n),
            "502 no pod accepted the connection: 2 of 3 pods of ns/a:80 tried, the last at 10.0.0.2:8080 refused it\n");
  n = unreachable_body("ns/a", "80", 1, 2, &e, true, buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n), "502 the pod did not accept the connection in time (ns/a:80 at 10.0.0.2:8080)\n");
  e.family = 6;
  inet_pton(AF_INET6, "2001:db8::7", e.address);
  n = unreachable_body("ns/a", "80", 3, 3, &e, true, buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n),
            "502 no pod accepted the connection: 3 of 3 pods of ns/a:80 tried, the last at [2001:db8::7]:8080 timed out\n");
  n = unreachable_body("ns/a", "80", 1, 1, nullptr, false, buf, 10);
  EXPECT_EQ(n, 9u) << "cut to the buffer";
  EXPECT_EQ(std::string(buf), "502 the p");
}

TEST(RoutedUrlHost, TheHostAsMatchedNeverAnotherUrl) {
  char buf[kHostBufferSize];
  EXPECT_EQ(routed_url_host("A.Example.com:8080", buf), "a.example.com");
  EXPECT_EQ(routed_url_host("a.example.com.", buf), "a.example.com");
  EXPECT_EQ(routed_url_host("[2001:DB8::1]:80", buf), "[2001:db8::1]");
  EXPECT_EQ(routed_url_host("", buf), "");
  EXPECT_EQ(routed_url_host("a.com/x", buf), "") << "a character no host has";
}

TEST(CacheAdminMethod, PurgeAndPushInAnyCaseOnly) {
  for (const char* m : {"PURGE", "purge", "Purge", "PUSH", "push", "pUsH"}) EXPECT_TRUE(is_cache_admin_method(m)) << m;
  for (const char* m : {"GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "PATCH", "MOVE", "LOCK", "PURGEX", "PUS", "",
                        "PURG\xc5", "P\x15SH", "OPTIONS", "CONNECT"})
    EXPECT_FALSE(is_cache_admin_method(m)) << m;
}

sockaddr_storage v4(const char* a) {
  sockaddr_storage ss{};
  auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
  sin->sin_family = AF_INET;
  EXPECT_EQ(inet_pton(AF_INET, a, &sin->sin_addr), 1) << a;
  return ss;
}
sockaddr_storage v6(const char* a) {
  sockaddr_storage ss{};
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
  sin6->sin6_family = AF_INET6;
  EXPECT_EQ(inet_pton(AF_INET6, a, &sin6->sin6_addr), 1) << a;
  return ss;
}
bool loop(const sockaddr_storage& ss) { return is_loopback(reinterpret_cast<const sockaddr*>(&ss)); }

TEST(Loopback, TheWholeOf127And1AndTheirMappedForm) {
  for (const char* a : {"127.0.0.1", "127.0.0.0", "127.255.255.255", "127.1.2.3"}) EXPECT_TRUE(loop(v4(a))) << a;
  for (const char* a : {"126.255.255.255", "128.0.0.0", "10.0.0.1", "0.0.0.0", "192.168.1.127"})
    EXPECT_FALSE(loop(v4(a))) << a;
  for (const char* a : {"::1", "::ffff:127.0.0.1", "::ffff:127.200.0.9"}) EXPECT_TRUE(loop(v6(a))) << a;
  for (const char* a : {"::", "::2", "::ffff:10.0.0.1", "::ffff:128.0.0.1", "::127.0.0.1", "64:ff9b::127.0.0.1",
                        "fe80::1", "2001:db8::1", "::1:0:0:1"})
    EXPECT_FALSE(loop(v6(a))) << a;
  EXPECT_FALSE(is_loopback(nullptr));
  sockaddr_storage unix_addr{};
  unix_addr.ss_family = AF_UNIX;
  EXPECT_FALSE(loop(unix_addr));
}

}  // namespace
}  // namespace atsi::plugin
