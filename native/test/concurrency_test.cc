// One writer publishing while readers look up: every answer must come from
// one whole generation. Run under ThreadSanitizer and AddressSanitizer too.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "publisher.h"
#include "table_source.h"
#include "test_tables.h"

namespace atsi {
namespace {

using testing::TableBuilder;

// Generation g routes every path to service "ns/g<g>" on port 1 + g % 60000,
// with a rule from Ingress "ns/i<g>", and adds g % 7 extra hosts so sizes vary.
TableInput generation_table(uint64_t g) {
  TableBuilder t;
  std::string port = std::to_string(1 + g % 60000);
  uint32_t b = t.backend("ns/g" + std::to_string(g), {("10.0.0.1:" + port).c_str(), ("[::1]:" + port).c_str()});
  t.host("gen.test").rule("/", kPathPrefix, b, "ns/i" + std::to_string(g));
  for (uint64_t i = 0; i < g % 7; ++i) t.host("extra" + std::to_string(i) + ".test").prefix("/x", b);
  return t.input();
}

size_t env_size(const char* name, size_t fallback) {
  const char* v = std::getenv(name);
  return v ? size_t(std::strtoull(v, nullptr, 10)) : fallback;
}

TEST(Concurrency, ReadersAlwaysSeeOneWholeGeneration) {
  const size_t generations = env_size("ATSI_CONCURRENCY_GENERATIONS", 10000);
  const size_t lookups_per_reader = env_size("ATSI_CONCURRENCY_LOOKUPS", 250000);
  constexpr int kReaders = 4;
  std::string name = "t-concurrency-" + std::to_string(::getpid());
  std::unique_ptr<Publisher> pub;
  ASSERT_FALSE(Publisher::open(name, pub));
  PublishResult r;
  ASSERT_FALSE(pub->publish(generation_table(1), now_ms(), r));

  TableSource source(name);
  source.refresh();
  std::atomic<bool> writer_done{false};
  std::atomic<uint64_t> failures{0}, no_table{0}, backwards{0}, mixed{0}, total_lookups{0}, switches_seen{0};

  std::vector<std::thread> readers;
  for (int i = 0; i < kReaders; ++i) {
    readers.emplace_back([&, i] {
      ReaderCursor cursor(source, uint32_t(i));
      uint64_t last_gen = 0, n = 0, switches = 0;
      char path[32];
      while (n < lookups_per_reader || !writer_done.load(std::memory_order_acquire)) {
        const MappedTable* t = cursor.get();
        if (!t) {
          failures++;
          no_table++;
          break;
        }
        const TableView& v = t->view();
        uint64_t g = v.generation();
        std::snprintf(path, sizeof path, "/p/%llu", static_cast<unsigned long long>(n));
        Match m = lookup(v, "GEN.test:80", path);
        bool ok = m.outcome == Outcome::kRouted;
        if (ok) {
          const BackendRecord& b = v.backend(m.backend);
          uint32_t e = cursor.balancer().pick(v, m.backend);
          ok = v.str(b.service) == "ns/g" + std::to_string(g) &&
               v.str(v.rule(m.rule).source) == "ns/i" + std::to_string(g) &&
               v.endpoint(e).port == 1 + g % 60000 && v.host_count() == 1 + g % 7;
        }
        if (!ok) mixed++;
        if (g < last_gen) backwards++;
        if (!ok || g < last_gen) failures++;
        if (g != last_gen) switches++;
        last_gen = g;
        ++n;
      }
      total_lookups += n;
      switches_seen += switches;
    });
  }
  for (uint64_t g = 2; g <= generations; ++g) {
    Error e = pub->publish(generation_table(g), now_ms(), r);
    ASSERT_FALSE(e) << e.message;
    if (g % 64 == 0) source.refresh(false);  // as the plugin's poller would
  }
  writer_done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0u) << "no table: " << no_table << ", generation went backwards: " << backwards
                                 << ", answer from mixed generations: " << mixed;
  EXPECT_GE(total_lookups.load(), kReaders * lookups_per_reader);
  std::printf("[ concurrency ] %zu generations, %llu lookups, %llu table switches seen by readers, %llu refused\n",
              generations, static_cast<unsigned long long>(total_lookups.load()),
              static_cast<unsigned long long>(switches_seen.load()),
              static_cast<unsigned long long>(source.stats().refused));
  EXPECT_EQ(source.stats().refused, 0u);
  pub->remove_all();
}

}  // namespace
}  // namespace atsi
