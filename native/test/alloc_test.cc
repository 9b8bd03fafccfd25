// The hot path allocates nothing: lookups (the Gateway API's too, with its
// redirect Location and rewritten path), endpoint picks, the per-request
// generation check and the outcome text of 404 and 503 answers, and on the
// TLS side the SNI lookup and the generation check, counted by replacing the
// global operator new. Also: the decoders allocate nothing for a count their
// input cannot hold.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <thread>

#include "gateway_tables.h"
#include "model_decoder.h"
#include "model_encoder.h"
#include "publisher.h"
#include "stats_region.h"
#include "table_source.h"
#include "test_tables.h"
#include "tls_decoder.h"
#include "tls_encoder.h"

namespace {
std::atomic<long> g_allocations{0};
std::atomic<size_t> g_bytes{0};
thread_local bool t_counting = false;
}  // namespace

// GCC cannot see that these pair with the operator new above.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(size_t n) {
  if (t_counting) {
    g_allocations++;
    g_bytes += n;
  }
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace atsi {
namespace {

TEST(HotPath, LookupPickAndGenerationCheckDoNotAllocate) {
  testing::TableBuilder t;
  uint32_t a = t.backend("ns/a", {"10.0.0.1:80", "10.0.0.2:80", "[2001:db8::1]:80"});
  uint32_t w = t.backend("ns/w", {"10.0.0.3:80*3", "10.0.0.4:80*1"});
  for (int h = 0; h < 50; ++h) {
    t.host("h" + std::to_string(h) + ".example.com").prefix("/api", a).exact("/exact", w).prefix("/", w);
  }
  t.host("*.wild.com").prefix("/", a);
  std::string name = "t-alloc-" + std::to_string(::getpid());
  std::unique_ptr<Publisher> pub;
  ASSERT_FALSE(Publisher::open(name, pub));
  PublishResult r;
  ASSERT_FALSE(pub->publish(t.input(), now_ms(), r));
  TableSource source(name);
  source.refresh();
  ReaderCursor cursor(source, 1);
  ASSERT_NE(cursor.get(), nullptr);  // the first call maps and sizes the balancer

  const char* hosts[] = {"H7.example.com:8080", "x.wild.com", "nowhere.org", "h49.example.com."};
  const char* paths[] = {"/api/v1/items?x=1", "/exact", "/a/../api/b", "/", "/%2e%2e/api"};
  long routed = 0;
  g_allocations = 0;
  t_counting = true;
  for (int i = 0; i < 10000; ++i) {
    const MappedTable* table = cursor.get();
    Match m = lookup(table->view(), hosts[i % 4], paths[i % 5]);
    if (m.outcome == Outcome::kRouted && cursor.balancer().pick(table->view(), m.backend) != kNone) ++routed;
  }
  t_counting = false;
  EXPECT_EQ(g_allocations.load(), 0);
  EXPECT_GT(routed, 5000);
  pub->remove_all();
}

TEST(HotPath, OutcomeTextDoesNotAllocate) {
  testing::TableBuilder t;
  uint32_t a = t.backend("ns/a", {"10.0.0.1:80"});
  uint32_t none = t.backend("ns/none", {});
  uint32_t gone = t.backend("ns/gone", {});
  t.input().backends[gone].problem = "service ns/gone does not exist, and this text is long enough to be cut";
  t.host("a.com").prefix("/a", a).prefix("/none", none).prefix("/gone", gone);
  auto built = testing::build(t.input());
  const char* hosts[] = {"a.com", "b.com"};
  const char* paths[] = {"/a", "/none", "/gone/x", "/other"};
  char small[16], big[256];
  size_t total = 0;
  g_allocations = 0;
  t_counting = true;
  for (int i = 0; i < 10000; ++i) {
    Match m = lookup(built.view, hosts[i % 2], paths[i % 4]);
    total += outcome_text(built.view, m, big, sizeof big);
    total += outcome_text(built.view, m, small, sizeof small);
  }
  t_counting = false;
  EXPECT_EQ(g_allocations.load(), 0);
  EXPECT_GT(total, 0u);
}

TEST(HotPath, GatewayLookupsRedirectsAndRewritesDoNotAllocate) {
  using namespace testing;
  GatewayBuilder g;
  uint32_t a = g.backend("ns/a");
  uint32_t none = g.backend("ns/none", {});
  uint32_t split = g.rule("ns/split", {choice(a, 70), choice(kNone, 10, "backendRef ns/x: not found"), choice(none, 20)},
                          {request_headers({{"x-a", "1"}}), rewrite(PathModifierKind::kReplacePrefixMatch, "/v2")});
  uint32_t moved = g.rule("ns/moved", {}, {redirect(301, "https", "", 0, PathModifierKind::kReplacePrefixMatch, "/new")});
  g.listener("10.0.0.9", 80, "*.example.com").prefix("/old", moved).prefix("/api", split);
  g.last_entry().headers = {{"x-env", "prod"}};
  g.last_entry().query_params = {{"v", "1"}};
  g.prefix("/", split);
  g.listener("10.0.0.9", 80, "a.example.com").exact("/only", split);
  // On every local address of port 81 (the second search of the lookup).
  g.listener("*", 81, "").prefix("/", split);
  auto built = build(g.input());
  const TableView& v = built.view;
  TestRequest requests[4];
  const char* hosts[] = {"X.example.com:80", "a.example.com", "b.c.example.com", "nowhere.org"};
  const char* paths[] = {"/old/x/../y", "/api/items", "/only", "/%61pi/x"};
  for (int i = 0; i < 4; ++i) {
    requests[i].host = hosts[i];
    requests[i].path = paths[i];
    requests[i].query = "v=1&w";
    requests[i].headers = {{"X-Env", "prod"}};
  }
  requests[3].port = 81;
  GatewayRequest reqs[4];
  for (int i = 0; i < 4; ++i) reqs[i] = gateway_request(requests[i]);
  char buf[256];
  size_t total = 0;
  long routed = 0;
  g_allocations = 0;
  t_counting = true;
  for (uint32_t i = 0; i < 10000; ++i) {
    const GatewayRequest& r = reqs[i % 4];
    GatewayMatch m = gateway_lookup(v, r, i * 2654435761u);
    if (m.outcome == GatewayOutcome::kRouted) ++routed;
    total += gateway_outcome_text(v, m, buf, sizeof buf);
    if (m.outcome == GatewayOutcome::kRedirect) total += gateway_redirect_location(v, m, r, i % 2, buf, sizeof buf);
    size_t n = gateway_rewritten_path(v, m, r, buf, sizeof buf);
    if (n != SIZE_MAX) total += n;
    for_each_gateway_filter(v, m, [&](const GatewayFilterRecord& f) { total += f.set_count; });
    total += gateway_listens(v, r.family, r.address, r.port);
  }
  t_counting = false;
  EXPECT_EQ(g_allocations.load(), 0);
  EXPECT_GT(routed, 1000);
  EXPECT_GT(total, 0u);
}

TEST(HotPath, TheOptionsOfABackendDoNotAllocate) {
  testing::TableBuilder t;
  uint32_t all = t.backend("ns/all", {"10.0.0.1:80"});
  uint32_t none = t.backend("ns/none", {"10.0.0.2:80"});
  testing::set_every_option(t.input().backends[all].options, /*redirect_to_https=*/true);
  t.host("a.com").prefix("/", all).prefix("/none", none);
  auto built = testing::build(t.input());
  uint64_t sum = 0;
  g_allocations = 0;
  t_counting = true;
  for (int i = 0; i < 10000; ++i) {
    BackendOptionsView v = built.view.options(built.view.backend(uint32_t(i % 2)));
    sum += v.cache_default_ttl_s + v.cache_generation + v.stats_slot + v.upstream_host.size() + v.present;
  }
  t_counting = false;
  EXPECT_EQ(g_allocations.load(), 0);
  EXPECT_GT(sum, 0u);
}

TEST(ModelDecoderAllocation, AHugeCountAllocatesNothingForIt) {
  testing::TableBuilder t;
  uint32_t b = t.backend("ns/a", {"10.0.0.1:8080"});
  t.host("a.com").prefix("/", b);
  testing::EncodedModel m = testing::encode_model(t.input());
  const uint32_t counts_at[] = {3, 19, 24, 28};  // backends, endpoints, hosts, rules
  for (uint32_t at : counts_at) {
    testing::EncodedModel bad = m;
    bad.ints[at] = 0xFFFFFFFFu;
    TableInput out;
    g_bytes = 0;
    t_counting = true;
    Error e = decode_model(bad.strings, bad.ints.data(), bad.ints.size(), out);
    t_counting = false;
    EXPECT_EQ(e.code, ErrorCode::kInvalidModel) << at;
    // The strings' views, what was decoded before the count, the message.
    EXPECT_LT(g_bytes.load(), 4096u) << at;
  }
}

TEST(HotPath, TlsLookupAndGenerationCheckDoNotAllocate) {
  TlsInput in = testing::sample_tls_input();
  for (int h = 0; h < 100; ++h) in.hosts.push_back({"h" + std::to_string(h) + ".example.org", 0, kNone});
  std::string name = "t-alloc-tls-" + std::to_string(::getpid());
  std::unique_ptr<TlsPublisher> pub;
  ASSERT_FALSE(TlsPublisher::open(name, pub));
  PublishResult r;
  ASSERT_FALSE(pub->publish(in, now_ms(), r));
  TlsSource source(name);
  source.refresh();
  TlsCursor cursor(source);
  ASSERT_NE(cursor.get(), nullptr);
  const char* names[] = {"A.example.com", "x.w.example.", "h42.example.org", "nowhere.org", ""};
  long found = 0;
  g_allocations = 0;
  t_counting = true;
  for (int i = 0; i < 10000; ++i) {
    const MappedTls* t = cursor.get();
    if (find_tls_host(t->view(), names[i % 5]) != kNone) ++found;
  }
  t_counting = false;
  EXPECT_EQ(g_allocations.load(), 0);
  EXPECT_EQ(found, 6000);
  pub->remove_all();
}

TEST(TlsDecoderAllocation, AHugeCountAllocatesNothingForIt) {
  testing::EncodedModel m = testing::encode_tls(testing::sample_tls_input());
  const uint32_t counts_at[] = {3, 16, 33};  // certificates, policies, hosts
  for (uint32_t at : counts_at) {
    testing::EncodedModel bad = m;
    bad.ints[at] = 0xFFFFFFFFu;
    TlsInput out;
    g_bytes = 0;
    t_counting = true;
    Error e = decode_tls(bad.strings, bad.ints.data(), bad.ints.size(), out);
    t_counting = false;
    EXPECT_EQ(e.code, ErrorCode::kInvalidModel) << at;
    EXPECT_LT(g_bytes.load(), 8192u) << at;
  }
}

TEST(HotPath, CountingRequestsDoesNotAllocate) {
  std::string name = "t-alloc-stats-" + std::to_string(::getpid());
  StatsOptions o;
  o.max_slots = 1024;
  o.max_threads = 1;
  std::unique_ptr<StatsWriter> writer;
  ASSERT_FALSE(StatsWriter::create(name, o, writer));
  writer->thread().count(0, 200, CacheResult::kMiss);  // the first use claims the block
  const uint32_t statuses[] = {200, 404, 503, 301, 0};  // 0: dropped
  g_allocations = 0;
  t_counting = true;
  for (uint32_t i = 0; i < 10000; ++i)
    writer->thread().count(i % 1100, statuses[i % 5], CacheResult(i % kCacheResultCount));
  t_counting = false;
  EXPECT_EQ(g_allocations.load(), 0);
  // A thread past max_threads, on the overflow block, does not either.
  std::thread([&] {
    writer->thread().count(1, 200, CacheResult::kHitFresh);
    t_counting = true;
    for (uint32_t i = 0; i < 1000; ++i) writer->thread().count(i % 1024, 200, CacheResult::kMiss);
    t_counting = false;
  }).join();
  EXPECT_EQ(g_allocations.load(), 0);
  remove_stats(name);
}

}  // namespace
}  // namespace atsi
