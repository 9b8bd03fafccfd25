#include "gateway_tables.h"

#include <arpa/inet.h>

#include <cctype>
#include <cstring>

namespace atsi::testing {

InputGatewayChoice choice(uint32_t backend, uint32_t weight, const std::string& problem) {
  InputGatewayChoice c;
  c.backend = backend;
  c.weight = weight;
  c.problem = problem;
  return c;
}

uint32_t GatewayBuilder::backend(const std::string& service, std::initializer_list<const char*> endpoints) {
  InputBackend b;
  b.service = service;
  b.port = "80";
  for (const char* e : endpoints) b.endpoints.push_back(ep(e));
  in_.backends.push_back(b);
  return uint32_t(in_.backends.size() - 1);
}

uint32_t GatewayBuilder::rule(const std::string& route, std::vector<InputGatewayChoice> choices,
                              std::vector<InputFilter> filters) {
  InputGatewayRule r;
  r.route = route;
  r.rule_index = 0;
  r.choices = std::move(choices);
  r.filters = std::move(filters);
  in_.gateway_rules.push_back(r);
  return uint32_t(in_.gateway_rules.size() - 1);
}

GatewayBuilder& GatewayBuilder::listener(const std::string& address, uint16_t port, const std::string& hostname,
                                         const std::string& gateway, uint16_t listener_port) {
  InputGatewayListener l;
  l.gateway = gateway;
  l.listener = "l" + std::to_string(in_.gateway_listeners.size());
  l.address = address;
  l.port = port;
  l.listener_port = listener_port ? listener_port : port;
  l.hostname = hostname;
  in_.gateway_listeners.push_back(l);
  return *this;
}

GatewayBuilder& GatewayBuilder::entry(const std::string& hostname, GatewayPathType type, const std::string& path,
                                      uint32_t rule) {
  InputGatewayEntry e;
  e.hostname = hostname;
  e.path_type = type;
  e.path = path;
  e.rule = rule;
  in_.gateway_listeners.back().entries.push_back(e);
  return *this;
}

InputFilter redirect(uint16_t status, const std::string& scheme, const std::string& hostname, uint16_t port,
                     PathModifierKind path_kind, const std::string& path) {
  InputFilter f;
  f.kind = FilterKind::kRequestRedirect;
  f.status_code = status;
  f.scheme = scheme;
  f.hostname = hostname;
  f.port = port;
  f.path_kind = path_kind;
  f.path = path;
  return f;
}

InputFilter rewrite(PathModifierKind path_kind, const std::string& path, const std::string& hostname) {
  InputFilter f;
  f.kind = FilterKind::kURLRewrite;
  f.path_kind = path_kind;
  f.path = path;
  f.hostname = hostname;
  return f;
}

InputFilter request_headers(std::vector<InputNameValue> set, std::vector<InputNameValue> add,
                            std::vector<std::string> remove) {
  InputFilter f;
  f.kind = FilterKind::kRequestHeaderModifier;
  f.set = std::move(set);
  f.add = std::move(add);
  f.remove = std::move(remove);
  return f;
}

namespace {

bool same_name(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != lower[i]) return false;
  return true;
}

// RFC 9110's combination of a repeated header: its values joined with ','.
// Compared piece by piece, so that the allocation test can use it.
bool header_equals(const void* ctx, std::string_view lower_name, std::string_view value) {
  const auto& headers = *static_cast<const std::vector<std::pair<std::string, std::string>>*>(ctx);
  size_t at = 0;
  bool found = false;
  for (const auto& [name, v] : headers) {
    if (!same_name(name, lower_name)) continue;
    if (found) {
      if (at >= value.size() || value[at] != ',') return false;
      ++at;
    }
    if (value.substr(at, v.size()) != v) return false;
    at += v.size();
    found = true;
  }
  return found && at == value.size();
}

}  // namespace

GatewayRequest gateway_request(TestRequest& r) {
  if (r.family == 0) {
    if (inet_pton(AF_INET, r.address.c_str(), r.bytes) == 1) {
      r.family = 4;
    } else if (inet_pton(AF_INET6, r.address.c_str(), r.bytes) == 1) {
      r.family = 6;
    }
  }
  GatewayRequest g;
  g.family = r.family;
  g.address = r.bytes;
  g.port = r.port;
  g.host = r.host;
  g.path = r.path;
  g.query = r.query;
  g.method = r.method;
  g.header_equals = header_equals;
  g.header_ctx = &r.headers;
  return g;
}

std::string gateway_answer(const TableView& t, TestRequest r, uint32_t random, bool client_tls) {
  GatewayRequest req = gateway_request(r);
  GatewayMatch m = gateway_lookup(t, req, random);
  char text[512];
  auto said = [&] {
    size_t n = gateway_outcome_text(t, m, text, sizeof text);
    return std::string(text, n < sizeof text ? n : sizeof text - 1);
  };
  switch (m.outcome) {
    case GatewayOutcome::kNotGateway: return "not gateway";
    case GatewayOutcome::kNoListener:
    case GatewayOutcome::kNoRule:
    case GatewayOutcome::kPathTooLong: return "404 " + said();
    case GatewayOutcome::kAmbiguousPath: return "400";
    case GatewayOutcome::kFailure:
    case GatewayOutcome::kInvalidBackend: return "500 " + said();
    case GatewayOutcome::kNoEndpoints: return "503 " + said();
    case GatewayOutcome::kRedirect: {
      char loc[1024];
      size_t n = gateway_redirect_location(t, m, req, client_tls, loc, sizeof loc);
      const GatewayFilterRecord* f = gateway_redirect_filter(t, m);
      return "redirect " + std::to_string(f ? f->status_code : 0) + " " + std::string(loc, n < sizeof loc ? n : 0);
    }
    case GatewayOutcome::kRouted: return std::string(t.str(t.backend(m.backend).service));
  }
  return "?";
}

}  // namespace atsi::testing
