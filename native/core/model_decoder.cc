#include "model_decoder.h"

#include <optional>
#include <string>
#include <utility>

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

using Reader = EncodingReader;

void read_backend(Reader& r, InputBackend& be) {
  be.service = r.str();
  be.port = r.str();
  be.problem = r.opt_str();
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

}  // namespace

Error decode_model(std::string_view strings, const uint32_t* ints, size_t count, TableInput& out) {
  Reader r(ints, count, "model");
  uint32_t version = r.u32();
  if (r.ok() && version != kModelEncodingVersion) {
    return {ErrorCode::kInvalidModel, "the encoded model has version " + std::to_string(version) +
                                          "; this addon reads version " + std::to_string(kModelEncodingVersion)};
  }
  uint32_t string_count = r.u32();
  if (r.ok()) r.set_strings(strings, string_count);
  TableInput in;
  in.default_backend = r.u32();
  uint32_t nb = r.count(kIntsPerBackend);
  in.backends.resize(nb);
  for (uint32_t b = 0; b < nb && r.ok(); ++b) read_backend(r, in.backends[b]);
  uint32_t nh = r.count(kIntsPerHost);
  in.hosts.resize(nh);
  for (uint32_t h = 0; h < nh && r.ok(); ++h) read_host(r, in.hosts[h]);
  r.expect_end("the last host");
  if (!r.ok()) return r.error();
  out = std::move(in);
  return {};
}

}  // namespace atsi
