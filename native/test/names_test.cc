#include "names.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace atsi {
namespace {

// The byte-at-a-time normalisers that names.cc had before it worked 16
// bytes at a time (format version 1): the reference that the faster ones
// must agree with on every input.
namespace reference {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

// "." or "%2e" (any case); "..", ".%2e", "%2e.", "%2e%2e".
int dots_in_segment(std::string_view seg) {
  int dots = 0;
  size_t i = 0;
  while (i < seg.size()) {
    if (seg[i] == '.') {
      ++i;
    } else if (i + 2 < seg.size() && seg[i] == '%' && seg[i + 1] == '2' && lower(seg[i + 2]) == 'e') {
      i += 3;
    } else {
      return 0;
    }
    if (++dots > 2) return 0;
  }
  return dots;
}

bool reference_host(std::string_view raw, char (&buf)[kHostBufferSize], std::string_view& out) {
  std::string_view h = raw;
  if (!h.empty() && h[0] == '[') {
    size_t close = h.find(']');
    h = close == std::string_view::npos ? h : h.substr(0, close + 1);
  } else {
    size_t colon = h.find(':');
    if (colon != std::string_view::npos) h = h.substr(0, colon);
  }
  if (!h.empty() && h.back() == '.') h.remove_suffix(1);
  if (h.empty() || h.size() > kMaxHostLength) {
    out = {};
    return false;
  }
  for (size_t i = 0; i < h.size(); ++i) buf[i] = lower(h[i]);
  out = std::string_view(buf, h.size());
  return true;
}

bool reference_path(std::string_view raw, char (&buf)[kPathBufferSize], std::string_view& out) {
  // One scan finds the end (query or fragment) and whether any segment could
  // be a dot-segment (starts with '.' or '%'). The common case, an absolute
  // path with none, is returned as a view of the input: no copy.
  size_t end = 0;
  bool maybe_dots = false;
  char prev = '/';
  for (; end < raw.size(); ++end) {
    char c = raw[end];
    if (c == '?' || c == '#') break;
    if (prev == '/' && (c == '.' || c == '%')) maybe_dots = true;
    prev = c;
  }
  raw = raw.substr(0, end);
  bool absolute = !raw.empty() && raw[0] == '/';
  if (absolute && !maybe_dots) {
    if (raw.size() > kMaxPathLength) {
      out = {};
      return false;
    }
    out = raw;
    return true;
  }
  if (absolute) raw.remove_prefix(1);
  // Every output segment is written as "/" + segment, so the output is never
  // longer than "/" + raw.
  if (raw.size() + 1 > kMaxPathLength) {
    out = {};
    return false;
  }
  size_t len = 0;
  size_t pos = 0;
  while (true) {
    size_t slash = pos;
    while (slash < raw.size() && raw[slash] != '/') ++slash;
    bool last = slash == raw.size();
    std::string_view seg = raw.substr(pos, slash - pos);
    int dots = dots_in_segment(seg);
    if (dots == 1) {
      if (last) buf[len++] = '/';
    } else if (dots == 2) {
      while (len > 0 && buf[len - 1] != '/') --len;  // back to the segment's '/'
      if (len > 0) --len;                             // and drop it
      if (last) buf[len++] = '/';
    } else {
      buf[len++] = '/';
      for (char c : seg) buf[len++] = c;
    }
    if (last) break;
    pos = slash + 1;
  }
  if (len == 0) buf[len++] = '/';
  out = std::string_view(buf, len);
  return true;
}

}  // namespace reference


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

// Every length around the 8- and 16-byte steps, bytes that mean something
// to either normaliser placed anywhere, at random and in runs.
TEST(Normalize, AgreesWithTheByteAtATimeReference) {
  const std::string alphabet = std::string("aZz.:[]/?#%2eE-_09") + char(0x80) + char(0xC5) + char(0xFF) + char(0);
  std::mt19937 rng(12);
  auto agree = [](const std::string& raw) {
    char hb[kHostBufferSize], rb[kHostBufferSize];
    std::string_view h, rh;
    bool ok = normalize_host(raw, hb, h), rok = reference::reference_host(raw, rb, rh);
    EXPECT_EQ(ok, rok) << "host \"" << raw << "\"";
    EXPECT_EQ(h, rh) << "host \"" << raw << "\"";
    static char pb[kPathBufferSize], rpb[kPathBufferSize];
    std::string_view pv, rpv;
    ok = normalize_path(raw, pb, pv);
    rok = reference::reference_path(raw, rpb, rpv);
    EXPECT_EQ(ok, rok) << "path \"" << raw << "\"";
    EXPECT_EQ(pv, rpv) << "path \"" << raw << "\"";
    // A path given as a view is the input itself, as before.
    if (ok && rok && rpv.data() == raw.data()) {
      EXPECT_EQ(pv.data(), raw.data()) << raw;
    }
  };
  for (size_t len = 0; len <= 300; ++len) {
    for (int round = 0; round < 40; ++round) {
      std::string raw(len, 'a');
      int specials = round % 4;  // none, a few, many, all
      for (size_t i = 0; i < len; ++i) {
        bool special = specials == 3 || (specials == 2 && rng() % 3 == 0) || (specials == 1 && rng() % 16 == 0);
        raw[i] = special ? alphabet[rng() % alphabet.size()] : "abcXYZ019-/"[rng() % 11];
      }
      if (round % 5 == 0 && len) raw[0] = '/';
      agree(raw);
    }
  }
  // Long ones: near kMaxPathLength and kMaxHostLength, with a query or not.
  for (size_t len : {kMaxHostLength - 1, kMaxHostLength, kMaxHostLength + 1, kMaxHostLength + 2,
                     kMaxHostLength + 3, kMaxPathLength - 1, kMaxPathLength, kMaxPathLength + 1, kMaxPathLength + 2}) {
    for (const std::string& tail : {std::string(), std::string("."), std::string(":80"), std::string("?q=1"),
                                    std::string("/./x"), std::string("/%2E%2e/")}) {
      std::string raw = std::string(len, 'A') + tail;
      agree(raw);
      agree("/" + raw);
      raw[len / 2] = '/';
      agree(raw);
      agree("[" + raw);
    }
  }
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
