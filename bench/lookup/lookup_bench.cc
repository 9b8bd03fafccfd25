// ns per lookup of the route-table core at several table sizes, beside a
// naive lookup of the same semantics (a hash map of hosts, then a linear
// scan of that host's rules), measured side by side in one run. With --sni:
// ns per TLS server-name selection (find_tls_host, what each handshake
// does) at 10, 1,000 and 100,000 hosts. With --stats: ns per request
// counted in the plugin's per-route counters (StatsWriter: thread() then
// count(), what TXN_CLOSE will do), on one thread and on two at once.
// With --gateway: ns per Gateway API lookup (gateway_lookup, what the plugin
// does for a connection to a Gateway's address) of one listener with 10,
// 100 and 1,000 entries, beside the Ingress lookup of a host with as many
// rules, in one run: the Gateway lookup scans its listener's entries in
// precedence order (docs/adr/0016), so its cost grows with them.
// --stats-calls N only counts N requests, for callgrind: the total Ir of
//   valgrind --tool=callgrind --toggle-collect='*stats_count_loop*' lookup_bench --stats-calls 1000000
// over N is the instructions per count.
// --calls N: only N lookups at --routes R (default 100000) over the same
// request mix, in lookup_loop, for callgrind:
//   valgrind --tool=callgrind --cache-sim=yes --toggle-collect='*lookup_loop*' lookup_bench --calls 1000000
// gives instructions and cache misses per lookup (Ir, D1mr, DLmr over N).
// --cold N: N lookups, each after the caches were emptied (a walk over
// 16 MiB outside lookup_cold_one), so that under
//   valgrind --tool=callgrind --cache-sim=yes --toggle-collect='*lookup_cold_one*' lookup_bench --cold 4096
// D1mr over N is the table's cache lines one lookup touches (the stack,
// the request and the view are brought back into the cache before it). --kind K keeps only requests of one kind (0 a rule's own path,
// 1 a deeper path, 2 an unknown path, 3 an unknown host, 4 with ":443"
// and a trailing '/').
//
//   lookup_bench [--quick] [--json] [--sni | --gateway | --stats | --stats-calls N | --calls N | --cold N]
//                [--routes R] [--kind K]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <unistd.h>

#include "gateway_lookup.h"
#include "lookup.h"
#include "names.h"
#include "stats_region.h"
#include "table_writer.h"
#include "tls_view.h"
#include "tls_writer.h"

using namespace atsi;
using Clock = std::chrono::steady_clock;

namespace {

struct Request {
  std::string host, path;
  int kind = 0;  // which of make_workload's five kinds
};

struct Workload {
  TableInput input;
  std::vector<Request> requests;
};

// `routes` rules over hosts of `per_host` paths each, a quarter of them
// wildcard hosts, Exact and Prefix mixed; requests: exact hits, prefix hits
// on deeper paths, wildcard hits, unknown paths and unknown hosts.
Workload make_workload(size_t routes, size_t per_host, uint32_t seed) {
  Workload w;
  std::mt19937 rng(seed);
  size_t hosts = std::max<size_t>(1, routes / per_host);
  for (uint32_t b = 0; b < 64; ++b) {
    InputBackend be;
    be.service = "ns/svc" + std::to_string(b);
    be.port = "80";
    for (int e = 0; e < 3; ++e) be.endpoints.push_back({"10.0." + std::to_string(b) + "." + std::to_string(e + 1), 8080, 1});
    w.input.backends.push_back(be);
  }
  for (size_t h = 0; h < hosts; ++h) {
    bool wildcard = h % 4 == 3;
    std::string base = "host" + std::to_string(h) + ".example.com";
    InputHost host{wildcard ? "*." + base : base, {}, kNone, ""};
    for (size_t r = 0; r < per_host && h * per_host + r < routes; ++r) {
      InputRule rule;
      rule.path = "/api/v" + std::to_string(r % 3) + "/res" + std::to_string(r);
      rule.path_type = r % 5 == 0 ? kPathExact : kPathPrefix;
      rule.backend = uint32_t(rng() % 64);
      rule.source = "ns/ing" + std::to_string(h);
      host.rules.push_back(rule);
    }
    w.input.hosts.push_back(host);
  }
  for (int i = 0; i < 4096; ++i) {
    size_t h = rng() % hosts;
    const InputHost& host = w.input.hosts[h];
    const InputRule& rule = host.rules[rng() % host.rules.size()];
    std::string name = host.name[0] == '*' ? "www" + host.name.substr(1) : host.name;
    switch (i % 5) {
      case 0: w.requests.push_back({name, rule.path, 0}); break;
      case 1: w.requests.push_back({name, rule.path + "/items/42?x=1", 1}); break;
      case 2: w.requests.push_back({name, "/nothing/here", 2}); break;
      case 3: w.requests.push_back({"unknown" + std::to_string(i) + ".org", rule.path, 3}); break;
      default: w.requests.push_back({name + ":443", rule.path + "/", 4}); break;
    }
  }
  return w;
}

// The naive design: a map of hosts, then every rule of the host scanned.
class NaiveRouter {
 public:
  explicit NaiveRouter(const TableInput& in) {
    for (const InputHost& h : in.hosts) {
      auto& rules = h.name.rfind("*.", 0) == 0 ? wildcard_[h.name.substr(2)] : exact_[h.name];
      for (const InputRule& r : h.rules) rules.push_back({r.path, r.path_type == kPathExact, r.backend});
    }
  }
  uint32_t route(std::string_view raw_host, std::string_view raw_path) const {
    char hb[kHostBufferSize], pb[kPathBufferSize];
    std::string_view host, path;
    normalize_host(raw_host, hb, host);
    if (normalize_path(raw_path, pb, path) != PathResult::kOk) return kNone;
    const std::vector<Rule>* rules = nullptr;
    auto it = exact_.find(std::string(host));
    if (it != exact_.end()) {
      rules = &it->second;
    } else if (size_t dot = host.find('.'); dot != std::string_view::npos) {
      auto wt = wildcard_.find(std::string(host.substr(dot + 1)));
      if (wt != wildcard_.end()) rules = &wt->second;
    }
    if (!rules) return kNone;
    uint32_t best = kNone;
    size_t best_len = 0;
    for (const Rule& r : *rules) {
      if (r.exact) {
        if (path == r.path) return r.backend;
        continue;
      }
      std::string_view p = r.path;
      while (!p.empty() && p.back() == '/') p.remove_suffix(1);
      bool match = path.substr(0, p.size()) == p && (path.size() == p.size() || path[p.size()] == '/');
      if (match && (best == kNone || p.size() >= best_len)) {
        best = r.backend;
        best_len = p.size();
      }
    }
    return best;
  }

 private:
  struct Rule {
    std::string path;
    bool exact;
    uint32_t backend;
  };
  std::unordered_map<std::string, std::vector<Rule>> exact_, wildcard_;
};

struct Stats {
  double p50, p99;
};

// Table bytes where the plugin has them: at the start of a page (it maps
// each table), not wherever malloc puts a vector.
struct PageAligned {
  explicit PageAligned(const std::vector<uint8_t>& bytes)
      : data(static_cast<uint8_t*>(std::aligned_alloc(4096, (bytes.size() + 4095) / 4096 * 4096))), size(bytes.size()) {
    std::memcpy(data, bytes.data(), bytes.size());
  }
  ~PageAligned() { std::free(data); }
  PageAligned(const PageAligned&) = delete;
  PageAligned& operator=(const PageAligned&) = delete;
  uint8_t* data;
  size_t size;
};

// The table of `in`, page-aligned in `aligned`, and its view; false (said on
// stderr) when the writer or the reader refuses it.
bool built(const TableInput& in, std::unique_ptr<PageAligned>& aligned, TableView& view) {
  std::vector<uint8_t> bytes;
  if (Error e = build_table(in, 1, 0, bytes)) {
    std::fprintf(stderr, "build: %s\n", e.message.c_str());
    return false;
  }
  aligned = std::make_unique<PageAligned>(bytes);
  if (Error e = TableView::validate(aligned->data, bytes.size(), view)) {
    std::fprintf(stderr, "validate: %s\n", e.message.c_str());
    return false;
  }
  return true;
}


// Times batches of lookups and reports per-lookup percentiles over batches.
template <typename F>
Stats measure(const std::vector<Request>& reqs, size_t batches, F&& fn) {
  constexpr size_t kBatch = 64;
  std::vector<double> per;
  per.reserve(batches);
  uint64_t sink = 0;
  size_t idx = 0;
  for (size_t b = 0; b < batches; ++b) {
    auto t0 = Clock::now();
    for (size_t i = 0; i < kBatch; ++i) {
      const Request& r = reqs[idx];
      idx = (idx + 1) & (reqs.size() - 1);
      sink += fn(r);
    }
    auto t1 = Clock::now();
    per.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / kBatch);
  }
  if (sink == 42) std::printf(" ");
  std::sort(per.begin(), per.end());
  return {per[per.size() / 2], per[per.size() * 99 / 100]};
}

// TLS tables of `hosts` names (a quarter wildcards), one certificate each
// (placeholder PEM: selection never reads it); names: exact hits, wildcard
// hits, unknown names, any case with a trailing dot.
int sni_bench(size_t batches, bool json) {
  if (!json) std::printf("%-8s %-9s %10s %10s\n", "hosts", "bytes", "sni p50", "sni p99");
  for (size_t hosts : {size_t(10), size_t(1000), size_t(100000)}) {
    TlsInput in;
    in.certificates.push_back({"ns/c", "-----BEGIN CERTIFICATE-----\n", "-----BEGIN PRIVATE KEY-----\n", 0});
    std::vector<Request> names;
    for (size_t h = 0; h < hosts; ++h) {
      std::string base = "host" + std::to_string(h) + ".example.com";
      in.hosts.push_back({h % 4 == 3 ? "*." + base : base, 0, kNone});
    }
    std::mt19937 rng(7);
    for (int i = 0; i < 4096; ++i) {
      const std::string& n = in.hosts[rng() % hosts].name;
      std::string sni = n[0] == '*' ? "www" + n.substr(1) : n;
      if (i % 4 == 2) sni = "unknown" + std::to_string(i) + ".org";
      if (i % 4 == 3) sni[0] = char(sni[0] - 'a' + 'A'), sni += ".";
      names.push_back({sni, ""});
    }
    std::vector<uint8_t> bytes;
    if (Error e = build_tls_table(in, 1, 0, bytes)) {
      std::fprintf(stderr, "build: %s\n", e.message.c_str());
      return 1;
    }
    std::vector<uint64_t> aligned((bytes.size() + 7) / 8);
    std::memcpy(aligned.data(), bytes.data(), bytes.size());
    TlsView view;
    if (Error e = TlsView::validate(reinterpret_cast<const uint8_t*>(aligned.data()), bytes.size(), view)) {
      std::fprintf(stderr, "validate: %s\n", e.message.c_str());
      return 1;
    }
    Stats s = measure(names, batches, [&](const Request& r) { return find_tls_host(view, r.host); });
    if (json) {
      std::printf("{\"sniHosts\":%zu,\"bytes\":%zu,\"sniP50\":%.1f,\"sniP99\":%.1f}\n", hosts, bytes.size(), s.p50,
                  s.p99);
    } else {
      std::printf("%-8zu %-9zu %8.1fns %8.1fns\n", hosts, bytes.size(), s.p50, s.p99);
    }
  }
  return 0;
}

// One Gateway listener of `entries` PathPrefix entries (/svcN, each its own
// rule and backend) and one Ingress host of as many Prefix rules, and
// requests for every entry's path (a hit at a random place of the scan)
// and one in eight for no entry (the whole scan).
int gateway_bench(size_t batches, bool json) {
  if (!json) std::printf("%-8s %12s %12s %12s %12s %14s\n", "entries", "gateway p50", "gateway p99", "ingress p50", "ingress p99", "gateway/ingress");
  for (size_t entries : {size_t(10), size_t(100), size_t(1000)}) {
    TableInput in;
    InputHost host;
    host.name = "shop.test";
    InputGatewayListener l;
    l.gateway = "bench/gw";
    l.listener = "http";
    l.address = "127.0.1.1";
    l.port = 80;
    l.listener_port = 80;
    for (size_t i = 0; i < entries; ++i) {
      InputBackend b;
      b.service = "bench/svc" + std::to_string(i);
      b.port = "80";
      b.endpoints.push_back({"10.0.0.1", 8080});
      in.backends.push_back(b);
      std::string path = "/svc" + std::to_string(i);
      host.rules.push_back({path, kPathPrefix, uint32_t(i), "bench/ing"});
      InputGatewayEntry e;
      e.hostname = "shop.test";
      e.path = path;
      e.rule = uint32_t(i);
      l.entries.push_back(e);
      InputGatewayRule r;
      r.route = "bench/route";
      r.rule_index = uint32_t(i);
      r.choices.push_back({uint32_t(i), 1, {}, ""});
      in.gateway_rules.push_back(r);
    }
    // The writer wants rules in path order; the entries keep precedence (table) order.
    std::sort(host.rules.begin(), host.rules.end(), [](const InputRule& a, const InputRule& b) { return a.path < b.path; });
    in.hosts.push_back(host);
    in.gateway_listeners.push_back(l);
    std::unique_ptr<PageAligned> aligned;
    TableView view;
    if (!built(in, aligned, view)) return 1;
    std::mt19937 rng(5);
    std::vector<Request> reqs;
    for (int i = 0; i < 4096; ++i)
      reqs.push_back({"shop.test", i % 8 == 7 ? "/none/x" : "/svc" + std::to_string(rng() % entries) + "/page"});
    const uint8_t address[16] = {127, 0, 1, 1};
    auto gw = [&](const Request& r) {
      GatewayRequest g;
      g.family = 4;
      g.address = address;
      g.port = 80;
      g.host = r.host;
      g.path = r.path;
      g.method = "GET";
      return gateway_lookup(view, g, 0).backend;
    };
    // Both must agree before their speed means anything.
    for (const Request& r : reqs) {
      if (gw(r) != lookup(view, r.host, r.path).backend) {
        std::fprintf(stderr, "disagree on %s\n", r.path.c_str());
        return 1;
      }
    }
    std::vector<Stats> gs, is;
    for (int round = 0; round < 3; ++round) {
      gs.push_back(measure(reqs, batches / 3, gw));
      is.push_back(measure(reqs, batches / 3, [&](const Request& r) { return lookup(view, r.host, r.path).backend; }));
    }
    auto med = [](std::vector<Stats> v, bool p99) {
      std::sort(v.begin(), v.end(), [&](const Stats& a, const Stats& b) { return p99 ? a.p99 < b.p99 : a.p50 < b.p50; });
      return p99 ? v[1].p99 : v[1].p50;
    };
    Stats g{med(gs, false), med(gs, true)}, i{med(is, false), med(is, true)};
    if (json) {
      std::printf("{\"gatewayEntries\":%zu,\"gatewayP50\":%.1f,\"gatewayP99\":%.1f,\"ingressP50\":%.1f,\"ingressP99\":%.1f,\"ratio\":%.2f}\n",
                  entries, g.p50, g.p99, i.p50, i.p99, g.p50 / i.p50);
    } else {
      std::printf("%-8zu %10.1fns %10.1fns %10.1fns %10.1fns %13.2fx\n", entries, g.p50, g.p99, i.p50, i.p99, g.p50 / i.p50);
    }
  }
  return 0;
}

// One request to count: a route's slot, the status sent, the cache result.
struct CountOp {
  uint32_t slot, status;
  CacheResult cache;
};

// 4,096 requests over 1,000 slots (dense from 0, as the controller assigns
// them), mostly 2xx, every cache result.
std::vector<CountOp> count_ops() {
  std::mt19937 rng(11);
  const uint32_t statuses[] = {200, 200, 200, 200, 304, 404, 503, 206};
  std::vector<CountOp> ops;
  for (int i = 0; i < 4096; ++i)
    ops.push_back({uint32_t(rng() % 1000), statuses[rng() % 8], CacheResult(rng() % kCacheResultCount)});
  return ops;
}

// What the plugin will do per transaction: find its thread's block, count.
__attribute__((noinline)) uint64_t stats_count_loop(StatsWriter& w, const CountOp* ops, size_t n, size_t mask) {
  for (size_t i = 0; i < n; ++i) {
    const CountOp& op = ops[i & mask];
    w.thread().count(op.slot, op.status, op.cache);
  }
  return n;
}

std::string bench_stats_table() { return "bench-stats-" + std::to_string(::getpid()); }

std::unique_ptr<StatsWriter> bench_writer() {
  std::unique_ptr<StatsWriter> w;
  // The plugin's defaults: 16,384 slots, 64 threads.
  if (Error e = StatsWriter::create(bench_stats_table(), {}, w))
    std::fprintf(stderr, "stats: %s\n", e.message.c_str());
  return w;
}

// Per-count percentiles over batches of 64, as measure() does for lookups.
Stats measure_counts(StatsWriter& w, const std::vector<CountOp>& ops, size_t batches) {
  constexpr size_t kBatch = 64;
  stats_count_loop(w, ops.data(), ops.size(), ops.size() - 1);  // first touch of every page, outside the timing
  std::vector<double> per;
  per.reserve(batches);
  size_t idx = 0;
  for (size_t b = 0; b < batches; ++b) {
    auto t0 = Clock::now();
    for (size_t i = 0; i < kBatch; ++i) {
      const CountOp& op = ops[idx];
      idx = (idx + 1) & (ops.size() - 1);
      w.thread().count(op.slot, op.status, op.cache);
    }
    auto t1 = Clock::now();
    per.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / kBatch);
  }
  std::sort(per.begin(), per.end());
  return {per[per.size() / 2], per[per.size() * 99 / 100]};
}

int stats_bench(size_t batches, bool json) {
  std::unique_ptr<StatsWriter> w = bench_writer();
  if (!w) return 1;
  std::vector<CountOp> ops = count_ops();
  std::vector<Stats> one;
  for (int round = 0; round < 3; ++round) one.push_back(measure_counts(*w, ops, batches / 3));
  std::sort(one.begin(), one.end(), [](const Stats& a, const Stats& b) { return a.p50 < b.p50; });
  Stats single = one[1];
  // Two threads at once, each in its own block: they share no cache line.
  Stats two[2];
  {
    std::atomic<int> ready{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 2; ++t) {
      ts.emplace_back([&, t] {
        w->thread();
        ready++;
        while (ready.load() < 2) {
        }
        two[t] = measure_counts(*w, ops, batches);
      });
    }
    for (auto& t : ts) t.join();
  }
  // What the controller pays per scrape: 3 blocks (this thread's, the
  // two above) of 1,000 slots each.
  StatsReader reader(bench_stats_table());
  std::vector<uint64_t> counters;
  std::vector<double> reads;
  for (int i = 0; i < 101; ++i) {
    StatsSnapshot snap;
    auto t0 = Clock::now();
    Error e = reader.read(counters, snap);
    reads.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    if (e) {
      std::fprintf(stderr, "read: %s\n", e.message.c_str());
      return 1;
    }
  }
  std::sort(reads.begin(), reads.end());
  remove_stats(bench_stats_table());
  if (json) {
    std::printf("{\"countP50\":%.1f,\"countP99\":%.1f,\"twoThreadsP50\":[%.1f,%.1f],\"twoThreadsP99\":[%.1f,%.1f],"
                "\"readUs\":%.1f}\n",
                single.p50, single.p99, two[0].p50, two[1].p50, two[0].p99, two[1].p99, reads[50]);
  } else {
    std::printf("%-22s %10s %10s\n", "stats count()", "p50", "p99");
    std::printf("%-22s %8.1fns %8.1fns\n", "1 thread", single.p50, single.p99);
    for (int t = 0; t < 2; ++t) std::printf("2 threads, thread %d    %8.1fns %8.1fns\n", t, two[t].p50, two[t].p99);
    std::printf("read() of 3 threads x 1,000 slots: %.1f us (median of 101)\n", reads[50]);
  }
  return 0;
}

int stats_calls(size_t n) {
  std::unique_ptr<StatsWriter> w = bench_writer();
  if (!w) return 1;
  std::vector<CountOp> ops = count_ops();
  w->thread().count(0, 200, CacheResult::kMiss);  // the first use: claims a block, outside the count
  uint64_t done = stats_count_loop(*w, ops.data(), n, ops.size() - 1);
  remove_stats(bench_stats_table());
  std::printf("%llu counts\n", static_cast<unsigned long long>(done));
  return 0;
}

// A table of `routes` routes in page-aligned storage, validated, with its
// workload; the requests kept to one kind when `kind` >= 0.
struct BenchTable {
  Workload w;
  std::unique_ptr<PageAligned> storage;
  size_t bytes = 0;
  TableView view;
};

bool make_table(size_t routes, int kind, BenchTable& t) {
  t.w = make_workload(routes, routes >= 1000 ? 100 : 10, 7);
  if (kind >= 0) {
    std::vector<Request> kept;
    for (const Request& r : t.w.requests)
      if (r.kind == kind) kept.push_back(r);
    t.w.requests = kept;
  }
  if (!built(t.w.input, t.storage, t.view)) return false;
  t.bytes = t.storage->size;
  return true;
}

__attribute__((noinline)) uint64_t lookup_loop(const TableView& view, const std::vector<Request>& reqs, size_t n) {
  uint64_t sink = 0;
  for (size_t i = 0; i < n; ++i) {
    const Request& r = reqs[i % reqs.size()];
    sink += lookup(view, r.host, r.path).backend;
  }
  return sink;
}

__attribute__((noinline)) uint32_t lookup_cold_one(const TableView& view, const Request& r) {
  return lookup(view, r.host, r.path).backend;
}

// Brings back what a lookup touches besides the table: the stack below the
// caller's frame (lookup's buffers), the request, the view, and the
// constants the normalisers use (normalising the request touches no table
// byte). Then only the table's lines are cold.
__attribute__((noinline)) uint64_t warm_all_but_the_table(const TableView& view, const Request& r) {
  volatile char stack[16384];
  for (size_t i = 0; i < sizeof stack; i += 64) stack[i] = 0;
  char hb[kHostBufferSize], pb[kPathBufferSize];
  std::string_view h, p;
  normalize_host(r.host, hb, h);
  normalize_path(r.path, pb, p);
  uint64_t sum = h.size() + p.size();
  for (const std::string* s : {&r.host, &r.path})
    for (size_t i = 0; i < s->size(); i += 16) sum += uint8_t((*s)[i]);
  sum += r.host.back() + r.path.back() + r.host.size() + r.path.size();
  const auto* v = reinterpret_cast<const volatile unsigned char*>(&view);
  for (size_t i = 0; i < sizeof view; i += 8) sum += v[i];
  return sum;
}

int lookup_calls(size_t routes, int kind, size_t n, bool cold) {
  BenchTable t;
  if (!make_table(routes, kind, t)) return 1;
  uint64_t sink = lookup_loop(t.view, t.w.requests, t.w.requests.size());  // warm-up, as the timed runs have
  if (!cold) {
    sink += lookup_loop(t.view, t.w.requests, n);
  } else {
    // Bigger than any cache callgrind simulates by default here (its LL is
    // the machine's L3 taken as is: pass --LL=... to make it smaller).
    std::vector<uint64_t> evict((16u << 20) / 8, 1);
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < evict.size(); j += 8) sink += evict[j];
      const Request& r = t.w.requests[i % t.w.requests.size()];
      sink += warm_all_but_the_table(t.view, r);
      sink += lookup_cold_one(t.view, r);
    }
  }
  std::printf("%zu lookups at %zu routes (table %zu bytes), checksum %llu\n", n, routes, t.bytes,
              static_cast<unsigned long long>(sink));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false, json = false, sni = false, stats = false, gateway = false;
  size_t calls = 0, lookups = 0, cold = 0, routes = 100000;
  int kind = -1;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--quick")) quick = true;
    else if (!std::strcmp(argv[i], "--json")) json = true;
    else if (!std::strcmp(argv[i], "--sni")) sni = true;
    else if (!std::strcmp(argv[i], "--stats")) stats = true;
    else if (!std::strcmp(argv[i], "--gateway")) gateway = true;
    else if (!std::strcmp(argv[i], "--stats-calls") && i + 1 < argc) calls = size_t(std::strtoull(argv[++i], nullptr, 10));
    else if (!std::strcmp(argv[i], "--calls") && i + 1 < argc) lookups = size_t(std::strtoull(argv[++i], nullptr, 10));
    else if (!std::strcmp(argv[i], "--cold") && i + 1 < argc) cold = size_t(std::strtoull(argv[++i], nullptr, 10));
    else if (!std::strcmp(argv[i], "--routes") && i + 1 < argc) routes = size_t(std::strtoull(argv[++i], nullptr, 10));
    else if (!std::strcmp(argv[i], "--kind") && i + 1 < argc) kind = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr,
                   "usage: lookup_bench [--quick] [--json] [--sni | --gateway | --stats | --stats-calls N | --calls N | --cold N]\n"
                   "                    [--routes R] [--kind K]\n");
      return 2;
    }
  }
  if (sni) return sni_bench(quick ? 2000 : 200000, json);
  if (gateway) return gateway_bench(quick ? 2000 : 200000, json);
  if (stats) return stats_bench(quick ? 2000 : 600000, json);
  if (calls) return stats_calls(calls);
  if (lookups || cold) return lookup_calls(routes, kind, lookups ? lookups : cold, cold != 0);
  const size_t sizes[] = {10, 1000, 100000};
  const size_t batches = quick ? 2000 : 200000;
  // Issue 12's goal, printed beside the figures it is about: p50 < 100 ns
  // and p99 < 250 ns at 100,000 routes, and "no worse at 10", judged here
  // by the same bounds (stricter than the 105 ns p50 the issue started from).
  constexpr double kGoalP50 = 100, kGoalP99 = 250;
  auto has_goal = [](size_t routes) { return routes == 10 || routes == 100000; };
  if (!json) {
    std::printf("%-8s %-7s %10s %10s %12s %12s %10s  %s\n", "routes", "bytes", "table p50", "table p99", "naive p50",
                "naive p99", "naive/table", "goal: table p50 < 100 ns, p99 < 250 ns");
  }
  for (size_t routes : sizes) {
    Workload w = make_workload(routes, routes >= 1000 ? 100 : 10, 7);
    std::unique_ptr<PageAligned> aligned;
    TableView view;
    if (!built(w.input, aligned, view)) return 1;
    NaiveRouter naive(w.input);
    // Both must agree before their speed means anything.
    for (const Request& r : w.requests) {
      Match m = lookup(view, r.host, r.path);
      uint32_t n = naive.route(r.host, r.path);
      if (m.backend != n) {
        std::fprintf(stderr, "disagree on %s %s: table %u naive %u\n", r.host.c_str(), r.path.c_str(), m.backend, n);
        return 1;
      }
    }
    // Interleave the two so that noise hits both alike.
    Stats t{}, nv{};
    std::vector<Stats> ts, ns;
    for (int round = 0; round < 3; ++round) {
      ts.push_back(measure(w.requests, batches / 3, [&](const Request& r) { return lookup(view, r.host, r.path).backend; }));
      ns.push_back(measure(w.requests, batches / 3, [&](const Request& r) { return naive.route(r.host, r.path); }));
    }
    auto med = [](std::vector<Stats> v, bool p99) {
      std::sort(v.begin(), v.end(), [&](const Stats& a, const Stats& b) { return p99 ? a.p99 < b.p99 : a.p50 < b.p50; });
      return p99 ? v[1].p99 : v[1].p50;
    };
    t = {med(ts, false), med(ts, true)};
    nv = {med(ns, false), med(ns, true)};
    const bool met = t.p50 < kGoalP50 && t.p99 < kGoalP99;
    // --quick measures too few lookups for the goal to mean anything.
    const char* verdict = !has_goal(routes) ? "-" : quick ? "(quick mode: not judged)" : met ? "met" : "MISSED";
    if (json) {
      std::printf("{\"routes\":%zu,\"bytes\":%zu,\"tableP50\":%.1f,\"tableP99\":%.1f,\"naiveP50\":%.1f,\"naiveP99\":%.1f,\"ratio\":%.2f%s}\n",
                  routes, aligned->size, t.p50, t.p99, nv.p50, nv.p99, nv.p50 / t.p50,
                  !has_goal(routes) || quick ? "" : met ? ",\"goalMet\":true" : ",\"goalMet\":false");
    } else {
      std::printf("%-8zu %-7zu %8.1fns %8.1fns %10.1fns %10.1fns %9.2fx  %s\n", routes, aligned->size, t.p50, t.p99,
                  nv.p50, nv.p99, nv.p50 / t.p50, verdict);
    }
  }
  return 0;
}
