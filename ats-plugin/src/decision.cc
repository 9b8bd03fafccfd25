#include "decision.h"

#include <arpa/inet.h>

#include <cstdio>

namespace atsi::plugin {

Decision decide(const TableView* t, Balancer& balancer, const RequestFacts& req, bool decline_unknown_hosts) {
  Decision d;
  if (!t) {
    d.status = 503;
    d.reason = "no route table has been published yet";
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
      d.status = 404;
      d.reason = m.reason;
      return d;
    case Outcome::kNoEndpoints:
      d.status = 503;
      d.reason = m.reason;
      d.detail = t->str(t->backend(m.backend).problem);
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

size_t answer_body(const Decision& d, char* buf, size_t size) {
  int n = d.detail.empty()
              ? std::snprintf(buf, size, "%d %s\n", d.status, d.reason)
              : std::snprintf(buf, size, "%d %s: %.*s\n", d.status, d.reason, int(d.detail.size()), d.detail.data());
  if (n < 0) return 0;
  return size_t(n) < size ? size_t(n) : size - 1;
}

}  // namespace atsi::plugin
