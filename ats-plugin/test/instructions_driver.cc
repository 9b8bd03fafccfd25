// The per-request work of the plugin's pure part for one routed request,
// repeated N times so that instructions_test.sh can count instructions per
// request under callgrind: decide() (lookup, the backend's option view, the
// endpoint pick), then what router.cc's apply_cache() computes from the
// options (the cache overrides, the cache key), the transaction's words
// (txn_state.h), the OS_DNS hook's plan for the next endpoint, and at
// TXN_CLOSE the cache result and the count into the per-route counters
// (StatsWriter, in a shared-memory object of this process's own). No ATS
// calls: those are the same few TSHttpTxnConfigIntSet stores, argument
// reads and writes and header reads either way.
//
//   instructions_driver all|none|count N
// "all": a backend with every option set, its stats slot among them;
// "none": one with none (not counted); "count": the TXN_CLOSE work alone.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <unistd.h>

#include <memory>

#include "cache_policy.h"
#include "decision.h"
#include "stats_region.h"
#include "test_tables.h"
#include "txn_state.h"

using namespace atsi;
using namespace atsi::plugin;

int main(int argc, char** argv) {
  if (argc != 3 ||
      (std::strcmp(argv[1], "all") != 0 && std::strcmp(argv[1], "none") != 0 && std::strcmp(argv[1], "count") != 0)) {
    std::fprintf(stderr, "usage: instructions_driver all|none|count N\n");
    return 2;
  }
  const bool count_only = std::strcmp(argv[1], "count") == 0;
  const bool all = count_only || std::strcmp(argv[1], "all") == 0;
  const long n = std::atol(argv[2]);

  testing::TableBuilder t;
  uint32_t with = t.backend("ns/with-options", {"10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080"});
  uint32_t without = t.backend("ns/without", {"10.0.1.1:8080", "10.0.1.2:8080", "10.0.1.3:8080"});
  testing::set_every_option(t.input().backends[with].options, /*redirect_to_https=*/false);
  // Some neighbours, so that lookups probe real indexes.
  for (int h = 0; h < 50; ++h) t.host("h" + std::to_string(h) + ".example.com").prefix("/", without);
  t.host("app.example.com").prefix("/api", with).prefix("/", without).exact("/health", without);
  t.host("plain.example.com").prefix("/api", without).prefix("/", without);
  testing::Built built = testing::build(t.input());
  Balancer balancer;
  balancer.reset(built.view, 1);

  const RequestFacts req{all ? "App.Example.com:8080" : "Plain.Example.com:8080", "api/v1/items/42", false};
  const std::string_view query = "page=2&sort=name";
  char key[kMaxHostLength + kMaxPathLength + 64];
  char host_buf[kHostBufferSize];

  // The counters, as the plugin makes them but smaller; the first count
  // claims the thread's block (once per thread in ATS too).
  const std::string stats_name = "instructions-" + std::to_string(::getpid());
  StatsOptions so;
  so.max_slots = 1024;
  so.max_threads = 1;
  std::unique_ptr<StatsWriter> writer;
  if (Error e = StatsWriter::create(stats_name, so, writer)) {
    std::fprintf(stderr, "counters: %s\n", e.message.c_str());
    return 1;
  }
  writer->thread().count(0, 200, CacheResult::kMiss);

  // One transaction's TXN_CLOSE: the state word read back, the cache result,
  // the count. The status and lookup vary as ATS's answers would.
  auto close = [&](uintptr_t state_word, long i) {
    TxnState st = unpack_state(state_word);
    if (!(st.flags & kTxnCounted)) return 0u;
    const uint32_t status = (i & 7) == 7 ? 404 : 200;
    const Lookup lookup = Lookup(int(i % 3));
    StatsWriter::Thread& t = writer->thread();
    if (t.shared()) return 0u;
    t.count(st.slot, status, cache_result(lookup, (st.flags & kTxnStorable) != 0));
    return 1u;
  };

  unsigned long sink = 0;
  if (count_only) {
    const uintptr_t w = pack_state(TxnState{kTxnRouted | kTxnCounted | kTxnStorable, 0, 9});
    for (long i = 0; i < n; ++i) sink += close(w, i);
  } else {
    for (long i = 0; i < n; ++i) {
      Decision d = decide(&built.view, balancer, req, false);
      if (d.action != Action::kRoute) return 1;
      if (d.options.any_cache_option()) {
        CacheOverrides c = cache_overrides(d.options);
        sink += uint64_t(c.generation + c.heuristic_min_lifetime + c.max_stale_age);
      }
      std::string_view key_host = routed_url_host(req.host, host_buf);
      sink += cache_key_url(key_host, req, d.options, query, key, sizeof key) + uint8_t(key[7]);
      // The words router.cc sets when it routes.
      TxnState st;
      st.flags = kTxnRouted;
      if (d.options.stats_slot != kNone) {
        st.flags |= kTxnCounted;
        st.slot = d.options.stats_slot;
      }
      const BackendRecord& b = built.view.backend(d.match.backend);
      const uint32_t position = uint32_t(d.endpoint - &built.view.endpoint(0)) - b.first_endpoint;
      uintptr_t hop = fits_hop_word(d.match.backend, position)
                          ? pack_hop(HopState{generation_tag(built.view.generation()), 0, position, d.match.backend})
                          : 0;
      // The OS_DNS hook before the first attempt: the endpoint to try next.
      HopState h = unpack_hop(hop);
      HopPlan plan = plan_hop(h.hop, h.first, b.endpoint_count);
      if (plan.kind == HopPlan::kPrepare) sink += built.view.endpoint(b.first_endpoint + plan.position).port;
      // A miss the cache stores, then TXN_CLOSE.
      if (i & 1) st.flags |= kTxnStorable;
      sink += close(pack_state(st), i);
    }
  }
  remove_stats(stats_name);
  // The work must not be optimized away, and the run must have routed.
  std::printf("%s %ld requests, checksum %lu\n", argv[1], n, sink);
  return sink == 0 && n > 0;
}
