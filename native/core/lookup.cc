#include "lookup.h"

#include <algorithm>
#include <cstring>

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
    m.reason = b.problem.length ? Reason::kBackendProblem : Reason::kNoEndpoints;
  } else {
    m.outcome = Outcome::kRouted;
  }
  return m;
}

// Appends to a caller's buffer, cutting at its end, and counts the whole.
class Appender {
 public:
  Appender(char* buf, size_t size) : buf_(buf), size_(size) {}
  Appender& operator<<(std::string_view s) {
    if (len_ + 1 < size_) {
      size_t n = std::min(s.size(), size_ - 1 - len_);
      std::memcpy(buf_ + len_, s.data(), n);
    }
    len_ += s.size();
    return *this;
  }
  size_t finish() {
    if (size_) buf_[std::min(len_, size_ - 1)] = '\0';
    return len_;
  }

 private:
  char* buf_;
  size_t size_;
  size_t len_ = 0;
};

}  // namespace

size_t outcome_text(const TableView& t, const Match& m, char* buf, size_t size) {
  Appender out(buf, size);
  switch (m.reason) {
    case Reason::kNone: break;
    case Reason::kNoHost: out << "no route for this host"; break;
    case Reason::kNoPath: out << "no route for this path"; break;
    case Reason::kPathTooLong: out << "path too long"; break;
    case Reason::kNoEndpoints: out << "no ready endpoints for this backend"; break;
    case Reason::kBackendProblem:
      out << "the backend cannot serve: " << t.str(t.backend(m.backend).problem);
      break;
  }
  return out.finish();
}

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
    m.reason = Reason::kPathTooLong;
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
  m.reason = m.host == kNone ? Reason::kNoHost : Reason::kNoPath;
  return m;
}

}  // namespace atsi
