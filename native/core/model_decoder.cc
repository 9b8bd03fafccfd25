#include "model_decoder.h"

#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "encoding_reader.h"
#include "format.h"

namespace atsi {
namespace {

// The fewest ints one element takes: a count larger than the ints left can
// hold is refused before anything is allocated for it.
constexpr size_t kIntsPerBackend = 16;
constexpr size_t kIntsPerEndpoint = 4;  // an IPv4 one
constexpr size_t kIntsPerHost = 4;
constexpr size_t kIntsPerRule = 4;
constexpr size_t kIntsPerListener = 8;  // one on every address (family 0, no address words)
constexpr size_t kIntsPerEntry = 7;
constexpr size_t kIntsPerGatewayRule = 5;
constexpr size_t kIntsPerChoice = 4;
constexpr size_t kIntsPerFilter = 4;  // a header modifier or URLRewrite
constexpr size_t kIntsPerPair = 2;

using Reader = EncodingReader;

// Into `be` as it stands (a backend of an earlier decode, whose memory it
// reuses): every field is set.
void read_backend(Reader& r, InputBackend& be) {
  r.str_into(be.service);
  r.str_into(be.port);
  r.opt_into(be.problem);
  be.options = {};
  be.scheme = r.u32() == 1 ? kSchemeHttps : kSchemeHttp;
  uint32_t v = r.u32();
  if (v != kNone) be.options.connect_timeout_ms = v;
  v = r.u32();
  if (v != kNone) be.options.response_timeout_ms = v;
  v = r.u32();
  if (v != kNone) be.options.redirect_to_https = v == 1;
  v = r.u32();
  if (v != kNone) be.options.cache_policy = uint8_t(v == 1 ? 1 : 0);
  std::string up = r.opt_str();
  if (!up.empty()) be.options.upstream_host = std::move(up);
  auto opt = [&r](std::optional<uint32_t>& out) {
    uint32_t x = r.u32();
    if (x != kNone) out = x;
  };
  opt(be.options.cache_default_ttl_s);
  opt(be.options.cache_max_ttl_s);
  v = r.u32();
  if (v != kNone) be.options.cache_ignore_query = v == 1;
  opt(be.options.cache_serve_stale_s);
  opt(be.options.cache_generation);
  opt(be.options.stats_slot);
  uint32_t ne = r.count(kIntsPerEndpoint);
  be.endpoints.resize(ne);
  for (uint32_t e = 0; e < ne && r.ok(); ++e) {
    InputEndpoint& ep = be.endpoints[e];
    ep.address.clear();
    ep.bytes = {};
    size_t at = r.position();
    uint32_t family = r.u32();
    if (family != 4 && family != 6) {
      r.fail(at, "address family " + std::to_string(family) + " is not 4 or 6");
      break;
    }
    ep.family = uint8_t(family);
    for (uint32_t w = 0; w < (family == 4 ? 1u : 4u); ++w) {
      uint32_t word = r.u32();
      for (int i = 0; i < 4; ++i) ep.bytes[w * 4 + i] = uint8_t(word >> (24 - 8 * i));
    }
    uint32_t port = r.u32();
    ep.port = port <= 65535 ? uint16_t(port) : 0;  // 0: refused by build_table
    ep.weight = r.u32();
  }
}

void read_host(Reader& r, InputHost& host) {
  host.name = r.str();
  host.default_backend = r.u32();
  host.default_source = r.opt_str();
  uint32_t nr = r.count(kIntsPerRule);
  host.rules.resize(nr);
  for (uint32_t i = 0; i < nr && r.ok(); ++i) {
    InputRule& rule = host.rules[i];
    rule.path = r.str();
    uint32_t type = r.u32();
    rule.path_type = type == 0 ? kPathExact : type == 1 ? kPathPrefix : kPathImplementationSpecific;
    rule.backend = r.u32();
    rule.source = r.str();
  }
}

// An address as family and 1 or 4 big-endian words, into 16 bytes; with
// `any_ok`, family 0 and no words: any address (family 0, zero bytes).
bool read_address(Reader& r, uint8_t& family, std::array<uint8_t, 16>& bytes, bool any_ok = false) {
  size_t at = r.position();
  uint32_t f = r.u32();
  if (!r.ok()) return false;
  if (any_ok && f == kAnyAddressFamily) {
    family = kAnyAddressFamily;
    bytes.fill(0);
    return true;
  }
  if (f != 4 && f != 6) {
    r.fail(at, "address family " + std::to_string(f) + " is not 4 or 6");
    return false;
  }
  family = uint8_t(f);
  for (uint32_t w = 0; w < (f == 4 ? 1u : 4u); ++w) {
    uint32_t word = r.u32();
    for (int i = 0; i < 4; ++i) bytes[w * 4 + i] = uint8_t(word >> (24 - 8 * i));
  }
  return r.ok();
}

// A 16-bit field: a larger value cannot be kept, and unlike an endpoint's
// port (0 there is refused by the writer) 0 means something for some of them.
uint16_t u16(Reader& r, const char* what) {
  size_t at = r.position();
  uint32_t v = r.u32();
  if (v > 65535) r.fail(at, std::string(what) + " " + std::to_string(v) + " is more than 65535");
  return r.ok() ? uint16_t(v) : 0;
}

void read_pairs(Reader& r, std::vector<InputNameValue>& out) {
  uint32_t n = r.count(kIntsPerPair);
  out.resize(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    out[i].name = r.str();
    out[i].value = r.str();
  }
}

void read_path_modifier(Reader& r, InputFilter& f) {
  size_t at = r.position();
  uint32_t kind = r.u32();
  if (r.ok() && kind > 2) r.fail(at, "path modifier kind " + std::to_string(kind) + " is not 0, 1 or 2");
  f.path_kind = PathModifierKind(uint8_t(kind));
  f.path = r.opt_str();
}

void read_filters(Reader& r, std::vector<InputFilter>& out) {
  uint32_t n = r.count(kIntsPerFilter);
  out.resize(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    InputFilter& f = out[i];
    size_t at = r.position();
    uint32_t kind = r.u32();
    if (!r.ok()) break;
    if (kind < 1 || kind > 4) {
      // Each kind has its own layout: there is no reading on past one we do not know.
      r.fail(at, "filter kind " + std::to_string(kind) + " is not 1 to 4");
      break;
    }
    f.kind = FilterKind(uint8_t(kind));
    if (f.kind == FilterKind::kRequestHeaderModifier || f.kind == FilterKind::kResponseHeaderModifier) {
      read_pairs(r, f.set);
      read_pairs(r, f.add);
      uint32_t nr = r.count(1);
      f.remove.resize(nr);
      for (uint32_t k = 0; k < nr && r.ok(); ++k) f.remove[k] = r.str();
    } else if (f.kind == FilterKind::kRequestRedirect) {
      uint32_t scheme = r.u32();
      f.scheme = scheme == kNone ? "" : scheme == 1 ? "https" : "http";
      f.hostname = r.opt_str();
      size_t port_at = r.position();
      uint32_t port = r.u32();
      if (port != kNone && port > 65535) r.fail(port_at, "port " + std::to_string(port) + " is more than 65535");
      f.port = port == kNone || port > 65535 ? 0 : uint16_t(port);
      read_path_modifier(r, f);
      f.status_code = u16(r, "status code");
    } else {
      f.hostname = r.opt_str();
      read_path_modifier(r, f);
    }
  }
}

void read_listener(Reader& r, InputGatewayListener& l) {
  l.gateway = r.str();
  l.listener = r.str();
  // Family 0 and no address words: every local address of the port, "*".
  if (!read_address(r, l.family, l.bytes, true)) return;
  if (l.family == kAnyAddressFamily) l.address = "*";
  l.port = u16(r, "port");
  l.listener_port = u16(r, "listener port");
  l.https = r.u32() == 1;
  l.hostname = r.str();
  uint32_t ne = r.count(kIntsPerEntry);
  l.entries.resize(ne);
  for (uint32_t i = 0; i < ne && r.ok(); ++i) {
    InputGatewayEntry& e = l.entries[i];
    e.hostname = r.str();
    e.path_type = r.u32() == 0 ? GatewayPathType::kExact : GatewayPathType::kPathPrefix;
    e.path = r.str();
    e.method = r.opt_str();
    read_pairs(r, e.headers);
    read_pairs(r, e.query_params);
    e.rule = r.u32();
  }
}

void read_gateway_rule(Reader& r, InputGatewayRule& rule) {
  rule.route = r.str();
  rule.rule_index = r.u32();
  rule.failure = r.opt_str();
  read_filters(r, rule.filters);
  uint32_t nc = r.count(kIntsPerChoice);
  rule.choices.resize(nc);
  for (uint32_t i = 0; i < nc && r.ok(); ++i) {
    InputGatewayChoice& c = rule.choices[i];
    c.backend = r.u32();
    c.weight = r.u32();
    c.problem = r.opt_str();
    read_filters(r, c.filters);
  }
}

}  // namespace

Error decode_model(std::string_view strings, const uint32_t* ints, size_t count, TableInput& out) {
  return decode_model(strings, ints, count, out, nullptr);
}

Error decode_model(std::string_view strings, const uint32_t* ints, size_t count, TableInput& out,
                   const RoutingSkip* skip) {
  TableInput in;
  if (Error e = decode_model_into(strings, ints, count, in, skip)) return e;
  out = std::move(in);
  return {};
}

Error decode_model_into(std::string_view strings, const uint32_t* ints, size_t count, TableInput& in,
                        const RoutingSkip* skip) {
  Reader r(ints, count, "model");
  uint32_t version = r.u32();
  if (r.ok() && version != kModelEncodingVersion) {
    return {ErrorCode::kInvalidModel, "the encoded model has version " + std::to_string(version) +
                                          "; this addon reads version " + std::to_string(kModelEncodingVersion)};
  }
  uint32_t string_count = r.u32();
  if (r.ok()) r.set_strings(strings, string_count);
  in.default_backend = r.u32();
  uint32_t nb = r.count(kIntsPerBackend);
  in.backends.resize(nb);
  for (uint32_t b = 0; b < nb && r.ok(); ++b) read_backend(r, in.backends[b]);
  in.hosts.clear();
  in.gateway_listeners.clear();
  in.gateway_rules.clear();
  // The routing part: the rest, with strings of its own after the backends'.
  uint32_t first = r.strings_read();
  r.strings_from(first, "backends");
  if (r.ok() && skip && *skip) {
    RoutingPart part{first, strings.substr(r.string_offset(strings, first)), ints + r.position(), r.left()};
    if ((*skip)(part)) return {};
  }
  uint32_t nh = r.count(kIntsPerHost);
  in.hosts.resize(nh);
  for (uint32_t h = 0; h < nh && r.ok(); ++h) read_host(r, in.hosts[h]);
  uint32_t nl = r.count(kIntsPerListener);
  in.gateway_listeners.resize(nl);
  for (uint32_t l = 0; l < nl && r.ok(); ++l) read_listener(r, in.gateway_listeners[l]);
  uint32_t ngr = r.count(kIntsPerGatewayRule);
  in.gateway_rules.resize(ngr);
  for (uint32_t g = 0; g < ngr && r.ok(); ++g) read_gateway_rule(r, in.gateway_rules[g]);
  r.expect_end("the last gateway rule");
  if (!r.ok()) return r.error();
  return {};
}

}  // namespace atsi
