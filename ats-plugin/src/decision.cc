#include "decision.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "gateway_lookup.h"
#include "names.h"

namespace atsi::plugin {
namespace {

constexpr std::string_view kNoTable = "no route table has been published yet";

// The length of url()'s text, without its NUL.
size_t url_size(std::string_view scheme, std::string_view host, std::string_view path, std::string_view query) {
  return scheme.size() + 3 + host.size() + 1 + path.size() + (query.empty() ? 0 : 1 + query.size());
}

// "<scheme>://<host>/<path>[?<query>]" with a NUL after it, by copies: on
// the path of every cached request, where snprintf cost as much as the
// lookup itself.
size_t url(std::string_view scheme, std::string_view host, std::string_view path, std::string_view query, char* buf,
           size_t size) {
  const size_t n = url_size(scheme, host, path, query);
  if (n >= size) {
    if (size) buf[0] = '\0';
    return 0;
  }
  char* p = buf;
  auto put = [&p](std::string_view s) {
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  };
  put(scheme);
  put("://");
  put(host);
  *p++ = '/';
  put(path);
  if (!query.empty()) {
    *p++ = '?';
    put(query);
  }
  *p = '\0';
  return n;
}

}  // namespace

Decision decide(const TableView* t, Balancer& balancer, const RequestFacts& req, bool decline_unknown_hosts) {
  Decision d;
  d.table = t;
  if (!t) {
    d.status = 503;
    return d;
  }
  d.match = lookup(*t, req.host, req.path);
  const Match& m = d.match;
  switch (m.outcome) {
    case Outcome::kNotFound:
      if (decline_unknown_hosts && m.host == kNone) {
        d.action = Action::kDecline;
        return d;
      }
      d.status = m.reason == Reason::kAmbiguousPath ? 400 : 404;
      return d;
    case Outcome::kNoEndpoints:
      d.status = 503;
      if (m.backend != kNone) d.options = t->options(t->backend(m.backend));
      return d;
    case Outcome::kRouted:
      break;
  }
  const BackendRecord& b = t->backend(m.backend);
  d.options = t->options(b);
  if (d.options.redirect_to_https && !req.client_tls) {
    d.action = Action::kRedirect;
    d.status = 308;
    return d;
  }
  uint32_t e = balancer.pick(*t, m.backend);
  d.action = Action::kRoute;
  d.status = 200;
  d.endpoint = &t->endpoint(e);
  d.scheme = Scheme(b.scheme);
  return d;
}

size_t endpoint_address_text(const EndpointRecord& e, char* buf, size_t size) {
  if (!inet_ntop(e.family == 4 ? AF_INET : AF_INET6, e.address, buf, socklen_t(size))) return 0;
  size_t n = 0;
  while (buf[n]) ++n;
  return n;
}

namespace {

// "<status> <text>\n" into `buf`, cut to fit: `text(out, room)` writes at
// most `room` bytes with its NUL and returns its whole length (snprintf's
// contract, as outcome_text's).
template <typename Text>
size_t status_body(int status, Text&& text, char* buf, size_t size) {
  if (size == 0) return 0;
  int p = std::snprintf(buf, size, "%d ", status);
  if (p < 0) return 0;
  size_t len = std::min(size_t(p), size - 1);
  if (len + 1 < size) {
    size_t room = size - len;  // with the NUL
    len += std::min(text(buf + len, room), room - 1);
  }
  if (len + 1 < size) {
    buf[len++] = '\n';
    buf[len] = '\0';
  }
  return len;
}

}  // namespace

size_t answer_body(const Decision& d, char* buf, size_t size) {
  return status_body(d.status, [&](char* out, size_t room) {
    if (d.table) return outcome_text(*d.table, d.match, out, room);
    size_t n = std::min(kNoTable.size(), room - 1);
    std::memcpy(out, kNoTable.data(), n);
    out[n] = '\0';
    return kNoTable.size();
  }, buf, size);
}

size_t gateway_answer_body(int status, const TableView& table, const GatewayMatch& m, char* buf, size_t size) {
  return status_body(status, [&](char* out, size_t room) { return gateway_outcome_text(table, m, out, room); }, buf,
                     size);
}

size_t unreachable_body(std::string_view service, std::string_view port, uint32_t tried, uint32_t count,
                        const EndpointRecord* last, bool timed_out, char* buf, size_t size) {
  if (size == 0) return 0;
  char address[64] = "?";
  if (last) {
    char text[48];
    size_t n = endpoint_address_text(*last, text, sizeof text);
    std::snprintf(address, sizeof address, last->family == 6 ? "[%.*s]:%u" : "%.*s:%u", int(n), text,
                  unsigned(last->port));
  }
  const int sl = int(service.size()), pl = int(port.size());
  int p;
  if (tried <= 1)
    p = std::snprintf(buf, size, "502 the pod %s (%.*s:%.*s at %s)\n",
                      timed_out ? "did not accept the connection in time" : "refused the connection", sl,
                      service.data(), pl, port.data(), address);
  else
    p = std::snprintf(buf, size, "502 no pod accepted the connection: %u of %u pods of %.*s:%.*s tried, the last at %s %s\n",
                      unsigned(tried), unsigned(count), sl, service.data(), pl, port.data(), address,
                      timed_out ? "timed out" : "refused it");
  if (p < 0) {
    buf[0] = '\0';
    return 0;
  }
  return std::min(size_t(p), size - 1);
}

size_t cache_key_url(const RequestFacts& req, const BackendOptionsView& o, std::string_view query, char* buf,
                     size_t size) {
  char host_buf[kHostBufferSize];
  return cache_key_url(routed_url_host(req.host, host_buf), req, o, query, buf, size);
}

size_t cache_key_url(std::string_view key_host, const RequestFacts& req, const BackendOptionsView& o,
                     std::string_view query, char* buf, size_t size) {
  if (key_host.empty()) {
    if (size) buf[0] = '\0';
    return 0;
  }
  return url(req.client_tls ? "https" : "http", key_host, req.path, o.cache_ignore_query ? std::string_view() : query,
             buf, size);
}

size_t cache_key_size(std::string_view key_host, const RequestFacts& req, const BackendOptionsView& o,
                      std::string_view query) {
  if (key_host.empty()) return 0;
  return url_size(req.client_tls ? "https" : "http", key_host, req.path,
                  o.cache_ignore_query ? std::string_view() : query);
}

std::string_view routed_url_host(std::string_view host, char (&buf)[kHostBufferSize]) {
  std::string_view out;
  if (!normalize_host(host, buf, out) || !is_url_host(out)) return {};
  return out;
}

size_t redirect_location(const RequestFacts& req, std::string_view query, char* buf, size_t size) {
  char host_buf[kHostBufferSize];
  std::string_view host;
  normalize_host(req.host, host_buf, host);
  return url("https", host, req.path, query, buf, size);
}

std::string route_description(const TableView& t, const Decision& d) {
  const Match& m = d.match;
  std::string s;
  if (m.host != kNone) s += "host=" + std::string(t.str(t.host(m.host).name)) + " ";
  if (m.rule != kNone) {
    const RuleRecord& r = t.rule(m.rule);
    s += "path=" + std::string(t.str(r.path)) + " type=" + path_type_name(r.path_type) +
         " ingress=" + std::string(t.str(r.source)) + " ";
  } else if (m.kind == MatchKind::kHostDefault || m.kind == MatchKind::kTableDefault) {
    s += "rule=default ";
  }
  if (m.backend != kNone) {
    const BackendRecord& b = t.backend(m.backend);
    s += "service=" + std::string(t.str(b.service)) + ":" + std::string(t.str(b.port)) + " ";
  }
  if (d.endpoint) {
    char address[64];
    std::string a(address, endpoint_address_text(*d.endpoint, address, sizeof address));
    s += "endpoint=" + (d.endpoint->family == 6 ? "[" + a + "]" : a) + ":" + std::to_string(d.endpoint->port) + " ";
  }
  s += "generation=" + std::to_string(t.generation());
  return s;
}

}  // namespace atsi::plugin
