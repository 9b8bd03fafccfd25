#include "model_encoder.h"


#include "format.h"
#include "model_decoder.h"

namespace atsi::testing {
namespace {

class Writer {
 public:
  void u32(uint32_t v) { out.ints.push_back(v); }
  void opt(const std::optional<uint32_t>& v) { u32(v ? *v : kNone); }
  void str(const std::string& s) {
    u32(count_++);
    if (count_ > 1) out.strings.push_back('\0');
    out.strings += s;
  }
  void opt_str(const std::string& s) {
    if (s.empty()) u32(kNone);
    else str(s);
  }
  uint32_t strings() const { return count_; }
  EncodedModel out;

 private:
  uint32_t count_ = 0;
};

void address(Writer& w, const EndpointAddress& a) {
  // As encode-model.ts: the address as words (text that is no address: family 0, refused).
  w.u32(a.family);
  for (size_t i = 0; i < (a.family == 6 ? 16u : 4u); i += 4)
    w.u32(uint32_t(a.bytes[i]) << 24 | uint32_t(a.bytes[i + 1]) << 16 | uint32_t(a.bytes[i + 2]) << 8 | a.bytes[i + 3]);
}

void pairs(Writer& w, const std::vector<InputNameValue>& list) {
  w.u32(uint32_t(list.size()));
  for (const InputNameValue& p : list) {
    w.str(p.name);
    w.str(p.value);
  }
}

void path_modifier(Writer& w, const InputFilter& f) {
  w.u32(uint32_t(f.path_kind));
  w.opt_str(f.path);
}

void filters(Writer& w, const std::vector<InputFilter>& list) {
  w.u32(uint32_t(list.size()));
  for (const InputFilter& f : list) {
    w.u32(uint32_t(f.kind));
    switch (f.kind) {
      case FilterKind::kRequestHeaderModifier:
      case FilterKind::kResponseHeaderModifier:
        pairs(w, f.set);
        pairs(w, f.add);
        w.u32(uint32_t(f.remove.size()));
        for (const std::string& name : f.remove) w.str(name);
        break;
      case FilterKind::kRequestRedirect:
        w.u32(f.scheme.empty() ? kNone : f.scheme == "https" ? 1 : 0);
        w.opt_str(f.hostname);
        w.u32(f.port == 0 ? kNone : f.port);
        path_modifier(w, f);
        w.u32(f.status_code);
        break;
      case FilterKind::kURLRewrite:
        w.opt_str(f.hostname);
        path_modifier(w, f);
        break;
    }
  }
}

}  // namespace

EncodedModel encode_model(const TableInput& in) {
  Writer w;
  w.u32(kModelEncodingVersion);
  w.u32(0);  // the number of strings, known at the end
  w.u32(in.default_backend);
  w.u32(uint32_t(in.backends.size()));
  for (const InputBackend& b : in.backends) {
    w.str(b.service);
    w.str(b.port);
    w.opt_str(b.problem);
    w.u32(b.scheme == kSchemeHttps ? 1 : 0);
    w.opt(b.options.connect_timeout_ms);
    w.opt(b.options.response_timeout_ms);
    w.u32(!b.options.redirect_to_https ? kNone : *b.options.redirect_to_https ? 1 : 0);
    w.u32(!b.options.cache_policy ? kNone : *b.options.cache_policy == 1 ? 1 : 0);
    if (b.options.upstream_host) w.str(*b.options.upstream_host);
    else w.u32(kNone);
    w.opt(b.options.cache_default_ttl_s);
    w.opt(b.options.cache_max_ttl_s);
    w.u32(!b.options.cache_ignore_query ? kNone : *b.options.cache_ignore_query ? 1 : 0);
    w.opt(b.options.cache_serve_stale_s);
    w.opt(b.options.cache_generation);
    w.opt(b.options.stats_slot);
    w.u32(uint32_t(b.endpoints.size()));
    for (const InputEndpoint& e : b.endpoints) {
      address(w, endpoint_address(e));
      w.u32(e.port);
      w.u32(e.weight);
    }
  }
  w.u32(uint32_t(in.hosts.size()));
  for (const InputHost& h : in.hosts) {
    w.str(h.name);
    w.u32(h.default_backend);
    w.opt_str(h.default_source);
    w.u32(uint32_t(h.rules.size()));
    for (const InputRule& r : h.rules) {
      w.str(r.path);
      w.u32(r.path_type == kPathExact ? 0 : r.path_type == kPathPrefix ? 1 : 2);
      w.u32(r.backend);
      w.str(r.source);
    }
  }
  w.u32(uint32_t(in.gateway_listeners.size()));
  for (const InputGatewayListener& l : in.gateway_listeners) {
    w.str(l.gateway);
    w.str(l.listener);
    if (l.family == 0 && l.address == "*") {
      w.u32(kAnyAddressFamily);  // every local address of the port: no address words
    } else {
      InputEndpoint as_endpoint;
      as_endpoint.address = l.address;
      as_endpoint.family = l.family;
      as_endpoint.bytes = l.bytes;
      address(w, endpoint_address(as_endpoint));
    }
    w.u32(l.port);
    w.u32(l.listener_port);
    w.u32(l.https ? 1 : 0);
    w.str(l.hostname);
    w.u32(uint32_t(l.entries.size()));
    for (const InputGatewayEntry& e : l.entries) {
      w.str(e.hostname);
      w.u32(e.path_type == GatewayPathType::kExact ? 0 : 1);
      w.str(e.path);
      w.opt_str(e.method);
      pairs(w, e.headers);
      pairs(w, e.query_params);
      w.u32(e.rule);
    }
  }
  w.u32(uint32_t(in.gateway_rules.size()));
  for (const InputGatewayRule& r : in.gateway_rules) {
    w.str(r.route);
    w.u32(r.rule_index);
    w.opt_str(r.failure);
    filters(w, r.filters);
    w.u32(uint32_t(r.choices.size()));
    for (const InputGatewayChoice& c : r.choices) {
      w.u32(c.backend);
      w.u32(c.weight);
      w.opt_str(c.problem);
      filters(w, c.filters);
    }
  }
  w.out.ints[1] = w.strings();
  return std::move(w.out);
}

TableInput gateway_sample() {
  TableInput in;
  InputBackend a;
  a.service = "ns/a";
  a.port = "80";
  InputEndpoint ep;
  ep.family = 4;
  ep.bytes = {10, 0, 0, 1};
  ep.port = 8080;
  a.endpoints.push_back(ep);
  in.backends.push_back(a);
  InputBackend none;
  none.service = "ns/none";
  none.port = "http";
  in.backends.push_back(none);

  InputFilter set_headers;
  set_headers.kind = FilterKind::kRequestHeaderModifier;
  set_headers.set = {{"X-Env", "prod"}};
  set_headers.add = {{"x-trace", "a"}, {"x-trace", "b"}};
  set_headers.remove = {"x-drop"};
  InputFilter response;
  response.kind = FilterKind::kResponseHeaderModifier;
  response.remove = {"server"};
  InputFilter redirect;
  redirect.kind = FilterKind::kRequestRedirect;
  redirect.scheme = "https";
  redirect.hostname = "new.example.com";
  redirect.port = 8443;
  redirect.path_kind = PathModifierKind::kReplacePrefixMatch;
  redirect.path = "/v2";
  redirect.status_code = 308;
  InputFilter bare_redirect;
  bare_redirect.kind = FilterKind::kRequestRedirect;
  bare_redirect.status_code = 302;
  InputFilter rewrite;
  rewrite.kind = FilterKind::kURLRewrite;
  rewrite.hostname = "internal.example.com";
  rewrite.path_kind = PathModifierKind::kReplaceFullPath;
  rewrite.path = "/full";

  InputGatewayRule routed;
  routed.route = "ns/web";
  routed.rule_index = 0;
  routed.filters = {set_headers, response};
  routed.choices = {{0, 90, {rewrite}, ""}, {kNone, 10, {}, "backendRef ns/missing: Service not found"}};
  InputGatewayRule moved;
  moved.route = "ns/moved";
  moved.rule_index = 2;
  moved.filters = {redirect, bare_redirect};
  InputGatewayRule failing;
  failing.route = "ns/broken";
  failing.rule_index = 1;
  failing.failure = "no backendRef is valid";
  failing.choices = {{1, 0, {}, ""}};
  in.gateway_rules = {routed, moved, failing};

  InputGatewayListener v4;
  v4.gateway = "ns/gw";
  v4.listener = "http";
  v4.family = 4;
  v4.bytes = {10, 0, 0, 9};
  v4.port = 8080;
  v4.listener_port = 80;
  v4.hostname = "*.example.com";
  InputGatewayEntry exact;
  exact.hostname = "a.example.com";
  exact.path_type = GatewayPathType::kExact;
  exact.path = "/login";
  exact.method = "POST";
  exact.headers = {{"x-env", "prod"}, {"x-user", "a b"}};
  exact.query_params = {{"debug", "1"}};
  exact.rule = 0;
  InputGatewayEntry any;
  any.hostname = "";
  any.path = "/";
  any.rule = 1;
  v4.entries = {exact, any};
  InputGatewayListener v6 = v4;
  v6.gateway = "ns/gw6";
  v6.listener = "https";
  v6.family = 6;
  v6.bytes = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9};
  v6.port = 8443;
  v6.listener_port = 443;
  v6.https = true;
  v6.hostname = "";
  v6.entries = {any};
  v6.entries[0].path = "/broken";
  v6.entries[0].rule = 2;
  in.gateway_listeners = {v4, v6};
  return in;
}

std::string frame(const EncodedModel& m) {
  std::string out(4, '\0');
  uint32_t n = uint32_t(m.strings.size());
  for (int i = 0; i < 4; ++i) out[size_t(i)] = char((n >> (8 * i)) & 0xff);
  out += m.strings;
  for (uint32_t v : m.ints)
    for (int i = 0; i < 4; ++i) out.push_back(char((v >> (8 * i)) & 0xff));
  return out;
}

EncodedModel unframe(std::string_view bytes) {
  EncodedModel m;
  if (bytes.size() < 4) return m;
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n |= uint32_t(uint8_t(bytes[size_t(i)])) << (8 * i);
  bytes.remove_prefix(4);
  size_t len = n < bytes.size() ? n : bytes.size();
  m.strings = std::string(bytes.substr(0, len));
  bytes.remove_prefix(len);
  for (size_t i = 0; i + 4 <= bytes.size(); i += 4) {
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) v |= uint32_t(uint8_t(bytes[i + size_t(k)])) << (8 * k);
    m.ints.push_back(v);
  }
  return m;
}

}  // namespace atsi::testing
