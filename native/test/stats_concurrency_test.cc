// Many threads counting while readers read: every counter a reader sees only
// grows, and the final sums are exact, owned blocks and the overflow block
// alike. Run under ThreadSanitizer and AddressSanitizer too.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "stats_region.h"

namespace atsi {
namespace {

size_t env_size(const char* name, size_t fallback) {
  const char* v = std::getenv(name);
  return v ? size_t(std::strtoull(v, nullptr, 10)) : fallback;
}

TEST(StatsConcurrency, CountersOnlyGrowAndSumExactly) {
  const size_t per_thread = env_size("ATSI_STATS_COUNTS", 200000);
  constexpr uint32_t kSlots = 64;
  constexpr int kWriters = 8;   // 4 with blocks of their own, 4 sharing the overflow block
  constexpr int kReaders = 2;
  std::string name = "t-stats-concurrency-" + std::to_string(::getpid());
  StatsOptions o;
  o.max_slots = kSlots;
  o.max_threads = 4;
  std::unique_ptr<StatsWriter> w;
  ASSERT_FALSE(StatsWriter::create(name, o, w));
  const uint32_t statuses[] = {200, 200, 304, 404, 503, 101, 200, 599};

  // What each writer counted, to compare with what the readers end with.
  std::vector<std::vector<uint64_t>> expected(kWriters, std::vector<uint64_t>(kSlots * kStatsCounterCount));
  std::atomic<int> writing{kWriters};
  std::atomic<uint64_t> backwards{0}, reads{0}, errors{0}, shared_seen{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; ++t) {
    threads.emplace_back([&, t] {
      StatsWriter::Thread& mine = w->thread();
      if (mine.shared()) shared_seen++;
      std::vector<uint64_t>& e = expected[t];
      uint32_t x = 2463534242u + uint32_t(t);
      for (size_t i = 0; i < per_thread; ++i) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;  // xorshift32
        uint32_t slot = x % kSlots;
        uint32_t status = statuses[(x >> 8) % 8];
        auto cache = CacheResult((x >> 12) % kCacheResultCount);
        w->thread().count(slot, status, cache);
        e[slot * kStatsCounterCount + status / 100 - 1]++;
        e[slot * kStatsCounterCount + kStatsHitFresh + uint32_t(cache)]++;
        if (i % 1000 == 0) w->thread().count(kSlots + i % 5, 200, cache);  // dropped
        // Halfway, the first writer waits for the readers to read a few times,
        // so some reads surely overlap counting even when the writers would
        // otherwise finish before a reader thread is scheduled (it happened:
        // CI saw one read per reader).
        if (t == 0 && i == per_thread / 2) {
          const uint64_t target = reads.load() + 2 * kReaders;
          while (reads.load() < target && errors.load() == 0) std::this_thread::yield();
        }
      }
      writing--;
    });
  }
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&] {
      StatsReader reader(name);
      std::vector<uint64_t> last(kSlots * kStatsCounterCount), now;
      uint64_t last_dropped = 0;
      bool more = true;
      while (more) {
        more = writing.load() > 0;  // one last read after every writer finished
        StatsSnapshot s;
        if (reader.read(now, s)) {
          errors++;
          break;
        }
        reads++;
        if (s.instance != w->instance() || s.dropped < last_dropped) backwards++;
        last_dropped = s.dropped;
        for (size_t i = 0; i < last.size(); ++i) {
          uint64_t v = i < now.size() ? now[i] : 0;
          if (v < last[i]) backwards++;
          last[i] = v;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0u);
  EXPECT_EQ(backwards.load(), 0u);
  EXPECT_GT(reads.load(), uint64_t(2 * kReaders));
  EXPECT_EQ(shared_seen.load(), uint64_t(kWriters - 4));

  std::vector<uint64_t> want(kSlots * kStatsCounterCount), got;
  for (auto& e : expected)
    for (size_t i = 0; i < want.size(); ++i) want[i] += e[i];
  StatsReader reader(name);
  StatsSnapshot s;
  ASSERT_FALSE(reader.read(got, s));
  EXPECT_EQ(s.slots, kSlots);
  EXPECT_TRUE(s.overflow);
  EXPECT_EQ(s.blocks, 5u);
  EXPECT_EQ(s.dropped, uint64_t(kWriters) * ((per_thread + 999) / 1000));
  EXPECT_EQ(got, want);
  remove_stats(name);
}

}  // namespace
}  // namespace atsi
