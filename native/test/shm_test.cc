// The publish protocol over real POSIX shared memory.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "control_block.h"
#include "publisher.h"
#include "shm_names.h"
#include "table_source.h"
#include "test_tables.h"

namespace atsi {
namespace {

using testing::build_bytes;
using testing::TableBuilder;

// Table names are at most 64 bytes: a test's own name can be longer.
std::string unique_name() {
  static int n = 0;
  return "t-shm-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
}

TableInput one_route(const std::string& service, const char* endpoint = "10.0.0.1:80") {
  TableBuilder t;
  uint32_t b = t.backend(service, {endpoint});
  t.host("a.com").prefix("/", b);
  return t.input();
}

std::string routed_service(ReaderCursor& cursor) {
  const MappedTable* t = cursor.get();
  if (!t) return "<no table>";
  Match m = lookup(t->view(), "a.com", "/");
  return std::string(t->view().str(t->view().backend(m.backend).service));
}

class Shm : public ::testing::Test {
 protected:
  void SetUp() override {
    name_ = unique_name();
    ASSERT_FALSE(Publisher::open(name_, pub_));
  }
  void TearDown() override {
    if (pub_) pub_->remove_all();
  }
  uint64_t publish(const TableInput& in) {
    PublishResult r;
    Error e = pub_->publish(in, now_ms(), r);
    EXPECT_FALSE(e) << e.message;
    return r.generation;
  }
  std::vector<std::string> objects() {
    std::vector<std::string> out;
    for (auto& e : std::filesystem::directory_iterator("/dev/shm")) {
      std::string n = e.path().filename();
      if (n.rfind("ats-ingress." + name_ + ".", 0) == 0) out.push_back(n.substr(13 + name_.size()));
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  std::string name_;
  std::unique_ptr<Publisher> pub_;
};

TEST_F(Shm, ReaderSeesNothingUntilTheFirstPublish) {
  std::unique_ptr<Publisher> none;
  TableSource src("never-published-" + std::to_string(::getpid()));
  src.refresh();
  EXPECT_EQ(src.published(), 0u);
  ReaderCursor cursor(src, 0);
  EXPECT_EQ(cursor.get(), nullptr);
}

TEST_F(Shm, ReaderFollowsGenerations) {
  TableSource src(name_);
  ReaderCursor cursor(src, 0);
  src.refresh();
  EXPECT_EQ(cursor.get(), nullptr);  // control exists, nothing published
  EXPECT_EQ(publish(one_route("ns/one")), 1u);
  src.refresh();
  EXPECT_EQ(routed_service(cursor), "ns/one");
  EXPECT_EQ(publish(one_route("ns/two")), 2u);
  // No refresh by a poller: the cursor notices the generation itself.
  EXPECT_EQ(routed_service(cursor), "ns/two");
  EXPECT_EQ(src.stats().switches, 2u);
  EXPECT_EQ(src.stats().serving, 2u);
}

TEST_F(Shm, OnlyTheCurrentAndPreviousTablesRemainAndPermissionsAreReadOnlyForOthers) {
  for (int i = 0; i < 5; ++i) publish(one_route("ns/x"));
  EXPECT_EQ(objects(), (std::vector<std::string>{"4", "5", "ctl"}));
  struct stat st {};
  ASSERT_EQ(::stat(("/dev/shm/ats-ingress." + name_ + ".5").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  ASSERT_EQ(::stat(("/dev/shm/ats-ingress." + name_ + ".ctl").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST_F(Shm, ARefusedTableLeavesTheLastGoodOneServing) {
  TableSource src(name_);
  ReaderCursor cursor(src, 0);
  publish(one_route("ns/good"));
  src.refresh();
  EXPECT_EQ(routed_service(cursor), "ns/good");

  PublishResult r;
  // The writer reseals generation and checksum, but the size gives it away.
  std::vector<uint8_t> truncated = build_bytes(one_route("ns/bad"), 0);
  truncated.resize(truncated.size() / 2);
  ASSERT_FALSE(pub_->publish_bytes(truncated, r));
  EXPECT_EQ(routed_service(cursor), "ns/good");
  EXPECT_EQ(src.stats().refused, 1u);
  EXPECT_NE(src.last_error().find("truncated"), std::string::npos) << src.last_error();
  // The refused generation is not retried on every request.
  for (int i = 0; i < 100; ++i) routed_service(cursor);
  EXPECT_EQ(src.stats().refused, 1u);
  publish(one_route("ns/better"));
  EXPECT_EQ(routed_service(cursor), "ns/better");
}

TEST_F(Shm, ACorruptedObjectIsRefused) {
  TableSource src(name_);
  ReaderCursor cursor(src, 0);
  publish(one_route("ns/good"));
  src.refresh();
  EXPECT_EQ(routed_service(cursor), "ns/good");
  // Corrupt the object of the next generation by hand, then publish it.
  std::vector<uint8_t> bytes = build_bytes(one_route("ns/evil"), 2);
  bytes[200] ^= 1;  // checksum no longer matches
  std::vector<uint8_t> copy = bytes;
  {
    std::ofstream f("/dev/shm/ats-ingress." + name_ + ".2", std::ios::binary);
    f.write(reinterpret_cast<const char*>(copy.data()), std::streamsize(copy.size()));
  }
  // Point the control block at it, as a confused writer would.
  {
    int fd = ::open(("/dev/shm/ats-ingress." + name_ + ".ctl").c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    uint64_t g = 2;
    ASSERT_EQ(::pwrite(fd, &g, 8, offsetof(ControlBlock, generation)), 8);
    ::close(fd);
  }
  EXPECT_EQ(routed_service(cursor), "ns/good");
  EXPECT_EQ(src.stats().refused, 1u);
  EXPECT_EQ(src.last_error(), "/ats-ingress." + name_ + ".2: checksum mismatch");
}

TEST_F(Shm, TheTableOutlivesItsWriterAndALaterReaderMapsItAtOnce) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::unique_ptr<Publisher> p;
    PublishResult r;
    if (Publisher::open(name_, p) || p->publish(one_route("ns/from-child"), now_ms(), r)) _exit(1);
    ::kill(::getpid(), SIGKILL);  // die without any clean-up
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  TableSource src(name_);
  src.refresh();
  ReaderCursor cursor(src, 0);
  EXPECT_EQ(routed_service(cursor), "ns/from-child");
  // A new writer continues the generations.
  EXPECT_EQ(publish(one_route("ns/next")), 2u);
  EXPECT_EQ(routed_service(cursor), "ns/next");
}

TEST_F(Shm, AMappedTableSurvivesBeingUnlinked) {
  TableSource src(name_);
  ReaderCursor slow(src, 0);
  publish(one_route("ns/old"));
  src.refresh();
  const MappedTable* held = slow.get();
  ASSERT_NE(held, nullptr);
  for (int i = 0; i < 5; ++i) publish(one_route("ns/new"));
  // `slow` has not looked again: its table's object is unlinked but still mapped.
  EXPECT_EQ(held->view().str(held->view().backend(0).service), "ns/old");
  EXPECT_EQ(routed_service(slow), "ns/new");
}

TEST_F(Shm, ATableRemovedAndPublishedAnewIsPickedUp) {
  TableSource src(name_);
  ReaderCursor cursor(src, 0);
  for (int i = 0; i < 3; ++i) publish(one_route("ns/old"));
  src.refresh();
  EXPECT_EQ(routed_service(cursor), "ns/old");
  ASSERT_FALSE(pub_->remove_all());
  pub_.reset();
  ASSERT_FALSE(Publisher::open(name_, pub_));
  EXPECT_EQ(publish(one_route("ns/new")), 1u);  // a new control object restarts at 1
  EXPECT_EQ(routed_service(cursor), "ns/old");  // request threads do not look names up
  src.refresh();                                // the poller does
  EXPECT_EQ(routed_service(cursor), "ns/new");
  EXPECT_EQ(publish(one_route("ns/newer")), 2u);
  EXPECT_EQ(routed_service(cursor), "ns/newer");
}

// The table under attack (docs/security.md, "The shared-memory objects").

// Writes `bytes` as the object of generation `g` by hand, with `mode` and
// `owner`, and points the control block at it, as a confused or hostile
// writer would.
void plant(const std::string& name, uint64_t g, const std::vector<uint8_t>& bytes, mode_t mode = 0644,
           uid_t owner = ::geteuid()) {
  std::string path = "/dev/shm/ats-ingress." + name + "." + std::to_string(g);
  ::unlink(path.c_str());
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), ssize_t(bytes.size()));
  ASSERT_EQ(::fchmod(fd, mode), 0);
  if (owner != ::geteuid()) {
    ASSERT_EQ(::fchown(fd, owner, gid_t(-1)), 0);
  }
  ::close(fd);
  int c = ::open(("/dev/shm/ats-ingress." + name + ".ctl").c_str(), O_RDWR);
  ASSERT_GE(c, 0);
  ASSERT_EQ(::pwrite(c, &g, 8, offsetof(ControlBlock, generation)), 8);
  ::close(c);
}

std::string shm_path(const std::string& name, const std::string& suffix) {
  return "/dev/shm/ats-ingress." + name + "." + suffix;
}

TEST(TrustRule, OwnerTheReaderOrRootAndWritableByTheOwnerOnly) {
  Refusal why{};
  EXPECT_EQ(untrusted_object(1000, S_IFREG | 0644, 1000, why), nullptr);
  EXPECT_EQ(untrusted_object(0, S_IFREG | 0600, 1000, why), nullptr);
  EXPECT_EQ(untrusted_object(0, S_IFREG | 0644, 0, why), nullptr);
  EXPECT_NE(untrusted_object(65534, S_IFREG | 0644, 1000, why), nullptr);
  EXPECT_EQ(why, Refusal::kOwner);
  EXPECT_NE(untrusted_object(65534, S_IFREG | 0644, 0, why), nullptr);
  EXPECT_EQ(why, Refusal::kOwner);
  EXPECT_NE(untrusted_object(1000, S_IFREG | 0664, 1000, why), nullptr);
  EXPECT_EQ(why, Refusal::kMode);
  EXPECT_NE(untrusted_object(1000, S_IFREG | 0646, 1000, why), nullptr);
  EXPECT_EQ(why, Refusal::kMode);
  EXPECT_NE(untrusted_object(1000, S_IFDIR | 0755, 1000, why), nullptr);
  EXPECT_EQ(why, Refusal::kMode);
}

TEST_F(Shm, TheServedTableIsACopy_ShrinkingOrRewritingItsObjectChangesNothing) {
  TableSource src(name_);
  ReaderCursor cursor(src, 0);
  publish(one_route("ns/good"));
  src.refresh();
  EXPECT_EQ(routed_service(cursor), "ns/good");
  std::string path = shm_path(name_, "1");
  // Shrunk in place: a mapping of it would fault (SIGBUS) at the next lookup.
  int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 64), 0);
  EXPECT_EQ(routed_service(cursor), "ns/good");
  // Rewritten in place with another valid table of the same generation.
  std::vector<uint8_t> other = build_bytes(one_route("ns/evil"), 1);
  ASSERT_EQ(::pwrite(fd, other.data(), other.size(), 0), ssize_t(other.size()));
  ::close(fd);
  src.refresh();
  EXPECT_EQ(routed_service(cursor), "ns/good");
  // Replaced at the same name by a new object.
  ASSERT_EQ(::unlink(path.c_str()), 0);
  {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(other.data()), std::streamsize(other.size()));
  }
  src.refresh();
  EXPECT_EQ(routed_service(cursor), "ns/good");
  EXPECT_EQ(src.stats().refused, 0u);
  EXPECT_EQ(src.stats().switches, 1u);
}

TEST_F(Shm, ATableOfAnotherOwnerOrWritableByOthersIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give an object to another user (chown)";
  TableSource src(name_);
  ReaderCursor cursor(src, 0);
  publish(one_route("ns/good"));
  src.refresh();
  plant(name_, 2, build_bytes(one_route("ns/evil"), 2), 0644, 65534);
  EXPECT_EQ(routed_service(cursor), "ns/good");
  EXPECT_EQ(src.stats().refused_by[size_t(Refusal::kOwner)], 1u);
  EXPECT_EQ(src.last_error(), "/ats-ingress." + name_ + ".2: is owned by another user (uid 65534; trusted: uid 0)");
  plant(name_, 3, build_bytes(one_route("ns/evil"), 3), 0666);
  EXPECT_EQ(routed_service(cursor), "ns/good");
  EXPECT_EQ(src.stats().refused_by[size_t(Refusal::kMode)], 1u);
  EXPECT_EQ(src.last_error(), "/ats-ingress." + name_ + ".3: is writable by group or others (mode 0666)");
  plant(name_, 4, build_bytes(one_route("ns/evil"), 4), 0664);
  EXPECT_EQ(routed_service(cursor), "ns/good");
  EXPECT_EQ(src.stats().refused_by[size_t(Refusal::kMode)], 2u);
  EXPECT_EQ(src.stats().refused, 3u);
  EXPECT_EQ(publish(one_route("ns/better")), 5u);
  EXPECT_EQ(routed_service(cursor), "ns/better");
}

TEST_F(Shm, AnOversizedObjectIsRefusedBeforeAnyCopy) {
  TableSource src(name_);
  ReaderCursor cursor(src, 0);
  publish(one_route("ns/good"));
  src.refresh();
  // Sparse: no memory behind it.
  std::vector<uint8_t> head = build_bytes(one_route("ns/evil"), 2);
  plant(name_, 2, head);
  ASSERT_EQ(::truncate(shm_path(name_, "2").c_str(), off_t(kMaxTableBytes + 1)), 0);
  EXPECT_EQ(routed_service(cursor), "ns/good");
  EXPECT_EQ(src.stats().refused_by[size_t(Refusal::kSize)], 1u);
  EXPECT_EQ(src.last_error(), "/ats-ingress." + name_ + ".2: size 2147483649 is over the bound of 2147483648 bytes (2 GiB)");
}

TEST_F(Shm, ATableOfAnotherFormatVersionIsRefusedAsSuch) {
  TableSource src(name_);
  ReaderCursor cursor(src, 0);
  publish(one_route("ns/good"));
  src.refresh();
  std::vector<uint8_t> bytes = build_bytes(one_route("ns/old-format"), 2);
  uint32_t v = 1;
  std::memcpy(bytes.data() + offsetof(Header, format_version), &v, 4);
  uint64_t sum = table_checksum(bytes.data(), bytes.size());
  std::memcpy(bytes.data() + offsetof(Header, checksum), &sum, 8);
  plant(name_, 2, bytes);
  EXPECT_EQ(routed_service(cursor), "ns/good");
  EXPECT_EQ(src.stats().refused_by[size_t(Refusal::kVersion)], 1u);
  EXPECT_EQ(src.last_error(), "/ats-ingress." + name_ + ".2: format version 1, this reader knows " +
                                  std::to_string(kFormatVersion));
}

TEST_F(Shm, AControlObjectThatGoesBackIsRefused) {
  TableSource src(name_);
  ReaderCursor cursor(src, 0);
  publish(one_route("ns/old"));
  publish(one_route("ns/new"));
  src.refresh();
  EXPECT_EQ(routed_service(cursor), "ns/new");
  // Generation 1's object is still there (the writer keeps the previous one).
  int c = ::open(shm_path(name_, "ctl").c_str(), O_RDWR);
  ASSERT_GE(c, 0);
  uint64_t g = 1;
  ASSERT_EQ(::pwrite(c, &g, 8, offsetof(ControlBlock, generation)), 8);
  ::close(c);
  EXPECT_EQ(routed_service(cursor), "ns/new");
  EXPECT_EQ(src.stats().control_refused_by[size_t(Refusal::kInvalid)], 1u);
  EXPECT_EQ(src.last_control_error(), "/ats-ingress." + name_ + ".ctl: went back to generation 1 from 2");
  EXPECT_EQ(src.stats().refused, 0u);
}

TEST_F(Shm, AControlObjectNoLongerTrustedOrShrunkIsDroppedAndTheTableKeepsServing) {
  TableSource src(name_);
  ReaderCursor cursor(src, 0);
  publish(one_route("ns/good"));
  src.refresh();
  EXPECT_EQ(routed_service(cursor), "ns/good");
  std::string ctl = shm_path(name_, "ctl");
  ASSERT_EQ(::chmod(ctl.c_str(), 0666), 0);
  src.refresh();
  src.refresh();  // counted once, however often the poller looks
  EXPECT_EQ(src.stats().control_refused_by[size_t(Refusal::kMode)], 1u);
  EXPECT_EQ(src.last_control_error(), "/ats-ingress." + name_ + ".ctl: is writable by group or others (mode 0666)");
  // What is published through it now is not seen.
  EXPECT_EQ(publish(one_route("ns/unseen")), 2u);
  EXPECT_EQ(routed_service(cursor), "ns/good");
  // Trusted again: taken again, as a new control object.
  ASSERT_EQ(::chmod(ctl.c_str(), 0644), 0);
  src.refresh();
  EXPECT_EQ(routed_service(cursor), "ns/unseen");
  // Shrunk in place: dropped at the next poll (a request thread reading it
  // before that would fault: only its owner, the controller's user, can).
  ASSERT_EQ(::truncate(ctl.c_str(), 100), 0);
  src.refresh();
  EXPECT_EQ(routed_service(cursor), "ns/unseen");
  EXPECT_EQ(src.stats().control_refused_by[size_t(Refusal::kSize)], 1u);
  EXPECT_EQ(src.last_control_error(),
            "/ats-ingress." + name_ + ".ctl: size 100 is less than a control object's 4096");
  EXPECT_EQ(src.stats().control_refused, 2u);
  EXPECT_EQ(src.stats().refused, 0u);
}

TEST_F(Shm, AControlObjectReplacedByAForeignOrBrokenOneIsRefused) {
  TableSource src(name_);
  ReaderCursor cursor(src, 0);
  publish(one_route("ns/good"));
  src.refresh();
  std::string ctl = shm_path(name_, "ctl");
  auto replace = [&](const std::vector<char>& bytes, mode_t mode, uid_t owner) {
    ASSERT_EQ(::unlink(ctl.c_str()), 0);
    int fd = ::open(ctl.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), ssize_t(bytes.size()));
    ASSERT_EQ(::fchmod(fd, mode), 0);
    if (owner != ::geteuid()) {
      ASSERT_EQ(::fchown(fd, owner, gid_t(-1)), 0);
    }
    ::close(fd);
  };
  std::vector<char> garbage(kControlSize, 'x');
  replace(garbage, 0644, ::geteuid());
  src.refresh();
  // Not at first sight: a writer creating one copies the magic in last.
  EXPECT_EQ(src.stats().control_refused, 0u) << src.last_control_error();
  std::this_thread::sleep_for(std::chrono::milliseconds(TableSource::kControlGraceMs + 50));
  src.refresh();
  EXPECT_EQ(routed_service(cursor), "ns/good");
  EXPECT_EQ(src.stats().control_refused_by[size_t(Refusal::kInvalid)], 1u);
  EXPECT_EQ(src.last_control_error(), "/ats-ingress." + name_ + ".ctl: bad magic: not an ats-ingress control object");
  // A good-looking one pointing at generation 7, owned by someone else.
  std::vector<char> foreign(kControlSize, 0);
  ControlBlock* b = reinterpret_cast<ControlBlock*>(foreign.data());
  std::memcpy(b->magic, kControlMagic, sizeof b->magic);
  b->size = kControlSize;
  b->format_version = kFormatVersion;
  uint64_t seven = 7;
  std::memcpy(foreign.data() + offsetof(ControlBlock, generation), &seven, 8);
  if (::geteuid() == 0) {
    replace(foreign, 0644, 65534);
    src.refresh();
    EXPECT_EQ(routed_service(cursor), "ns/good");
    EXPECT_EQ(src.stats().control_refused_by[size_t(Refusal::kOwner)], 1u);
  }
  // One that stays empty: a writer creating it, then refused after the grace.
  replace({}, 0644, ::geteuid());
  src.refresh();
  EXPECT_EQ(src.stats().control_refused_by[size_t(Refusal::kSize)], 0u);
  std::this_thread::sleep_for(std::chrono::milliseconds(TableSource::kControlGraceMs + 50));
  src.refresh();
  EXPECT_EQ(src.stats().control_refused_by[size_t(Refusal::kSize)], 1u);
  EXPECT_EQ(routed_service(cursor), "ns/good");
  EXPECT_EQ(src.stats().refused, 0u);
}

TEST_F(Shm, AnObjectChangingWhileReadIsRefusedOrServedWhole) {
  TableSource src(name_);
  ReaderCursor cursor(src, 0);
  publish(one_route("ns/good"));
  src.refresh();
  // Another thread shrinks and rewrites each new generation's object again
  // and again while the reader takes it: never a fault, never a torn table.
  std::atomic<uint64_t> target{0};
  std::atomic<bool> done{false};
  std::vector<std::vector<uint8_t>> tables(100);
  std::thread mutator([&] {
    while (!done.load()) {
      uint64_t g = target.load();
      if (g == 0) continue;
      int fd = ::open(shm_path(name_, std::to_string(g)).c_str(), O_RDWR);
      if (fd < 0) continue;
      const std::vector<uint8_t>& b = tables[g];
      EXPECT_EQ(::ftruncate(fd, off_t(b.size() / 2)), 0);
      EXPECT_EQ(::pwrite(fd, b.data(), b.size(), 0), ssize_t(b.size()));
      ::close(fd);
    }
  });
  uint64_t served = 0;
  for (uint64_t g = 2; g < tables.size(); ++g) {
    // Big enough (about 200 KiB) that a read takes a while.
    TableBuilder tb;
    uint32_t b = tb.backend("ns/g" + std::to_string(g), {"10.0.0.1:80"});
    for (int h = 0; h < 1000; ++h) tb.host("h" + std::to_string(h) + ".com").prefix("/", b);
    tb.host("a.com").prefix("/", b);
    tables[g] = build_bytes(tb.input(), g);
    plant(name_, g, tables[g]);
    target.store(g);
    std::this_thread::sleep_for(std::chrono::microseconds(50));
    src.refresh();
    const MappedTable* t = cursor.get();
    ASSERT_NE(t, nullptr);
    if (t->generation() == g) {
      ++served;
      EXPECT_EQ(routed_service(cursor), "ns/g" + std::to_string(g));
    }
  }
  done.store(true);
  mutator.join();
  SourceStats st = src.stats();
  EXPECT_EQ(served + st.refused, tables.size() - 2);
  EXPECT_EQ(st.refused, st.refused_by[size_t(Refusal::kChanged)] + st.refused_by[size_t(Refusal::kInvalid)] +
                            st.refused_by[size_t(Refusal::kSize)]);
  std::printf("[ changing objects ] %llu served whole, %llu refused (%llu changed while read, %llu invalid, %llu size)\n",
              static_cast<unsigned long long>(served), static_cast<unsigned long long>(st.refused),
              static_cast<unsigned long long>(st.refused_by[size_t(Refusal::kChanged)]),
              static_cast<unsigned long long>(st.refused_by[size_t(Refusal::kInvalid)]),
              static_cast<unsigned long long>(st.refused_by[size_t(Refusal::kSize)]));
}

TEST(ShmNames, RefusesNamesThatCannotNameAnObject) {
  std::unique_ptr<Publisher> p;
  EXPECT_EQ(Publisher::open("a/b", p).code, ErrorCode::kInvalidName);
  EXPECT_EQ(Publisher::open("", p).code, ErrorCode::kInvalidName);
  EXPECT_EQ(Publisher::open(std::string(65, 'a'), p).code, ErrorCode::kInvalidName);
  EXPECT_TRUE(is_valid_table_name("default"));
  EXPECT_EQ(control_object_name("x"), "/ats-ingress.x.ctl");
  EXPECT_EQ(table_object_name("x", 12), "/ats-ingress.x.12");
}

TEST(ShmNames, CheckTableNameSaysWhatIsWrong) {
  EXPECT_FALSE(check_table_name("a-B_9"));
  EXPECT_FALSE(check_table_name(std::string(64, 'a')));
  Error e = check_table_name("a.b");
  EXPECT_EQ(e.code, ErrorCode::kInvalidName);
  EXPECT_EQ(e.message, "table name \"a.b\" must be 1 to 64 letters, digits, '_' or '-'");
  // The writer refuses with the very same error.
  std::unique_ptr<Publisher> p;
  EXPECT_EQ(Publisher::open("a.b", p).message, e.message);
}

}  // namespace
}  // namespace atsi
