#include "decision.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace atsi::plugin {
namespace {

constexpr std::string_view kNoTable = "no route table has been published yet";

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
      d.status = 404;
      return d;
    case Outcome::kNoEndpoints:
      d.status = 503;
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
  if (size == 0) return 0;
  int p = std::snprintf(buf, size, "%d ", d.status);
  if (p < 0) return 0;
  size_t len = std::min(size_t(p), size - 1);
  if (len + 1 < size) {
    size_t room = size - len;  // with the NUL
    size_t text;
    if (d.table) {
      text = outcome_text(*d.table, d.match, buf + len, room);
    } else {
      text = kNoTable.size();
      size_t n = std::min(text, room - 1);
      std::memcpy(buf + len, kNoTable.data(), n);
      buf[len + n] = '\0';
    }
    len += std::min(text, room - 1);
  }
  if (len + 1 < size) {
    buf[len++] = '\n';
    buf[len] = '\0';
  }
  return len;
}

}  // namespace atsi::plugin
