// The plugin's pure per-request work allocates nothing: decide(), the cache
// key and the URL host, the transaction's words, the next-hop plan, and the
// count at TXN_CLOSE (the core's own alloc_test covers decide()'s parts and
// StatsWriter alone). Its own executable: it replaces operator new.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>

#include "cache_policy.h"
#include "client_policy.h"
#include "decision.h"
#include "stats_region.h"
#include "test_tables.h"
#include "txn_state.h"

namespace {
std::atomic<long> g_allocations{0};
thread_local bool t_counting = false;
}  // namespace

// GCC cannot see that these pair with the operator new below.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(size_t n) {
  if (t_counting) g_allocations++;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace atsi::plugin {
namespace {

TEST(HotPath, RoutingAndCountingARequestAllocateNothing) {
  testing::TableBuilder t;
  uint32_t b = t.backend("ns/app", {"10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080"});
  InputOptions& o = t.input().backends[b].options;
  o.cache_default_ttl_s = 60;
  o.cache_ignore_query = true;
  o.stats_slot = 9;
  t.host("app.example.com").prefix("/", b);
  testing::Built built = testing::build(t.input());
  Balancer balancer;
  balancer.reset(built.view, 1);

  const std::string name = "plugin-alloc-" + std::to_string(::getpid());
  StatsOptions so;
  so.max_slots = 64;
  so.max_threads = 1;
  std::unique_ptr<StatsWriter> writer;
  ASSERT_FALSE(StatsWriter::create(name, so, writer));
  writer->thread().count(0, 200, CacheResult::kMiss);  // the thread's first count claims its block

  const RequestFacts req{"App.Example.com:443", "assets/app.js", true};
  // A path that takes the copy: params, dot-segments, encoded characters.
  const RequestFacts spelt{"app.example.com", "%61ssets;v=2/../x/%2e%2E/app.js", false};
  char key[kMaxHostLength + kMaxPathLength + 64];
  char host_buf[kHostBufferSize];
  char body[512];
  uint64_t sum = 0;
  g_allocations = 0;
  t_counting = true;
  for (int i = 0; i < 1000; ++i) {
    Decision d = decide(&built.view, balancer, req, false);
    sum += decide(&built.view, balancer, spelt, false).status;
    std::string_view host = routed_url_host(req.host, host_buf);
    sum += cache_key_url(host, req, d.options, "v=3", key, sizeof key);
    CacheOverrides c = cache_overrides(d.options);
    sum += uint64_t(c.heuristic_max_lifetime);
    const BackendRecord& br = built.view.backend(d.match.backend);
    const uint32_t position = uint32_t(d.endpoint - &built.view.endpoint(0)) - br.first_endpoint;
    uintptr_t hop = pack_hop(HopState{generation_tag(built.view.generation()), 0, position, d.match.backend});
    HopPlan plan = plan_hop(unpack_hop(hop).hop, position, br.endpoint_count);
    sum += plan.position + is_cache_admin_method("GET");
    TxnState st = unpack_state(pack_state(TxnState{kTxnRouted | kTxnCounted, 0, d.options.stats_slot}));
    writer->thread().count(st.slot, 200, cache_result(Lookup(i % 4), (i & 1) != 0));
    // The failure path's body, too.
    sum += unreachable_body("ns/app", "8080", 2, 3, d.endpoint, false, body, sizeof body);
  }
  t_counting = false;
  EXPECT_EQ(g_allocations.load(), 0);
  EXPECT_GT(sum, 0u);
  remove_stats(name);
}

}  // namespace
}  // namespace atsi::plugin
