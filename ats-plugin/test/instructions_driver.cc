// The per-request work of the plugin's pure part for one routed request,
// repeated N times so that instructions_test.sh can count instructions per
// request under callgrind: decide() (lookup, the backend's option view, the
// endpoint pick), then what router.cc's apply_cache() computes from the
// options (the cache overrides, the cache key). No ATS calls: those are the
// same few TSHttpTxnConfigIntSet stores either way.
//
//   instructions_driver all|none N
// "all": a backend with every option set; "none": one with none.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cache_policy.h"
#include "decision.h"
#include "test_tables.h"

using namespace atsi;
using namespace atsi::plugin;

int main(int argc, char** argv) {
  if (argc != 3 || (std::strcmp(argv[1], "all") != 0 && std::strcmp(argv[1], "none") != 0)) {
    std::fprintf(stderr, "usage: instructions_driver all|none N\n");
    return 2;
  }
  const bool all = std::strcmp(argv[1], "all") == 0;
  const long n = std::atol(argv[2]);

  testing::TableBuilder t;
  uint32_t with = t.backend("ns/with-options", {"10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080"});
  uint32_t without = t.backend("ns/without", {"10.0.1.1:8080", "10.0.1.2:8080", "10.0.1.3:8080"});
  InputOptions& o = t.input().backends[with].options;
  o.connect_timeout_ms = 1500;
  o.response_timeout_ms = 30000;
  o.redirect_to_https = false;
  o.cache_policy = 0;
  o.upstream_host = "internal.svc.cluster.local";
  o.cache_default_ttl_s = 60;
  o.cache_max_ttl_s = 3600;
  o.cache_ignore_query = true;
  o.cache_serve_stale_s = 30;
  o.cache_generation = 4;
  o.stats_slot = 9;
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
  unsigned long sink = 0;
  for (long i = 0; i < n; ++i) {
    Decision d = decide(&built.view, balancer, req, false);
    if (d.action != Action::kRoute) return 1;
    if (d.options.any_cache_option()) {
      CacheOverrides c = cache_overrides(d.options);
      sink += uint64_t(c.generation + c.heuristic_min_lifetime + c.max_stale_age);
    }
    sink += cache_key_url(req, d.options, query, key, sizeof key) + uint8_t(key[7]);
  }
  // The work must not be optimized away, and the run must have routed.
  std::printf("%s %ld requests, checksum %lu\n", all ? "all" : "none", n, sink);
  return sink == 0 && n > 0;
}
