#include "names.h"

#include <gtest/gtest.h>

#include <string>

namespace atsi {
namespace {

std::string host(const std::string& raw) {
  char buf[kHostBufferSize];
  std::string_view out;
  if (!normalize_host(raw, buf, out)) return "<none>";
  return std::string(out);
}

std::string path(const std::string& raw) {
  char buf[kPathBufferSize];
  std::string_view out;
  if (!normalize_path(raw, buf, out)) return "<too long>";
  return std::string(out);
}

TEST(NormalizeHost, LowercasesDropsPortAndTrailingDot) {
  struct Case {
    const char* in;
    const char* want;
  } cases[] = {
      {"Test.Media.COM", "test.media.com"},
      {"test.media.com:30000", "test.media.com"},
      {"test.media.com.", "test.media.com"},
      {"TEST.media.com.:8080", "test.media.com"},
      {"[::1]:8080", "[::1]"},
      {"[2001:DB8::1]", "[2001:db8::1]"},
      {"127.0.0.1:80", "127.0.0.1"},
      {"", "<none>"},
      {":80", "<none>"},
      {".", "<none>"},
  };
  for (const Case& c : cases) EXPECT_EQ(host(c.in), c.want) << c.in;
  EXPECT_EQ(host(std::string(254, 'a')), "<none>");
  EXPECT_EQ(host(std::string(253, 'a')), std::string(253, 'a'));
}

TEST(NormalizePath, ResolvesDotSegmentsAndDropsQuery) {
  struct Case {
    const char* in;
    const char* want;
  } cases[] = {
      {"/", "/"},
      {"", "/"},
      {"app1", "/app1"},
      {"/app1?x=1", "/app1"},
      {"/app1#frag", "/app1"},
      {"/foo/../admin", "/admin"},
      {"/foo/./bar", "/foo/bar"},
      {"/foo/bar/..", "/foo/"},
      {"/foo/bar/.", "/foo/bar/"},
      {"/..", "/"},
      {"/../../etc", "/etc"},
      {"/a/b/../../c", "/c"},
      {"/a/%2e%2E/b", "/b"},
      {"/a/.%2e/b", "/b"},
      {"/a/%2e/b", "/a/b"},
      {"/a/.../b", "/a/.../b"},
      {"/a//b", "/a//b"},
      {"/foo/", "/foo/"},
      {"/..foo", "/..foo"},
      {"/x?a=/../b", "/x"},
  };
  for (const Case& c : cases) EXPECT_EQ(path(c.in), c.want) << c.in;
  EXPECT_EQ(path("/" + std::string(kMaxPathLength - 1, 'a')).size(), kMaxPathLength);
  EXPECT_EQ(path("/" + std::string(kMaxPathLength, 'a')), "<too long>");
}

TEST(HostNames, ValidityForTables) {
  EXPECT_TRUE(is_valid_host_name("a.com"));
  EXPECT_TRUE(is_valid_host_name("localhost"));
  EXPECT_TRUE(is_valid_host_name("x-1.y_2.com"));
  EXPECT_FALSE(is_valid_host_name("A.com"));
  EXPECT_FALSE(is_valid_host_name("a..com"));
  EXPECT_FALSE(is_valid_host_name(".a.com"));
  EXPECT_FALSE(is_valid_host_name("a.com."));
  EXPECT_FALSE(is_valid_host_name("a.com:80"));
  EXPECT_FALSE(is_valid_host_name("*.a.com"));
  EXPECT_FALSE(is_valid_host_name(std::string(64, 'a') + ".com"));
}

TEST(PrefixMatchLength, IgnoresTrailingSlashes) {
  EXPECT_EQ(prefix_match_length("/"), 0u);
  EXPECT_EQ(prefix_match_length("/foo"), 4u);
  EXPECT_EQ(prefix_match_length("/foo/"), 4u);
  EXPECT_EQ(prefix_match_length("/foo//"), 4u);
}

}  // namespace
}  // namespace atsi
