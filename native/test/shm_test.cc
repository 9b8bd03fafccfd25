// The publish protocol over real POSIX shared memory.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

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
