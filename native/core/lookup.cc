#include "lookup.h"

#include "names.h"

namespace atsi {
namespace {

// Longest element-wise Prefix rule of `host` for a normalised path: tries the
// path itself, then each shorter prefix ending before a '/', down to "" (the
// rule "/"). One index probe per path element.
bool may_have(uint64_t lengths, size_t n) { return (lengths >> (n < 63 ? n : 63)) & 1; }

uint32_t longest_prefix(const TableView& t, uint32_t host, uint64_t lengths, std::string_view path) {
  if (lengths == 0) return kNone;
  size_t len = path.size();
  if (len > 0 && path[len - 1] != '/' && may_have(lengths, len)) {
    uint32_t r = t.find_rule(host, false, path);
    if (r != kNone) return r;
  }
  while (len > 0) {
    --len;
    while (len > 0 && path[len] != '/') --len;
    if (!may_have(lengths, len)) continue;
    uint32_t r = t.find_rule(host, false, path.substr(0, len));
    if (r != kNone) return r;
  }
  return kNone;
}

Match with_backend(const TableView& t, Match m, uint32_t backend) {
  m.backend = backend;
  const BackendRecord& b = t.backend(backend);
  if (b.endpoint_count == 0) {
    m.outcome = Outcome::kNoEndpoints;
    m.reason = b.problem.length ? "the backend cannot serve" : "no ready endpoints for this backend";
  } else {
    m.outcome = Outcome::kRouted;
  }
  return m;
}

}  // namespace

const char* path_type_name(uint32_t path_type) {
  switch (path_type) {
    case kPathExact: return "Exact";
    case kPathPrefix: return "Prefix";
    default: return "ImplementationSpecific";
  }
}

uint32_t select_host(const TableView& t, std::string_view host) {
  if (!host.empty()) {
    uint32_t h = t.find_exact_host(host);
    if (h != kNone) return h;
    size_t dot = host.find('.');
    if (dot != std::string_view::npos && dot > 0 && dot + 1 < host.size()) {
      h = t.find_wildcard_host(host.substr(dot + 1));
      if (h != kNone) return h;
    }
  }
  return t.header().catch_all_host;
}

Match lookup(const TableView& t, std::string_view raw_host, std::string_view raw_path) {
  char host_buf[kHostBufferSize];
  char path_buf[kPathBufferSize];
  std::string_view host, path;
  normalize_host(raw_host, host_buf, host);  // unusable hosts fall to the catch-all
  Match m;
  if (!normalize_path(raw_path, path_buf, path)) {
    m.reason = "path too long";
    return m;
  }
  m.host = select_host(t, host);
  if (m.host != kNone) {
    const HostRecord& h = t.host(m.host);
    uint32_t r = may_have(h.exact_lengths, path.size()) ? t.find_rule(m.host, true, path) : kNone;
    if (r != kNone) {
      m.kind = MatchKind::kExact;
    } else {
      r = longest_prefix(t, m.host, h.prefix_lengths, path);
      if (r != kNone) m.kind = MatchKind::kPrefix;
    }
    if (r != kNone) {
      m.rule = r;
      return with_backend(t, m, t.rule(r).backend);
    }
    if (h.default_backend != kNone) {
      m.kind = MatchKind::kHostDefault;
      return with_backend(t, m, h.default_backend);
    }
  }
  if (t.header().default_backend != kNone) {
    m.kind = MatchKind::kTableDefault;
    return with_backend(t, m, t.header().default_backend);
  }
  m.reason = m.host == kNone ? "no route for this host" : "no route for this path";
  return m;
}

}  // namespace atsi
