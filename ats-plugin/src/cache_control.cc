#include "cache_control.h"

#include <cstddef>

namespace atsi::plugin {
namespace {

bool is_ows(char c) { return c == ' ' || c == '\t'; }

// RFC 9110 §5.6.2 tchar.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

// Case-insensitive comparison with a lowercase literal.
bool name_is(std::string_view name, std::string_view lower) {
  if (name.size() != lower.size()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

// delta-seconds: 1*DIGIT, saturated at kMaxDeltaSeconds. `quoted` arguments
// have had their quotes removed but may still hold escapes: those are not
// digits, so they make it invalid.
bool delta_seconds(std::string_view arg, uint32_t& out) {
  if (arg.empty()) return false;
  uint64_t v = 0;
  for (char c : arg) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + uint64_t(c - '0');
    if (v > kMaxDeltaSeconds) v = kMaxDeltaSeconds;
  }
  out = uint32_t(v);
  return true;
}

void apply(std::string_view name, bool has_arg, std::string_view arg, CacheControl& cc) {
  uint32_t seconds;
  if (name_is(name, "public")) {
    cc.is_public = true;
  } else if (name_is(name, "private")) {
    cc.is_private = true;
  } else if (name_is(name, "no-store")) {
    cc.no_store = true;
  } else if (name_is(name, "no-cache")) {
    cc.no_cache = true;
  } else if (name_is(name, "must-revalidate")) {
    cc.must_revalidate = true;
  } else if (name_is(name, "proxy-revalidate")) {
    cc.proxy_revalidate = true;
  } else if (name_is(name, "max-age")) {
    if (!cc.has_max_age && has_arg && delta_seconds(arg, seconds)) {
      cc.has_max_age = true;
      cc.max_age = seconds;
    }
  } else if (name_is(name, "s-maxage")) {
    if (!cc.has_s_maxage && has_arg && delta_seconds(arg, seconds)) {
      cc.has_s_maxage = true;
      cc.s_maxage = seconds;
    }
  }
}

}  // namespace

void parse_cache_control(std::string_view v, CacheControl& cc) {
  size_t i = 0;
  const size_t n = v.size();
  while (i < n) {
    while (i < n && (is_ows(v[i]) || v[i] == ',')) ++i;
    if (i >= n) break;
    size_t start = i;
    while (i < n && is_tchar(v[i])) ++i;
    std::string_view name = v.substr(start, i - start);
    while (i < n && is_ows(v[i])) ++i;
    bool has_arg = false;
    bool valid = !name.empty();
    std::string_view arg;
    if (i < n && v[i] == '=') {
      ++i;
      while (i < n && is_ows(v[i])) ++i;
      has_arg = true;
      if (i < n && v[i] == '"') {
        size_t open = ++i;
        bool escaped = false;
        while (i < n && v[i] != '"') {
          if (v[i] == '\\' && i + 1 < n) {
            escaped = true;
            ++i;
          }
          ++i;
        }
        if (i >= n) valid = false;  // no closing quote: the rest is this argument
        // An argument with escapes is no number; the flag directives ignore it.
        arg = escaped ? std::string_view("\\") : v.substr(open, i - open);
        if (i < n) ++i;  // the closing quote
      } else {
        size_t a = i;
        while (i < n && is_tchar(v[i])) ++i;
        arg = v.substr(a, i - a);
      }
      while (i < n && is_ows(v[i])) ++i;
    }
    // Anything else before the next comma makes this element malformed:
    // skip to the comma and take nothing from it.
    if (i < n && v[i] != ',') {
      valid = false;
      while (i < n && v[i] != ',') {
        if (v[i] == '"') {  // a quoted string further on may hold commas
          ++i;
          while (i < n && v[i] != '"') i += v[i] == '\\' ? 2 : 1;
        }
        if (i < n) ++i;
      }
    }
    if (valid) {
      apply(name, has_arg, arg, cc);
    } else if (name_is(name, "private") || name_is(name, "no-store") || name_is(name, "no-cache")) {
      // A restriction still restricts when its element is malformed; only
      // what permits more (public, s-maxage, max-age) must be well formed.
      apply(name, false, {}, cc);
    }
  }
}

}  // namespace atsi::plugin
