// One writer publishing TLS tables while readers pick them up: every table a
// reader sees must be one whole generation. Run under ThreadSanitizer and
// AddressSanitizer too. Also the Snapshot hand-off the plugin uses for its
// parsed TLS store.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "publisher.h"
#include "snapshot.h"
#include "table_source.h"
#include "tls_encoder.h"

namespace atsi {
namespace {

using testing::fake_pem;

// Generation g: certificate "ns/g<g>" with chain and key naming g, 1 + g % 5
// exact hosts h<i>.gen.test and a wildcard *.w.gen.test, all on it, and a
// policy of depth 1 + g % 10.
TlsInput generation_input(uint64_t g) {
  TlsInput in;
  std::string n = std::to_string(g);
  in.certificates.push_back({"ns/g" + n, fake_pem("CERTIFICATE", "chain " + n), fake_pem("PRIVATE KEY", "key " + n), g});
  in.default_certificate = 0;
  in.policies.push_back({kTlsMin12, kVerifyOff, "", uint32_t(1 + g % 10)});
  for (uint64_t i = 0; i < 1 + g % 5; ++i) in.hosts.push_back({"h" + std::to_string(i) + ".gen.test", 0, 0});
  in.hosts.push_back({"*.w.gen.test", 0, kNone});
  return in;
}

size_t env_size(const char* name, size_t fallback) {
  const char* v = std::getenv(name);
  return v ? size_t(std::strtoull(v, nullptr, 10)) : fallback;
}

// Whether `v` is generation_input(v.generation()) whole.
bool whole(const TlsView& v) {
  uint64_t g = v.generation();
  std::string n = std::to_string(g);
  if (v.certificate_count() != 1 || v.policy_count() != 1 || v.host_count() != 2 + g % 5) return false;
  const CertificateRecord& c = v.certificate(0);
  if (v.str(c.secret) != "ns/g" + n || v.str(c.chain) != fake_pem("CERTIFICATE", "chain " + n) ||
      v.str(c.key) != fake_pem("PRIVATE KEY", "key " + n) || c.not_after != g)
    return false;
  if (v.policy(0).verify_depth != 1 + g % 10) return false;
  uint32_t h = find_tls_host(v, "H0.GEN.test");
  uint32_t w = find_tls_host(v, "x.w.gen.test");
  return h != kNone && v.host(h).policy == 0 && w != kNone && v.host(w).policy == kNone &&
         find_tls_host(v, "h" + std::to_string(1 + g % 5) + ".gen.test") == kNone;
}

TEST(TlsConcurrency, ReadersAlwaysSeeOneWholeGeneration) {
  const size_t generations = env_size("ATSI_CONCURRENCY_GENERATIONS", 10000) / 2;
  const size_t reads_per_reader = env_size("ATSI_CONCURRENCY_LOOKUPS", 250000) / 2;
  constexpr int kReaders = 4;
  std::string name = "t-tls-concurrency-" + std::to_string(::getpid());
  std::unique_ptr<TlsPublisher> pub;
  ASSERT_FALSE(TlsPublisher::open(name, pub));
  PublishResult r;
  ASSERT_FALSE(pub->publish(generation_input(1), now_ms(), r));

  TlsSource source(name);
  source.refresh();
  std::atomic<bool> writer_done{false};
  std::atomic<uint64_t> no_table{0}, backwards{0}, broken{0}, total{0}, switches_seen{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < kReaders; ++i) {
    readers.emplace_back([&] {
      TlsCursor cursor(source);
      uint64_t last = 0, n = 0, switches = 0;
      while (n < reads_per_reader || !writer_done.load(std::memory_order_acquire)) {
        const MappedTls* t = cursor.get();
        if (!t) {
          no_table++;
          break;
        }
        uint64_t g = t->generation();
        if (!whole(t->view())) broken++;
        if (g < last) backwards++;
        if (g != last) switches++;
        last = g;
        ++n;
      }
      total += n;
      switches_seen += switches;
    });
  }
  for (uint64_t g = 2; g <= generations; ++g) {
    Error e = pub->publish(generation_input(g), now_ms(), r);
    ASSERT_FALSE(e) << e.message;
    if (g % 64 == 0) source.refresh(false);  // as the plugin's poller would
  }
  writer_done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(no_table.load(), 0u);
  EXPECT_EQ(backwards.load(), 0u);
  EXPECT_EQ(broken.load(), 0u);
  EXPECT_GE(total.load(), kReaders * reads_per_reader);
  EXPECT_EQ(source.stats().refused, 0u);
  std::printf("[ tls concurrency ] %zu generations, %llu reads, %llu switches seen by readers\n", generations,
              static_cast<unsigned long long>(total.load()), static_cast<unsigned long long>(switches_seen.load()));
  pub->remove_all();
}

// What the plugin's poller publishes: an immutable object whose parts must
// all come from one build.
struct Built {
  explicit Built(uint64_t g) : generation(g), parts(64, g) {}
  uint64_t generation;
  std::vector<uint64_t> parts;
};

TEST(Snapshot, ReadersSeeNullThenEveryValueWholeAndNeverGoBack) {
  Snapshot<Built> snap;
  {
    SnapshotCursor<Built> c(snap);
    EXPECT_EQ(c.get(), nullptr);
    snap.publish(std::make_shared<const Built>(1));
    ASSERT_NE(c.get(), nullptr);
    EXPECT_EQ(c.get()->generation, 1u);
    const Built* held = c.get();
    snap.publish(std::make_shared<const Built>(2));
    EXPECT_EQ(held->generation, 1u);  // still alive: the cursor holds it until its next get()
    EXPECT_EQ(c.get()->generation, 2u);
  }
  const size_t publishes = env_size("ATSI_CONCURRENCY_GENERATIONS", 10000);
  std::atomic<bool> done{false};
  std::atomic<uint64_t> bad{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      SnapshotCursor<Built> c(snap);
      uint64_t last = 0;
      while (!done.load(std::memory_order_acquire)) {
        const Built* b = c.get();
        uint64_t g = b->generation;
        for (uint64_t p : b->parts)
          if (p != g) bad++;
        if (g < last) bad++;
        last = g;
      }
    });
  }
  for (uint64_t g = 3; g < 3 + publishes; ++g) snap.publish(std::make_shared<const Built>(g));
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0u);
}

}  // namespace
}  // namespace atsi
