#include "gateway_lookup.h"

#include <cstring>

#include "appender.h"
#include "lookup.h"
#include "names.h"

namespace atsi {
namespace {

// The request's host as matched: normalized, or unusable (empty, too
// long), which only a hostname of kind kAny matches.
struct RequestHost {
  char buf[kHostBufferSize];
  std::string_view name;
  bool ok = false;
};

// The Gateway API's hostname match: equal, or `*.suffix` over one or more
// labels before ".suffix" (never the apex), or any host.
bool host_matches(uint8_t kind, std::string_view pattern, const RequestHost& host) {
  switch (GatewayHostKind(kind)) {
    case GatewayHostKind::kAny: return true;
    case GatewayHostKind::kExact: return host.ok && pattern == host.name;
    case GatewayHostKind::kWildcard: {
      std::string_view suffix = pattern.substr(1);  // ".example.com"
      return host.ok && host.name.size() > suffix.size() &&
             host.name.compare(host.name.size() - suffix.size(), suffix.size(), suffix) == 0;
    }
  }
  return false;
}

// How specific a listener's hostname is, the larger the more: exact, then
// wildcards by their labels, then any.
int specificity(const TableView& t, const GatewayListenerRecord& l) {
  switch (GatewayHostKind(l.host_kind)) {
    case GatewayHostKind::kExact: return 1 << 16;
    case GatewayHostKind::kWildcard: {
      int dots = 0;
      for (char c : t.str(l.hostname)) dots += c == '.';
      return dots;
    }
    default: return -1;
  }
}

// The first listener on exactly (family, address, port), or kNone. The
// table keeps them sorted (validate() checks it), so a binary search.
uint32_t first_listener_at(const TableView& t, uint8_t family, const uint8_t* address, uint16_t port) {
  uint32_t lo = 0, hi = t.gateway_listener_count();
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    const GatewayListenerRecord& l = t.gateway_listener(mid);
    if (gateway_address_order(l.family, l.address, l.port, family, address, port) < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == t.gateway_listener_count()) return kNone;
  const GatewayListenerRecord& l = t.gateway_listener(lo);
  return gateway_address_order(l.family, l.address, l.port, family, address, port) == 0 ? lo : kNone;
}

// The first listener a connection to (family, address, port) takes: those
// on its own address, else those on every address of the port (sorted
// first, so a second search of the same cost), or kNone.
uint32_t first_listener(const TableView& t, uint8_t family, const uint8_t* address, uint16_t port) {
  if (address == nullptr || (family != 4 && family != 6) || t.gateway_listener_count() == 0) return kNone;
  uint32_t exact = first_listener_at(t, family, address, port);
  if (exact != kNone) return exact;
  static constexpr uint8_t kZero[16] = {};
  const GatewayListenerRecord& lowest = t.gateway_listener(0);
  if (lowest.family != kAnyAddressFamily) return kNone;  // no listener on every address
  return first_listener_at(t, kAnyAddressFamily, kZero, port);
}

bool path_matches(const TableView& t, const GatewayEntryRecord& e, std::string_view path) {
  std::string_view key = t.gateway_match_key(e);
  if (e.path_type == uint8_t(GatewayPathType::kExact)) return path == key;
  return path.size() >= key.size() && std::memcmp(path.data(), key.data(), key.size()) == 0 &&
         (path.size() == key.size() || path[key.size()] == '/');
}

// The value of the first parameter named `name` in `query` (split on '&',
// the name up to the first '='; nothing decoded; no '=': ""), or false.
bool query_value(std::string_view query, std::string_view name, std::string_view& value) {
  if (query.empty()) return false;
  size_t pos = 0;
  for (;;) {
    size_t amp = query.find('&', pos);
    std::string_view param = query.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    size_t eq = param.find('=');
    if (param.substr(0, eq) == name) {
      value = eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1);
      return true;
    }
    if (amp == std::string_view::npos) return false;
    pos = amp + 1;
  }
}

bool entry_matches(const TableView& t, const GatewayEntryRecord& e, const RequestHost& host, std::string_view path,
                   const GatewayRequest& req) {
  if (!host_matches(e.host_kind, t.str(e.hostname), host) || !path_matches(t, e, path)) return false;
  if (e.method.length != 0 && t.str(e.method) != req.method) return false;
  for (uint32_t i = e.first_header; i < e.first_header + e.header_count; ++i) {
    const GatewayPairRecord& p = t.gateway_pair(i);
    if (req.header_equals == nullptr || !req.header_equals(req.header_ctx, t.str(p.name), t.str(p.value)))
      return false;
  }
  for (uint32_t i = e.first_query; i < e.first_query + e.query_count; ++i) {
    const GatewayPairRecord& p = t.gateway_pair(i);
    std::string_view v;
    if (!query_value(req.query, t.str(p.name), v) || v != t.str(p.value)) return false;
  }
  return true;
}

const GatewayFilterRecord* first_filter(const TableView& t, const GatewayMatch& m, FilterKind kind,
                                        bool with_path) {
  const GatewayFilterRecord* found = nullptr;
  for_each_gateway_filter(t, m, [&](const GatewayFilterRecord& f) {
    if (!found && f.kind == uint8_t(kind) && (!with_path || f.path_kind != uint8_t(PathModifierKind::kNone)))
      found = &f;
  });
  return found;
}

// The path a path modifier makes of the normalized request path `path`,
// which entry `e` matched. ReplacePrefixMatch replaces the matched prefix
// element-wise (HTTPPathModifier's table: /foo/bar with /foo replaced by
// /xyz or /xyz/ is /xyz/bar, by "" or "/" is /bar; /foo by /xyz is /xyz,
// by "/" is /); a prefix "/" matches no element, and "/" itself is then
// the prefix alone.
void modified_path(const TableView& t, const GatewayFilterRecord& f, const GatewayEntryRecord& e,
                   std::string_view path, Appender& out) {
  std::string_view value = t.str(f.path);
  if (f.path_kind == uint8_t(PathModifierKind::kReplaceFullPath)) {
    out << (value.empty() ? std::string_view("/") : value);
    return;
  }
  if (f.path_kind != uint8_t(PathModifierKind::kReplacePrefixMatch)) {
    out << path;
    return;
  }
  // An Exact entry (which the spec does not pair with ReplacePrefixMatch)
  // matched the whole path.
  size_t matched = e.path_type == uint8_t(GatewayPathType::kExact) ? path.size() : e.match_length;
  std::string_view rest = path.substr(matched < path.size() ? matched : path.size());
  if (matched == 0 && rest == "/") rest = {};
  if (!value.empty() && value.back() == '/') value.remove_suffix(1);
  if (value.empty() && rest.empty()) {
    out << "/";
  } else {
    out << value << rest;
  }
}

}  // namespace

bool gateway_listens(const TableView& t, uint8_t family, const uint8_t* address, uint16_t port) {
  return t.gateway_listener_count() != 0 && first_listener(t, family, address, port) != kNone;
}

GatewayMatch gateway_lookup(const TableView& t, const GatewayRequest& req, uint32_t random) {
  GatewayMatch m;
  if (t.gateway_listener_count() == 0) return m;
  uint32_t first = first_listener(t, req.family, req.address, req.port);
  if (first == kNone) return m;

  RequestHost host;
  host.ok = normalize_host(req.host, host.buf, host.name);
  const GatewayListenerRecord& at = t.gateway_listener(first);
  int best = -2;
  for (uint32_t i = first; i < t.gateway_listener_count(); ++i) {
    const GatewayListenerRecord& l = t.gateway_listener(i);
    if (gateway_address_order(l, at) != 0) break;
    if (!host_matches(l.host_kind, t.str(l.hostname), host)) continue;
    int s = specificity(t, l);
    if (s > best) {
      best = s;
      m.listener = i;
    }
  }

  char path_buf[kPathBufferSize];
  std::string_view path;
  PathResult pr = normalize_path(req.path, path_buf, path);
  if (pr == PathResult::kTooLong) {
    m.outcome = GatewayOutcome::kPathTooLong;
    return m;
  }
  if (pr == PathResult::kAmbiguous) {
    m.outcome = GatewayOutcome::kAmbiguousPath;
    return m;
  }
  if (m.listener == kNone) {
    m.outcome = GatewayOutcome::kNoListener;
    return m;
  }

  // The entries are in the spec's order of precedence: the first that the
  // request meets is the one (a linear scan: docs/adr/0016).
  const GatewayListenerRecord& l = t.gateway_listener(m.listener);
  for (uint32_t i = l.first_entry; i < l.first_entry + l.entry_count; ++i) {
    if (entry_matches(t, t.gateway_entry(i), host, path, req)) {
      m.entry = i;
      break;
    }
  }
  if (m.entry == kNone) {
    m.outcome = GatewayOutcome::kNoRule;
    return m;
  }
  m.rule = t.gateway_entry(m.entry).rule;
  const GatewayRuleRecord& r = t.gateway_rule(m.rule);
  if (r.failure.length != 0) {
    m.outcome = GatewayOutcome::kFailure;
    return m;
  }
  if (r.flags & kGatewayRedirects) {
    m.outcome = GatewayOutcome::kRedirect;
    return m;
  }
  if (r.total_weight == 0) {  // refused by validate(); kept so that no path divides by 0
    m.outcome = GatewayOutcome::kFailure;
    return m;
  }
  uint32_t pick = random % r.total_weight;
  for (uint32_t c = r.first_choice; c < r.first_choice + r.choice_count; ++c) {
    uint32_t w = t.gateway_choice(c).weight;
    if (w == 0) continue;
    if (pick < w) {
      m.choice = c;
      break;
    }
    pick -= w;
  }
  if (m.choice == kNone) {  // cannot be: the weights add up to total_weight
    m.outcome = GatewayOutcome::kFailure;
    return m;
  }
  const GatewayChoiceRecord& c = t.gateway_choice(m.choice);
  m.backend = c.backend;
  if (c.flags & kGatewayRedirects) {
    m.outcome = GatewayOutcome::kRedirect;
  } else if (c.backend == kNone) {
    m.outcome = GatewayOutcome::kInvalidBackend;
  } else if (t.backend(c.backend).endpoint_count == 0) {
    m.outcome = GatewayOutcome::kNoEndpoints;
  } else {
    m.outcome = GatewayOutcome::kRouted;
  }
  return m;
}

const GatewayFilterRecord* gateway_redirect_filter(const TableView& t, const GatewayMatch& m) {
  return first_filter(t, m, FilterKind::kRequestRedirect, false);
}

size_t gateway_redirect_location(const TableView& t, const GatewayMatch& m, const GatewayRequest& req,
                                 bool client_tls, char* buf, size_t size) {
  Appender out(buf, size);
  const GatewayFilterRecord* f = gateway_redirect_filter(t, m);
  if (f == nullptr || m.listener == kNone || m.entry == kNone) return 0;

  bool https = f->scheme == uint8_t(RedirectScheme::kKeep) ? client_tls : f->scheme == uint8_t(RedirectScheme::kHttps);
  RequestHost host;
  std::string_view name = t.str(f->hostname);
  if (name.empty()) {
    if (!normalize_host(req.host, host.buf, name) || !is_url_host(name)) return 0;
  }
  // HTTPRequestRedirectFilter.port: when absent, the well-known port of a
  // scheme the filter gives, else the listener's.
  uint32_t port = f->port;
  if (port == 0)
    port = f->scheme != uint8_t(RedirectScheme::kKeep) ? (https ? 443 : 80) : t.gateway_listener(m.listener).listener_port;

  char path_buf[kPathBufferSize];
  std::string_view path;
  if (normalize_path(req.path, path_buf, path) != PathResult::kOk) return 0;

  out << (https ? "https://" : "http://") << name;
  if (port != (https ? 443u : 80u)) {
    out << ":";
    out.number(port);
  }
  modified_path(t, *f, t.gateway_entry(m.entry), path, out);
  if (!req.query.empty()) out << "?" << req.query;
  return out.finish();
}

size_t gateway_rewritten_path(const TableView& t, const GatewayMatch& m, const GatewayRequest& req, char* buf,
                              size_t size) {
  if (m.entry == kNone) return SIZE_MAX;
  const GatewayFilterRecord* f = first_filter(t, m, FilterKind::kURLRewrite, true);
  if (f == nullptr) return SIZE_MAX;
  char path_buf[kPathBufferSize];
  std::string_view path;
  if (normalize_path(req.path, path_buf, path) != PathResult::kOk) return SIZE_MAX;
  Appender out(buf, size);
  modified_path(t, *f, t.gateway_entry(m.entry), path, out);
  return out.finish();
}

size_t gateway_outcome_text(const TableView& t, const GatewayMatch& m, char* buf, size_t size) {
  // The answers an Ingress lookup shares, in its words.
  Match ingress;
  switch (m.outcome) {
    case GatewayOutcome::kPathTooLong: ingress.reason = Reason::kPathTooLong; break;
    case GatewayOutcome::kAmbiguousPath: ingress.reason = Reason::kAmbiguousPath; break;
    case GatewayOutcome::kNoEndpoints:
      ingress.backend = m.backend;
      ingress.reason = t.backend(m.backend).problem.length ? Reason::kBackendProblem : Reason::kNoEndpoints;
      break;
    default: break;
  }
  if (ingress.reason != Reason::kNone) return outcome_text(t, ingress, buf, size);

  Appender out(buf, size);
  switch (m.outcome) {
    case GatewayOutcome::kNoListener: out << "no listener of this Gateway for this host"; break;
    case GatewayOutcome::kNoRule: out << "no rule of this listener matches"; break;
    case GatewayOutcome::kFailure:
      out << "the rule has no valid backend: " << t.str(t.gateway_rule(m.rule).failure);
      break;
    case GatewayOutcome::kInvalidBackend:
      out << "the backend is invalid: " << t.str(t.gateway_choice(m.choice).problem);
      break;
    default: break;
  }
  return out.finish();
}

}  // namespace atsi
