#include "lookup.h"

#include <algorithm>
#include <cstring>

#include "appender.h"
#include "names.h"

namespace atsi {
namespace {

bool may_have(uint64_t lengths, size_t n) { return (lengths >> (n < 63 ? n : 63)) & 1; }

// The rule of host `k` for a normalised path: an Exact rule equal to it,
// else the longest element-wise Prefix rule, tried from the path itself
// down through each shorter prefix ending before a '/', to "" (the rule
// "/"). One index probe per length the host's hints name; the path itself
// is hashed once for both kinds.
const RuleKey* path_rule(const TableView& t, const HostKey& k, std::string_view path, MatchKind& kind) {
  const uint64_t seed = rule_seed(k.host);
  const size_t n = path.size();
  const bool exact = may_have(k.exact_lengths, n);
  const bool prefix = n > 0 && path[n - 1] != '/' && may_have(k.prefix_lengths, n);
  if (exact || prefix) {
    uint64_t hash = index_hash(path, seed);
    if (exact) {
      if (const RuleKey* r = t.probe_rule(k.host, true, path, hash)) {
        kind = MatchKind::kExact;
        return r;
      }
    }
    if (prefix) {
      if (const RuleKey* r = t.probe_rule(k.host, false, path, hash)) {
        kind = MatchKind::kPrefix;
        return r;
      }
    }
  }
  uint64_t lengths = k.prefix_lengths;
  if (lengths == 0) return nullptr;
  auto try_prefix = [&](size_t len) -> const RuleKey* {
    std::string_view key = path.substr(0, len);
    const RuleKey* r = t.probe_rule(k.host, false, key, index_hash(key, seed));
    if (r) kind = MatchKind::kPrefix;
    return r;
  };
  // Prefixes of 63 bytes or more share hint bit 63: each '/' there is tried.
  if (n > 63 && (lengths >> 63)) {
    for (size_t len = n - 1; len >= 63; --len) {
      if (path[len] != '/') continue;
      if (const RuleKey* r = try_prefix(len)) return r;
    }
  }
  // Shorter ones: only the lengths the hints name, longest first, that end
  // before a '/' (or are the empty prefix).
  uint64_t below = n >= 63 ? lengths & ~(uint64_t(1) << 63) : lengths & ((uint64_t(1) << n) - 1);
  while (below) {
    size_t len = 63 - size_t(__builtin_clzll(below));
    below &= ~(uint64_t(1) << len);
    if (len != 0 && path[len] != '/') continue;
    if (const RuleKey* r = try_prefix(len)) return r;
  }
  return nullptr;
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

}  // namespace

size_t outcome_text(const TableView& t, const Match& m, char* buf, size_t size) {
  Appender out(buf, size);
  switch (m.reason) {
    case Reason::kNone: break;
    case Reason::kNoHost: out << "no route for this host"; break;
    case Reason::kNoPath: out << "no route for this path"; break;
    case Reason::kPathTooLong: out << "path too long"; break;
    case Reason::kAmbiguousPath:
      out << "ambiguous path: a \".\" or \"..\" segment with parameters (\"..;\"), which servers resolve differently";
      break;
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

namespace {

// The host entry a normalised host selects: its exact name, else the
// wildcard of its parent, else the catch-all; nullptr when none.
const HostKey* select_host_key(const TableView& t, std::string_view host) {
  if (!host.empty()) {
    if (const HostKey* k = t.probe_exact_host(host, index_hash(host, host_seed()))) return k;
    size_t dot = host.find('.');
    if (dot != std::string_view::npos && dot > 0 && dot + 1 < host.size()) {
      std::string_view suffix = host.substr(dot + 1);
      if (const HostKey* k = t.probe_wildcard_host(suffix, index_hash(suffix, wildcard_seed()))) return k;
    }
  }
  uint32_t h = t.catch_all_host();
  return h == kNone ? nullptr : &t.host_key(h);
}

}  // namespace

uint32_t select_host(const TableView& t, std::string_view host) {
  const HostKey* k = select_host_key(t, host);
  return k ? k->host : kNone;
}

Match lookup(const TableView& t, std::string_view raw_host, std::string_view raw_path) {
  char host_buf[kHostBufferSize];
  char path_buf[kPathBufferSize];
  std::string_view host, path;
  normalize_host(raw_host, host_buf, host);  // unusable hosts fall to the catch-all
  Match m;
  PathResult pr = normalize_path(raw_path, path_buf, path);
  if (pr == PathResult::kTooLong) {
    m.reason = Reason::kPathTooLong;
    return m;
  }
  const HostKey* k = select_host_key(t, host);
  if (pr == PathResult::kAmbiguous) {
    // Refused for the host it names (so an unknown host is still declined
    // in global mode), before any default backend could take it.
    m.host = k ? k->host : kNone;
    m.reason = Reason::kAmbiguousPath;
    return m;
  }
  if (k) {
    m.host = k->host;
    if (const RuleKey* r = path_rule(t, *k, path, m.kind)) {
      m.rule = r->rule;
      return with_backend(t, m, r->backend);
    }
    if (k->default_backend != kNone) {
      m.kind = MatchKind::kHostDefault;
      return with_backend(t, m, k->default_backend);
    }
  }
  if (t.default_backend() != kNone) {
    m.kind = MatchKind::kTableDefault;
    return with_backend(t, m, t.default_backend());
  }
  m.reason = m.host == kNone ? Reason::kNoHost : Reason::kNoPath;
  return m;
}

}  // namespace atsi
