// The TLS table's publish protocol over real POSIX shared memory: the same
// protocol as the route table's, under its own object names and mode, and
// the two kinds never touch each other's objects.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "publisher.h"
#include "shm_names.h"
#include "table_source.h"
#include "test_tables.h"
#include "tls_encoder.h"
#include "tls_writer.h"

namespace atsi {
namespace {

using testing::fake_pem;

std::string unique_name() {
  static int n = 0;
  return "t-tls-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
}

// One host "a.com" served the certificate of Secret `secret`.
TlsInput one_host(const std::string& secret) {
  TlsInput in;
  in.certificates.push_back({secret, fake_pem("CERTIFICATE", secret), fake_pem("PRIVATE KEY", secret), 0});
  in.hosts.push_back({"a.com", 0, kNone});
  return in;
}

TableInput one_route() {
  testing::TableBuilder t;
  uint32_t b = t.backend("ns/svc", {"10.0.0.1:80"});
  t.host("a.com").prefix("/", b);
  return t.input();
}

std::string served(TlsCursor& cursor) {
  const MappedTls* t = cursor.get();
  if (!t) return "<no table>";
  uint32_t h = find_tls_host(t->view(), "a.com");
  if (h == kNone) return "<no host>";
  return std::string(t->view().str(t->view().certificate(t->view().host(h).certificate).secret));
}

mode_t mode_of(const std::string& object) {
  struct stat st {};
  if (::stat(("/dev/shm" + object).c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}

class TlsShm : public ::testing::Test {
 protected:
  void SetUp() override {
    name_ = unique_name();
    ASSERT_FALSE(TlsPublisher::open(name_, tls_));
  }
  void TearDown() override {
    if (tls_) tls_->remove_all();
    if (routes_) routes_->remove_all();
  }
  uint64_t publish(const TlsInput& in) {
    PublishResult r;
    Error e = tls_->publish(in, now_ms(), r);
    EXPECT_FALSE(e) << e.message;
    return r.generation;
  }
  // The objects of this test's table name, without the common prefix.
  std::vector<std::string> objects() {
    std::vector<std::string> out;
    std::string prefix = "ats-ingress." + name_ + ".";
    for (auto& e : std::filesystem::directory_iterator("/dev/shm")) {
      std::string n = e.path().filename();
      if (n.rfind(prefix, 0) == 0) out.push_back(n.substr(prefix.size()));
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  std::string name_;
  std::unique_ptr<TlsPublisher> tls_;
  std::unique_ptr<Publisher> routes_;
};

TEST_F(TlsShm, ObjectNamesAreTheTlsKinds) {
  EXPECT_EQ(control_object_name("x", kTlsBlob), "/ats-ingress.x.tls.ctl");
  EXPECT_EQ(table_object_name("x", 12, kTlsBlob), "/ats-ingress.x.tls.12");
  EXPECT_EQ(object_generation("ats-ingress.x.tls.12", "x", kTlsBlob), 12u);
  EXPECT_EQ(object_generation("ats-ingress.x.12", "x", kTlsBlob), std::nullopt);
  EXPECT_EQ(object_generation("ats-ingress.x.tls.12", "x", kRouteBlob), std::nullopt);
  EXPECT_EQ(object_generation("ats-ingress.x.tls.ctl", "x", kTlsBlob), std::nullopt);
  EXPECT_EQ(object_generation("ats-ingress.x.12", "x", kRouteBlob), 12u);
  EXPECT_EQ(object_generation("ats-ingress.xy.12", "x", kRouteBlob), std::nullopt);
  EXPECT_EQ(object_generation("ats-ingress.x.", "x", kRouteBlob), std::nullopt);
  std::unique_ptr<TlsPublisher> p;
  EXPECT_EQ(TlsPublisher::open("a.tls", p).code, ErrorCode::kInvalidName);
}

TEST_F(TlsShm, ReaderFollowsGenerations) {
  TlsSource src(name_);
  TlsCursor cursor(src);
  src.refresh();
  EXPECT_EQ(cursor.get(), nullptr);  // control exists, nothing published
  EXPECT_EQ(publish(one_host("ns/one")), 1u);
  src.refresh();
  EXPECT_EQ(served(cursor), "ns/one");
  EXPECT_EQ(publish(one_host("ns/two")), 2u);
  EXPECT_EQ(served(cursor), "ns/two");  // no poller: the cursor notices
  EXPECT_EQ(src.stats().switches, 2u);
  EXPECT_EQ(src.stats().serving, 2u);
}

TEST_F(TlsShm, ObjectsAreOwnerOnlyWhateverTheUmask) {
  tls_->remove_all();
  tls_.reset();
  mode_t old = ::umask(0);
  std::string name = name_ + "-u";
  std::unique_ptr<TlsPublisher> p;
  ASSERT_FALSE(TlsPublisher::open(name, p));
  PublishResult r;
  ASSERT_FALSE(p->publish(one_host("ns/a"), now_ms(), r));
  ::umask(old);
  EXPECT_EQ(mode_of(control_object_name(name, kTlsBlob)), 0600u);
  EXPECT_EQ(mode_of(table_object_name(name, 1, kTlsBlob)), 0600u);
  // And a control object left with a wider mode is narrowed when opened.
  ASSERT_EQ(::chmod(("/dev/shm" + control_object_name(name, kTlsBlob)).c_str(), 0666), 0);
  p.reset();
  ASSERT_FALSE(TlsPublisher::open(name, p));
  EXPECT_EQ(mode_of(control_object_name(name, kTlsBlob)), 0600u);
  p->remove_all();
}

TEST_F(TlsShm, RoutesAndTlsKeepTheirOwnGenerationsAndNeverSweepEachOther) {
  ASSERT_FALSE(Publisher::open(name_, routes_));
  PublishResult r;
  for (int i = 0; i < 5; ++i) {
    ASSERT_FALSE(routes_->publish(one_route(), now_ms(), r));
    publish(one_host("ns/x"));
    publish(one_host("ns/x"));
  }
  EXPECT_EQ(r.generation, 5u);
  EXPECT_EQ(objects(), (std::vector<std::string>{"4", "5", "ctl", "tls.10", "tls.9", "tls.ctl"}));
  EXPECT_EQ(mode_of(table_object_name(name_, 5)), 0644u);
  EXPECT_EQ(mode_of(table_object_name(name_, 10, kTlsBlob)), 0600u);

  // A new writer of each kind sweeps leftovers of its own kind only.
  std::vector<uint8_t> junk(64, 0);
  for (const char* left : {"2", "tls.3"}) {
    std::ofstream f("/dev/shm/ats-ingress." + name_ + "." + left, std::ios::binary);
    f.write(reinterpret_cast<const char*>(junk.data()), std::streamsize(junk.size()));
  }
  std::unique_ptr<Publisher> routes2;
  ASSERT_FALSE(Publisher::open(name_, routes2));
  ASSERT_FALSE(routes2->publish(one_route(), now_ms(), r));
  EXPECT_EQ(objects(), (std::vector<std::string>{"5", "6", "ctl", "tls.10", "tls.3", "tls.9", "tls.ctl"}));
  std::unique_ptr<TlsPublisher> tls2;
  ASSERT_FALSE(TlsPublisher::open(name_, tls2));
  ASSERT_FALSE(tls2->publish(one_host("ns/y"), now_ms(), r));
  EXPECT_EQ(objects(), (std::vector<std::string>{"5", "6", "ctl", "tls.10", "tls.11", "tls.ctl"}));

  // Removing one kind leaves the other serving.
  ASSERT_FALSE(routes_->remove_all());
  EXPECT_EQ(objects(), (std::vector<std::string>{"tls.10", "tls.11", "tls.ctl"}));
  TlsSource src(name_);
  TlsCursor cursor(src);
  src.refresh();
  EXPECT_EQ(served(cursor), "ns/y");
  ASSERT_FALSE(tls_->remove_all());
  EXPECT_TRUE(objects().empty());
  routes_.reset();
}

TEST_F(TlsShm, ARefusedTableLeavesTheLastGoodOneServing) {
  TlsSource src(name_);
  TlsCursor cursor(src);
  publish(one_host("ns/good"));
  src.refresh();
  EXPECT_EQ(served(cursor), "ns/good");
  std::vector<uint8_t> bytes;
  ASSERT_FALSE(build_tls_table(one_host("ns/bad"), 0, 0, bytes));
  bytes.resize(bytes.size() - 8);
  PublishResult r;
  ASSERT_FALSE(tls_->publish_bytes(bytes, r));
  EXPECT_EQ(served(cursor), "ns/good");
  EXPECT_EQ(src.stats().refused, 1u);
  EXPECT_NE(src.last_error().find("truncated"), std::string::npos) << src.last_error();
  // A route table published as a TLS table is refused too.
  std::vector<uint8_t> route = testing::build_bytes(one_route());
  ASSERT_FALSE(tls_->publish_bytes(route, r));
  EXPECT_EQ(served(cursor), "ns/good");
  EXPECT_EQ(src.last_error(), table_object_name(name_, 3, kTlsBlob) + ": bad magic");
  // A tiny object cannot even hold a header.
  ASSERT_FALSE(tls_->publish_bytes(std::vector<uint8_t>(100, 0), r));
  EXPECT_EQ(served(cursor), "ns/good");
  EXPECT_EQ(src.last_error(), table_object_name(name_, 4, kTlsBlob) + ": size 100 cannot be a TLS table");
  EXPECT_EQ(src.stats().refused, 3u);
  publish(one_host("ns/better"));
  EXPECT_EQ(served(cursor), "ns/better");
}

TEST_F(TlsShm, AnInvalidInputPublishesNothing) {
  publish(one_host("ns/good"));
  TlsInput bad = one_host("ns/bad");
  bad.hosts[0].certificate = 5;
  PublishResult r;
  Error e = tls_->publish(bad, now_ms(), r);
  EXPECT_EQ(e.code, ErrorCode::kInvalidModel);
  EXPECT_EQ(e.message, "hosts[0].certificate: certificate index 5 is out of range (1 certificate)");
  EXPECT_EQ(objects(), (std::vector<std::string>{"tls.1", "tls.ctl"}));
  EXPECT_EQ(publish(one_host("ns/next")), 2u);
}

TEST_F(TlsShm, ATableRemovedAndPublishedAnewIsPickedUp) {
  TlsSource src(name_);
  TlsCursor cursor(src);
  for (int i = 0; i < 3; ++i) publish(one_host("ns/old"));
  src.refresh();
  EXPECT_EQ(served(cursor), "ns/old");
  ASSERT_FALSE(tls_->remove_all());
  tls_.reset();
  ASSERT_FALSE(TlsPublisher::open(name_, tls_));
  EXPECT_EQ(publish(one_host("ns/new")), 1u);
  EXPECT_EQ(served(cursor), "ns/old");  // the cursor does not look names up
  src.refresh();                        // the poller does
  EXPECT_EQ(served(cursor), "ns/new");
}

}  // namespace
}  // namespace atsi
