// The hot path allocates nothing: lookups, endpoint picks and the per-request
// generation check, counted by replacing the global operator new.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "publisher.h"
#include "table_source.h"
#include "test_tables.h"

namespace {
std::atomic<long> g_allocations{0};
thread_local bool t_counting = false;
}  // namespace

// GCC cannot see that these pair with the operator new above.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(size_t n) {
  if (t_counting) g_allocations++;
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

}  // namespace
}  // namespace atsi
