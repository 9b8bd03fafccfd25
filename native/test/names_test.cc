#include "names.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <random>
#include <string>
#include <vector>

namespace atsi {
namespace {

// The byte-at-a-time normalisers, written for clarity, not speed: the
// reference that names.cc's (16 bytes at a time, no allocation) must agree
// with on every input.
namespace reference {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

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

int hex(char c) {
  std::string_view digits = "0123456789abcdef";
  size_t at = digits.find(lower(c));
  return at == std::string_view::npos ? -1 : int(at);
}

// One segment with RFC 3986's unreserved characters decoded and every
// other percent-encoding's hex digits uppercased.
std::string decode(std::string_view seg) {
  const std::string_view unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
  std::string out;
  for (size_t i = 0; i < seg.size(); ++i) {
    if (seg[i] == '%' && i + 2 < seg.size() && hex(seg[i + 1]) >= 0 && hex(seg[i + 2]) >= 0) {
      char c = char(hex(seg[i + 1]) * 16 + hex(seg[i + 2]));
      if (unreserved.find(c) != std::string_view::npos) {
        out += c;
      } else {
        out += '%';
        out += char(std::toupper(static_cast<unsigned char>(seg[i + 1])));
        out += char(std::toupper(static_cast<unsigned char>(seg[i + 2])));
      }
      i += 2;
    } else {
      out += seg[i];
    }
  }
  return out;
}

// The path cut at '?' or '#', split at '/', each segment decoded; "." and
// ".." applied to a stack of segments (a last one leaves a trailing '/');
// a segment that is "." or ".." before its first ';' refused.
PathResult reference_path(std::string_view raw, std::string& out) {
  raw = raw.substr(0, std::min(raw.find('?'), raw.find('#')));
  if (!raw.empty() && raw[0] == '/') raw.remove_prefix(1);
  if (raw.size() + 1 > kMaxPathLength) return PathResult::kTooLong;
  std::vector<std::string> kept;
  size_t pos = 0;
  while (true) {
    size_t slash = std::min(raw.find('/', pos), raw.size());
    bool last = slash == raw.size();
    std::string seg = decode(raw.substr(pos, slash - pos));
    std::string head = seg.substr(0, seg.find(';'));
    if ((head == "." || head == "..") && head != seg) return PathResult::kAmbiguous;
    if (seg == "." || seg == "..") {
      if (seg == ".." && !kept.empty()) kept.pop_back();
      if (last) kept.emplace_back();
    } else {
      kept.push_back(seg);
    }
    if (last) break;
    pos = slash + 1;
  }
  out.clear();
  for (const std::string& seg : kept) out += "/" + seg;
  if (out.empty()) out = "/";
  return PathResult::kOk;
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
  switch (normalize_path(raw, buf, out)) {
    case PathResult::kOk: return std::string(out);
    case PathResult::kTooLong: return "<too long>";
    case PathResult::kAmbiguous: return "<ambiguous>";
  }
  return "<?>";
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

// RFC 3986 6.2.2.2: "%61" is "a"; only unreserved characters are decoded.
TEST(NormalizePath, DecodesUnreservedCharactersOnly) {
  struct Case {
    const char* in;
    const char* want;
  } cases[] = {
      {"/%61dmin", "/admin"},
      {"/%41DMIN", "/ADMIN"},  // paths are case-sensitive: %41 is 'A'
      {"%61dmin", "/admin"},
      {"/%7Euser/%7euser", "/~user/~user"},
      {"/%2D%2d%5F%5f%30%39%7A%5A", "/--__09zZ"},
      {"/a%2eb", "/a.b"},
      {"/admin%2Fx", "/admin%2Fx"},  // never a segment separator
      {"/admin%2fx", "/admin%2Fx"},  // 6.2.2.1: hex digits compare in upper case
      {"/a%00b%25%2525", "/a%00b%25%2525"},
      {"/%252e%252e/x", "/%252e%252e/x"},  // decoded once, never twice
      {"/caf%c3%a9", "/caf%C3%A9"},
      {"/a%3b/b%3Bc", "/a%3B/b%3Bc"},  // an encoded ';' is no parameter
      {"/a%", "/a%"},
      {"/a%6", "/a%6"},
      {"/a%6g", "/a%6g"},
      {"/a%%61", "/a%a"},
      {"/%2e%2e/%61dmin", "/admin"},
      {"/x/%2E%2E/%61dmin?%61=1", "/admin"},
  };
  for (const Case& c : cases) EXPECT_EQ(path(c.in), c.want) << c.in;
}

// ';' and what follows it are matched as written ("public;x" is a segment
// of its own); dot-segments after a ';' are resolved like any others; a
// segment that is "." or ".." before its ';' is refused.
TEST(NormalizePath, ParamsAreLiteralAndDotSegmentsWithParamsAmbiguous) {
  struct Case {
    const char* in;
    const char* want;
  } cases[] = {
      {"/public;x/../../admin", "/admin"},
      {"public;x/../../admin", "/admin"},
      {"/public;jsessionid=abc", "/public;jsessionid=abc"},
      {"/public;a=1/x;b=2/", "/public;a=1/x;b=2/"},
      {"/public;x/../admin", "/admin"},
      {"/a/b;x/..", "/a/"},
      {"/a/;x/b", "/a/;x/b"},
      {"/a/...;x", "/a/...;x"},
      {"/a/..x;/b", "/a/..x;/b"},
      {"/a/;../b", "/a/;../b"},
      {"/public/..;/admin", "<ambiguous>"},
      {"/public/..;x/admin", "<ambiguous>"},
      {"/public/.;x/admin", "<ambiguous>"},
      {"/public/%2e%2e;/admin", "<ambiguous>"},
      {"/public/%2E;jsessionid=1", "<ambiguous>"},
      {"/..;", "<ambiguous>"},
      {"/public/..%3B/admin", "/public/..%3B/admin"},
      {"/public?..;/admin", "/public"},
  };
  for (const Case& c : cases) EXPECT_EQ(path(c.in), c.want) << c.in;
}

TEST(NormalizePath, TheCommonCaseIsAViewOfTheInput) {
  for (const char* in : {"/app1", "/app1/a;b/c", "/a-b_c~d/e.f/g..", "/x?%61=1&y=/./z"}) {
    char buf[kPathBufferSize];
    std::string_view raw(in), out;
    ASSERT_EQ(normalize_path(raw, buf, out), PathResult::kOk) << in;
    EXPECT_EQ(out.data(), raw.data()) << in;
  }
}

// Every length around the 8- and 16-byte steps, bytes that mean something
// to either normaliser placed anywhere, at random and in runs.
TEST(Normalize, AgreesWithTheByteAtATimeReference) {
  const std::string alphabet = std::string("aZz.:[]/?#%;2eE-_09fF6Ag") + char(0x80) + char(0xC5) + char(0xFF) + char(0);
  std::mt19937 rng(12);
  auto agree = [](const std::string& raw) {
    char hb[kHostBufferSize], rb[kHostBufferSize];
    std::string_view h, rh;
    bool ok = normalize_host(raw, hb, h), rok = reference::reference_host(raw, rb, rh);
    EXPECT_EQ(ok, rok) << "host \"" << raw << "\"";
    EXPECT_EQ(h, rh) << "host \"" << raw << "\"";
    static char pb[kPathBufferSize];
    std::string_view pv;
    std::string rp;
    PathResult pr = normalize_path(raw, pb, pv), rpr = reference::reference_path(raw, rp);
    EXPECT_EQ(int(pr), int(rpr)) << "path \"" << raw << "\"";
    if (pr == PathResult::kOk && rpr == PathResult::kOk) EXPECT_EQ(pv, rp) << "path \"" << raw << "\"";
    // No copy exactly when there is nothing to change: an absolute path
    // without '%' and without a segment that begins with '.'.
    std::string_view cut = std::string_view(raw).substr(0, std::min(raw.find('?'), raw.find('#')));
    bool plain = !cut.empty() && cut[0] == '/' && cut.find('%') == std::string_view::npos &&
                 cut.find("/.") == std::string_view::npos;
    if (pr == PathResult::kOk) EXPECT_EQ(pv.data() == raw.data(), plain) << raw;
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
                                    std::string("/./x"), std::string("/%2E%2e/"), std::string(";x/../%61"),
                                    std::string("/..;x")}) {
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

namespace atsi {
TEST(IsUrlHost, HostNameCharactersOrABracketedIPv6Literal) {
  for (const char* ok : {"a.com", "x_y-1.test", "10.0.0.1", "[2001:db8::1]", "[::ffff:10.0.0.1]"}) EXPECT_TRUE(is_url_host(ok)) << ok;
  for (const char* bad : {"", "[]", "[", "[::1", "a/b", "a?b", "a@b", "a b", "[g::1]", "a~b", "A.com"})
    EXPECT_FALSE(is_url_host(bad)) << bad;
}
}  // namespace atsi
