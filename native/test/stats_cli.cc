// Test-only: plays the plugin's part for the addon's readStats() tests
// (src/route-table/stats.test.ts). Makes a fresh counters object for TABLE,
// as ATS does when it starts, counts the given requests, prints the instance
// id, and exits; the object stays for readers.
//
//   stats_cli TABLE [--slots N] [--threads N] [--workers N] [COUNT...]
//     COUNT    SLOT:STATUS:CACHE[:TIMES], CACHE one of hit_fresh, hit_stale,
//              miss, not_cacheable (or a number, to test refusals)
//     --workers N  spread the counts over N threads, round robin, so that
//                  they land in several blocks (and the overflow block when
//                  N is past --threads)
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "stats_region.h"

using namespace atsi;

namespace {

struct Count {
  uint32_t slot, status, cache;
  uint64_t times;
};

int usage() {
  std::fprintf(stderr, "usage: stats_cli TABLE [--slots N] [--threads N] [--workers N] [SLOT:STATUS:CACHE[:TIMES]...]\n");
  return 2;
}

bool parse_count(const char* arg, Count& out) {
  char cache[32] = {0};
  unsigned long long times = 1;
  unsigned slot = 0, status = 0;
  int n = std::sscanf(arg, "%u:%u:%31[a-z_0-9]:%llu", &slot, &status, cache, &times);
  if (n < 3) return false;
  const char* names[] = {"hit_fresh", "hit_stale", "miss", "not_cacheable"};
  out = {slot, status, kCacheResultCount + 100, times};
  for (uint32_t i = 0; i < kCacheResultCount; ++i)
    if (!std::strcmp(cache, names[i])) out.cache = i;
  if (out.cache > kCacheResultCount) out.cache = uint32_t(std::strtoul(cache, nullptr, 10));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::string table = argv[1];
  StatsOptions options;
  unsigned workers = 1;
  std::vector<Count> counts;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if ((a == "--slots" || a == "--threads" || a == "--workers") && i + 1 < argc) {
      unsigned long v = std::strtoul(argv[++i], nullptr, 10);
      if (a == "--slots") options.max_slots = uint32_t(v);
      else if (a == "--threads") options.max_threads = uint32_t(v);
      else workers = unsigned(v ? v : 1);
    } else {
      Count c{};
      if (!parse_count(argv[i], c)) return usage();
      counts.push_back(c);
    }
  }
  std::unique_ptr<StatsWriter> writer;
  if (Error e = StatsWriter::create(table, options, writer)) {
    std::fprintf(stderr, "stats_cli: %s: %s\n", error_code_name(e.code), e.message.c_str());
    return 1;
  }
  // One worker at a time, so that which block counts what is deterministic.
  for (unsigned w = 0; w < workers; ++w) {
    std::thread([&, w] {
      StatsWriter::Thread& t = writer->thread();
      for (size_t i = w; i < counts.size(); i += workers)
        for (uint64_t n = 0; n < counts[i].times; ++n) t.count(counts[i].slot, counts[i].status, CacheResult(counts[i].cache));
    }).join();
  }
  std::printf("%llu\n", static_cast<unsigned long long>(writer->instance()));
  return 0;
}
