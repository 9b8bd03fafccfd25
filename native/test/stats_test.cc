// The plugin's request counters (stats_region.h): layout, counting, the
// overflow block, the high-water mark, a new instance replacing an old one,
// and a reader that refuses every malformed object with its code.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <functional>
#include <new>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "publisher.h"
#include "shm_names.h"
#include "stats_region.h"
#include "test_tables.h"

namespace atsi {
namespace {

std::string unique_name() {
  static int n = 0;
  return "t-stats-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
}

uint64_t at(const std::vector<uint64_t>& c, uint32_t slot, StatsCounter k) {
  size_t i = size_t(slot) * kStatsCounterCount + k;
  return i < c.size() ? c[i] : 0;
}

// An object image laid out as a writer lays it out, in 8-byte-aligned memory.
struct Image {
  std::vector<uint64_t> words;
  uint8_t* bytes() { return reinterpret_cast<uint8_t*>(words.data()); }
  size_t size() const { return words.size() * 8; }
  StatsHeader& header() { return *reinterpret_cast<StatsHeader*>(words.data()); }
  StatsBlockHeader& block(uint32_t b) {
    return *reinterpret_cast<StatsBlockHeader*>(bytes() + header().header_size + b * header().block_size);
  }
  uint64_t* counters(uint32_t b) {
    return reinterpret_cast<uint64_t*>(reinterpret_cast<uint8_t*>(&block(b)) + header().block_header_size);
  }
};

Image make_image(uint32_t slots, uint32_t threads) {
  Image im;
  im.words.assign(stats_total_size(slots, threads) / 8, 0);
  auto* h = new (im.words.data()) StatsHeader();
  h->format_version = kStatsFormatVersion;
  h->header_size = kStatsHeaderSize;
  h->max_threads = threads;
  h->max_slots = slots;
  h->counters_per_slot = kStatsCounterCount;
  h->block_header_size = kStatsBlockHeaderSize;
  h->block_size = stats_block_size(slots);
  h->total_size = stats_total_size(slots, threads);
  h->instance = 42;
  h->created_ms = 1700000000000;
  h->writer_pid = 7;
  h->magic.store(kStatsMagic);
  return im;
}

// Puts `bytes` under the counters name of `table`, as a foreign or broken
// writer would.
void put_object(const std::string& table, const void* bytes, size_t n) {
  std::string name = stats_object_name(table);
  ::shm_unlink(name.c_str());
  int fd = ::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, off_t(n)), 0);
  ASSERT_EQ(::pwrite(fd, bytes, n, 0), ssize_t(n));
  ::close(fd);
}

Error read_code(const std::string& table) {
  StatsReader r(table);
  std::vector<uint64_t> c;
  StatsSnapshot s;
  return r.read(c, s);
}

class Stats : public ::testing::Test {
 protected:
  void SetUp() override {
    name_ = unique_name();
    reader_ = std::make_unique<StatsReader>(name_);
  }
  void TearDown() override { remove_stats(name_); }
  std::unique_ptr<StatsWriter> make(uint32_t slots = 16, uint32_t threads = 4) {
    std::unique_ptr<StatsWriter> w;
    StatsOptions o;
    o.max_slots = slots;
    o.max_threads = threads;
    Error e = StatsWriter::create(name_, o, w);
    EXPECT_FALSE(e) << e.message;
    return w;
  }
  StatsSnapshot read(std::vector<uint64_t>& c) {
    StatsSnapshot s;
    Error e = reader_->read(c, s);
    EXPECT_FALSE(e) << e.message;
    return s;
  }
  std::string name_;
  std::unique_ptr<StatsReader> reader_;
};

TEST(StatsLayout, SizesAndNames) {
  EXPECT_EQ(offsetof(StatsHeader, next_thread), 128u);  // its own cache line, after the fixed fields
  EXPECT_EQ(stats_block_size(kStatsDefaultSlots), 1183744u);  // 289 pages
  EXPECT_EQ(stats_total_size(kStatsDefaultSlots, kStatsDefaultThreads), 4096u + 65u * 1183744u);
  EXPECT_EQ(stats_block_size(1), kStatsPageSize);
  EXPECT_EQ(stats_object_name("default"), "/ats-ingress.default.stats");
  std::string counter_names;
  for (const char* n : kStatsCounterNames) counter_names += std::string(n) + ",";
  EXPECT_EQ(counter_names, "1xx,2xx,3xx,4xx,5xx,hit_fresh,hit_stale,miss,not_cacheable,");
}

TEST(StatsLayout, NoGenerationSweepMatchesTheCountersObject) {
  EXPECT_EQ(object_generation("ats-ingress.t.stats", "t", kRouteBlob), std::nullopt);
  EXPECT_EQ(object_generation("ats-ingress.t.stats", "t", kTlsBlob), std::nullopt);
  EXPECT_EQ(object_generation("ats-ingress.t.7", "t", kRouteBlob), 7u);  // what the sweep does match
}

TEST_F(Stats, CountsByStatusClassAndCacheResult) {
  auto w = make();
  StatsWriter::Thread& t = w->thread();
  EXPECT_EQ(&t, &w->thread());
  EXPECT_FALSE(t.shared());
  t.count(3, 200, CacheResult::kHitFresh);
  t.count(3, 204, CacheResult::kMiss);
  t.count(3, 503, CacheResult::kNotCacheable);
  t.count(0, 101, CacheResult::kNotCacheable);
  t.count(1, 304, CacheResult::kHitStale);
  t.count(1, 404, CacheResult::kMiss);
  t.count(1, 599, CacheResult::kMiss);
  std::vector<uint64_t> c;
  StatsSnapshot s = read(c);
  EXPECT_EQ(s.instance, w->instance());
  EXPECT_NE(s.instance, 0u);
  EXPECT_NEAR(double(s.created_ms), double(now_ms()), 60000.0);
  EXPECT_EQ(s.writer_pid, uint64_t(::getpid()));
  EXPECT_EQ(s.slots, 4u);
  EXPECT_EQ(c.size(), 4u * kStatsCounterCount);
  EXPECT_EQ(s.max_slots, 16u);
  EXPECT_EQ(s.max_threads, 4u);
  EXPECT_EQ(s.blocks, 1u);
  EXPECT_FALSE(s.overflow);
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(at(c, 3, kStats2xx), 2u);
  EXPECT_EQ(at(c, 3, kStats5xx), 1u);
  EXPECT_EQ(at(c, 3, kStatsHitFresh), 1u);
  EXPECT_EQ(at(c, 3, kStatsMiss), 1u);
  EXPECT_EQ(at(c, 3, kStatsNotCacheable), 1u);
  EXPECT_EQ(at(c, 0, kStats1xx), 1u);
  EXPECT_EQ(at(c, 1, kStats3xx), 1u);
  EXPECT_EQ(at(c, 1, kStats4xx), 1u);
  EXPECT_EQ(at(c, 1, kStats5xx), 1u);
  EXPECT_EQ(at(c, 1, kStatsHitStale), 1u);
  EXPECT_EQ(at(c, 1, kStatsMiss), 2u);
  uint64_t total = 0;
  for (uint64_t v : c) total += v;
  EXPECT_EQ(total, 14u);  // each request once by status, once by cache result
  EXPECT_EQ(at(c, 2, kStats2xx), 0u);
}

TEST_F(Stats, OutOfRangeIsDroppedAndCounted) {
  auto w = make(16, 4);
  StatsWriter::Thread& t = w->thread();
  t.count(16, 200, CacheResult::kMiss);       // slot past max
  t.count(kNone, 200, CacheResult::kMiss);    // no slot
  t.count(2, 99, CacheResult::kMiss);         // status below 100
  t.count(2, 0, CacheResult::kMiss);
  t.count(2, 600, CacheResult::kMiss);        // past 5xx
  t.count(2, 200, CacheResult(4));            // no such cache result
  t.count(2, 200, CacheResult::kMiss);        // the one counted
  std::vector<uint64_t> c;
  StatsSnapshot s = read(c);
  EXPECT_EQ(s.dropped, 6u);
  EXPECT_EQ(s.slots, 3u);
  EXPECT_EQ(at(c, 2, kStats2xx), 1u);
  EXPECT_EQ(at(c, 2, kStatsMiss), 1u);
}

TEST_F(Stats, HighWaterMarkBoundsWhatIsRead) {
  auto w = make(16, 4);
  std::vector<uint64_t> c;
  EXPECT_EQ(read(c).slots, 0u);  // created, nothing counted: no block claimed
  EXPECT_TRUE(c.empty());
  w->thread().count(5, 200, CacheResult::kMiss);
  EXPECT_EQ(read(c).slots, 6u);
  w->thread().count(2, 200, CacheResult::kMiss);
  EXPECT_EQ(read(c).slots, 6u);
  for (uint32_t slot : {0u, 1u, 3u, 4u}) EXPECT_EQ(at(c, slot, kStats2xx), 0u) << slot;
  std::thread([&] { w->thread().count(9, 200, CacheResult::kMiss); }).join();
  StatsSnapshot s = read(c);
  EXPECT_EQ(s.slots, 10u);  // the largest mark of any block
  EXPECT_EQ(s.blocks, 2u);
}

TEST_F(Stats, ARegionStaysSparse) {
  auto w = make(kStatsDefaultSlots, kStatsDefaultThreads);
  EXPECT_EQ(w->size_bytes(), stats_total_size(kStatsDefaultSlots, kStatsDefaultThreads));
  EXPECT_GT(w->filesystem_free_bytes(), 0u);
  w->thread().count(0, 200, CacheResult::kMiss);
  w->thread().count(100, 200, CacheResult::kMiss);
  std::vector<uint64_t> c;
  EXPECT_EQ(read(c).slots, 101u);
  struct stat st {};
  ASSERT_EQ(::stat(("/dev/shm" + stats_object_name(name_)).c_str(), &st), 0);
  EXPECT_EQ(uint64_t(st.st_size), w->size_bytes());
  // The header page and the two pages under slot 100's mark, of 73 MiB.
  EXPECT_LE(uint64_t(st.st_blocks) * 512, 4 * kStatsPageSize) << st.st_blocks;
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST_F(Stats, ThreadsPastTheLimitShareTheOverflowBlock) {
  auto w = make(8, 2);
  std::vector<bool> shared(5);
  for (int i = 0; i < 5; ++i) {
    std::thread([&, i] {
      StatsWriter::Thread& t = w->thread();
      shared[i] = t.shared();
      t.count(1, 200, CacheResult::kHitFresh);
      t.count(uint32_t(i), 500, CacheResult::kMiss);
    }).join();
  }
  EXPECT_EQ(shared, (std::vector<bool>{false, false, true, true, true}));
  std::vector<uint64_t> c;
  StatsSnapshot s = read(c);
  EXPECT_TRUE(s.overflow);
  EXPECT_EQ(s.blocks, 3u);
  EXPECT_EQ(s.slots, 5u);
  EXPECT_EQ(at(c, 1, kStats2xx), 5u);
  EXPECT_EQ(at(c, 1, kStatsHitFresh), 5u);
  for (uint32_t i = 0; i < 5; ++i) EXPECT_EQ(at(c, i, kStats5xx), 1u) << i;
}

TEST_F(Stats, ANewInstanceReplacesTheOldWhileAReaderHoldsIt) {
  auto old_writer = make();
  old_writer->thread().count(1, 200, CacheResult::kMiss);
  std::vector<uint64_t> c;
  StatsSnapshot s = read(c);
  EXPECT_EQ(s.instance, old_writer->instance());
  EXPECT_EQ(at(c, 1, kStats2xx), 1u);

  // ATS restarts: the new one replaces the object while the old one (and
  // the reader's mapping of it) still exist.
  auto new_writer = make(32, 2);
  EXPECT_NE(new_writer->instance(), old_writer->instance());
  old_writer->thread().count(1, 200, CacheResult::kMiss);  // into the unlinked object: nobody sees it
  s = read(c);
  EXPECT_EQ(s.instance, new_writer->instance());
  EXPECT_EQ(s.slots, 0u);
  EXPECT_EQ(s.max_slots, 32u);
  new_writer->thread().count(3, 404, CacheResult::kHitStale);
  s = read(c);
  EXPECT_EQ(at(c, 3, kStats4xx), 1u);
  EXPECT_EQ(at(c, 1, kStats2xx), 0u);
  EXPECT_EQ(s.slots, 4u);
  // The writer's end leaves the counts for readers.
  uint64_t last = new_writer->instance();
  new_writer.reset();
  s = read(c);
  EXPECT_EQ(s.instance, last);
  EXPECT_EQ(at(c, 3, kStats4xx), 1u);
}

TEST_F(Stats, MissingAndBeingCreatedAreNotFound) {
  EXPECT_EQ(read_code(name_).code, ErrorCode::kStatsNotFound);
  put_object(name_, "", 0);  // created, not sized yet
  EXPECT_EQ(read_code(name_).code, ErrorCode::kStatsNotFound);
  std::vector<uint8_t> zeros(stats_total_size(4, 1));  // sized, no magic yet
  put_object(name_, zeros.data(), zeros.size());
  Error e = read_code(name_);
  EXPECT_EQ(e.code, ErrorCode::kStatsNotFound) << e.message;
  EXPECT_NE(e.message.find("being created"), std::string::npos) << e.message;
  // Removed: not found again, and a reader that had mapped it lets it go.
  auto w = make();
  std::vector<uint64_t> c;
  read(c);
  ASSERT_FALSE(remove_stats(name_));
  StatsSnapshot s;
  EXPECT_EQ(reader_->read(c, s).code, ErrorCode::kStatsNotFound);
  EXPECT_FALSE(remove_stats(name_));  // none is no error
}

TEST_F(Stats, MalformedObjectsAreRefusedWithTheirCode) {
  Image good = make_image(4, 2);
  put_object(name_, good.bytes(), good.size());
  ASSERT_FALSE(read_code(name_)) << read_code(name_).message;

  struct Case {
    const char* what;
    std::function<void(Image&)> mutate;
    size_t size;  // 0: the image's
  };
  const uint64_t page = kStatsPageSize;
  std::vector<Case> cases = {
      {"truncated below a header", [](Image&) {}, 100},
      {"truncated: blocks past the end", [](Image&) {}, size_t(stats_total_size(4, 2) - page)},
      {"wrong magic", [](Image& m) { m.header().magic.store(0x4c4c4c4c4c4c4c4cull); }, 0},
      {"route table magic", [](Image& m) { std::memcpy(m.bytes(), "ATSIRTB1", 8); }, 0},
      {"format version", [](Image& m) { m.header().format_version = 2; }, 0},
      {"counters per slot", [](Image& m) { m.header().counters_per_slot = 10; }, 0},
      {"header size not a page", [](Image& m) { m.header().header_size = 100; }, 0},
      {"header size past the end", [](Image& m) { m.header().header_size = 1u << 30; }, 0},
      {"no slots", [](Image& m) { m.header().max_slots = 0; }, 0},
      {"too many slots", [](Image& m) { m.header().max_slots = kStatsSlotLimit + 1; }, 0},
      {"more slots than the blocks hold", [](Image& m) { m.header().max_slots = 1000; }, 0},
      {"no threads", [](Image& m) { m.header().max_threads = 0; }, 0},
      {"too many threads", [](Image& m) { m.header().max_threads = kStatsThreadLimit + 1; }, 0},
      {"more blocks than the file", [](Image& m) {
         m.header().max_threads = 9;
         m.header().total_size = stats_total_size(4, 9);
       }, 0},
      {"block size overflows", [](Image& m) {
         m.header().block_size = uint64_t(1) << 62;
         m.header().total_size = (uint64_t(1) << 62) * 3 + kStatsHeaderSize;  // wraps: 2^62 + 4096
       }, 0},
      {"block size not a page", [](Image& m) { m.header().block_size += 8; }, 0},
      {"block header size", [](Image& m) { m.header().block_header_size = 4; }, 0},
      {"total size disagrees", [](Image& m) { m.header().total_size -= page; }, 0},
      {"instance 0", [](Image& m) { m.header().instance = 0; }, 0},
      {"a block's high-water mark past its slots", [](Image& m) {
         m.header().next_thread.store(2);
         m.block(1).high_water.store(5);
       }, 0},
  };
  for (const Case& k : cases) {
    Image bad = make_image(4, 2);
    k.mutate(bad);
    put_object(name_, bad.bytes(), k.size ? k.size : bad.size());
    Error e = read_code(name_);
    EXPECT_EQ(e.code, ErrorCode::kInvalidStats) << k.what << ": " << e.message;
    EXPECT_NE(e.message.find(stats_object_name(name_)), std::string::npos) << k.what << ": " << e.message;
  }
}

TEST(StatsValidate, ClaimedBlocksAreReadOnlyUpToTheLimit) {
  Image m = make_image(4, 2);
  m.header().next_thread.store(0xFFFFFFFFu);  // more threads than there will ever be
  for (uint32_t b = 0; b < 3; ++b) {
    m.block(b).high_water.store(2);
    m.counters(b)[1 * kStatsCounterCount + kStats2xx] = 10 + b;
  }
  StatsLayout l;
  ASSERT_FALSE(validate_stats(m.bytes(), m.size(), l));
  std::vector<uint64_t> c;
  StatsSnapshot s;
  ASSERT_FALSE(sum_stats(m.bytes(), l, c, s));
  EXPECT_TRUE(s.overflow);
  EXPECT_EQ(s.blocks, 3u);
  EXPECT_EQ(at(c, 1, kStats2xx), 33u);
  EXPECT_EQ(s.instance, 42u);
  EXPECT_EQ(s.created_ms, 1700000000000u);
}

// Random bytes and mutated headers: the reader refuses or reads, never
// reads out of bounds (ASan and UBSan run this too).
TEST(StatsValidate, RandomBytesNeverCrashTheReader) {
  std::mt19937_64 rng(12345);
  size_t accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    Image m = make_image(1 + uint32_t(rng() % 8), 1 + uint32_t(rng() % 3));
    size_t size = m.size();
    switch (i % 4) {
      case 0:  // random bytes throughout the header
        for (size_t w = 0; w < 16; ++w) m.words[w] = rng();
        if (rng() % 2) m.header().magic.store(kStatsMagic);
        break;
      case 1:  // a few flipped bytes in the header or a block header
        for (int f = 0; f < 3; ++f) {
          size_t off = rng() % 2 ? rng() % 128 : kStatsHeaderSize + (rng() % 3) * m.header().block_size + rng() % 8;
          if (off < size) m.bytes()[off] ^= uint8_t(1u << (rng() % 8));
        }
        break;
      case 2:  // a truncation
        size = rng() % (size + 1);
        break;
      default:  // a block count and marks of any value
        m.header().next_thread.store(uint32_t(rng()));
        for (uint32_t b = 0; b <= m.header().max_threads; ++b) m.block(b).high_water.store(uint32_t(rng() % 12));
        break;
    }
    // The object as the reader would map it: exactly `size` bytes.
    std::vector<uint64_t> exact((size + 7) / 8);
    std::memcpy(exact.data(), m.bytes(), size);
    const auto* base = reinterpret_cast<const uint8_t*>(exact.data());
    StatsLayout l;
    if (validate_stats(base, size, l)) continue;
    std::vector<uint64_t> c;
    StatsSnapshot s;
    if (!sum_stats(base, l, c, s)) {
      ++accepted;
      EXPECT_LE(s.slots, l.max_slots);
      EXPECT_EQ(c.size(), size_t(s.slots) * kStatsCounterCount);
    }
  }
  EXPECT_GT(accepted, 1000u);  // the mutations leave many valid, so reading gets exercised too
}

TEST_F(Stats, OptionsAreBounded) {
  std::unique_ptr<StatsWriter> w;
  StatsOptions o;
  o.max_slots = 0;
  EXPECT_EQ(StatsWriter::create(name_, o, w).code, ErrorCode::kInvalidArg);
  o.max_slots = kStatsSlotLimit + 1;
  EXPECT_EQ(StatsWriter::create(name_, o, w).code, ErrorCode::kInvalidArg);
  o = {};
  o.max_threads = 0;
  EXPECT_EQ(StatsWriter::create(name_, o, w).code, ErrorCode::kInvalidArg);
  o.max_threads = kStatsThreadLimit + 1;
  EXPECT_EQ(StatsWriter::create(name_, o, w).code, ErrorCode::kInvalidArg);
  o = {};
  o.mode = 01777;
  EXPECT_EQ(StatsWriter::create(name_, o, w).code, ErrorCode::kInvalidArg);
  EXPECT_EQ(StatsWriter::create("a.b", {}, w).code, ErrorCode::kInvalidName);
  EXPECT_EQ(w, nullptr);
  EXPECT_EQ(read_code("a.b").code, ErrorCode::kInvalidName);
  // The largest allowed is only virtual size.
  o = {};
  o.max_slots = kStatsSlotLimit;
  o.max_threads = kStatsThreadLimit;
  ASSERT_FALSE(StatsWriter::create(name_, o, w));
  w->thread().count(kStatsSlotLimit - 1, 200, CacheResult::kMiss);
  std::vector<uint64_t> c;
  StatsSnapshot s;
  StatsReader r(name_);
  ASSERT_FALSE(r.read(c, s));
  EXPECT_EQ(s.slots, kStatsSlotLimit);
  EXPECT_EQ(at(c, kStatsSlotLimit - 1, kStats2xx), 1u);
}

TEST_F(Stats, ModeIsTheOptionsWhateverTheUmask) {
  mode_t old = ::umask(077);
  StatsOptions o;
  o.max_slots = 4;
  o.max_threads = 1;
  o.mode = 0644;
  std::unique_ptr<StatsWriter> w;
  Error e = StatsWriter::create(name_, o, w);
  ::umask(old);
  ASSERT_FALSE(e) << e.message;
  struct stat st {};
  ASSERT_EQ(::stat(("/dev/shm" + stats_object_name(name_)).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST_F(Stats, TheRouteTablesRemoveAllLeavesTheCounters) {
  auto w = make();
  w->thread().count(0, 200, CacheResult::kMiss);
  std::unique_ptr<Publisher> pub;
  ASSERT_FALSE(Publisher::open(name_, pub));
  testing::TableBuilder t;
  t.host("a.com").prefix("/", t.backend("ns/a", {"10.0.0.1:80"}));
  PublishResult r;
  ASSERT_FALSE(pub->publish(t.input(), now_ms(), r));
  ASSERT_FALSE(pub->publish(t.input(), now_ms(), r));  // sweeps what it thinks old
  ASSERT_FALSE(pub->remove_all());
  std::vector<uint64_t> c;
  read(c);
  EXPECT_EQ(at(c, 0, kStats2xx), 1u);
}

}  // namespace
}  // namespace atsi
