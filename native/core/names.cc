#include "names.h"

namespace atsi {
namespace {

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

}  // namespace

bool is_valid_host_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxHostLength) return false;
  size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return label != 0;
}

size_t prefix_match_length(std::string_view path) {
  size_t n = path.size();
  while (n > 0 && path[n - 1] == '/') --n;
  return n;
}

bool normalize_host(std::string_view raw, char (&buf)[kHostBufferSize], std::string_view& out) {
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

bool normalize_path(std::string_view raw, char (&buf)[kPathBufferSize], std::string_view& out) {
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

}  // namespace atsi
