// Cache-Control as a shared cache reads it (RFC 9111 §5.2), for the few
// directives the plugin decides on: pure, no ts.h, no allocation, tested
// without ATS (ats-plugin/test/cache_control_test.cc).
#pragma once

#include <cstdint>
#include <string_view>

namespace atsi::plugin {

struct CacheControl {
  bool is_public = false;
  bool is_private = false;  // also `private="field"`: taken as private for the whole response
  bool no_store = false;
  bool no_cache = false;  // also `no-cache="field"`
  bool must_revalidate = false;
  bool proxy_revalidate = false;
  bool has_max_age = false;
  bool has_s_maxage = false;
  uint32_t max_age = 0;   // seconds, at most kMaxDeltaSeconds
  uint32_t s_maxage = 0;  // seconds, at most kMaxDeltaSeconds
};

// A larger delta-seconds is taken as this (RFC 9111 §1.2.2).
inline constexpr uint32_t kMaxDeltaSeconds = 0x80000000u;

// Adds the directives of one Cache-Control field value to `cc`; a response
// with several Cache-Control fields (or several values in one) gets one call
// for each. The list syntax of RFC 9110 §5.6.1: directives separated by
// commas with optional whitespace, empty elements allowed; a directive is a
// token, case-insensitive, with an optional `=` and a token or
// quoted-string argument (a quoted string may hold commas and `\`-escapes).
// Unknown directives are ignored. A malformed element (something other
// than `=` and an argument after the name) still counts when it names a
// restriction (private, no-store, no-cache), never when it would permit
// more. max-age and s-maxage take their first
// valid occurrence (RFC 9111 §4.2.1); one whose argument is not
// delta-seconds (digits, quoted or not) is not taken: for s-maxage, whose
// only use here is to let a shared cache store an authenticated response,
// that is the conservative reading.
void parse_cache_control(std::string_view value, CacheControl& cc);

}  // namespace atsi::plugin
