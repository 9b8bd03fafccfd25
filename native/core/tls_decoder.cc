#include "tls_decoder.h"

#include <string>
#include <utility>

#include "encoding_reader.h"
#include "format.h"

namespace atsi {
namespace {

// The ints one element takes: a count larger than the ints left can hold is
// refused before anything is allocated for it.
constexpr size_t kIntsPerCertificate = 4;
constexpr size_t kIntsPerPolicy = 4;
constexpr size_t kIntsPerHost = 3;
constexpr size_t kIntsPerListener = 7;  // the fewest: on every address, no address words

}  // namespace

Error decode_tls(std::string_view strings, const uint32_t* ints, size_t count, TlsInput& out) {
  EncodingReader r(ints, count, "TLS model");
  uint32_t version = r.u32();
  if (r.ok() && version != kTlsEncodingVersion) {
    return {ErrorCode::kInvalidModel, "the encoded TLS model has version " + std::to_string(version) +
                                          "; this addon reads version " + std::to_string(kTlsEncodingVersion)};
  }
  uint32_t string_count = r.u32();
  if (r.ok()) r.set_strings(strings, string_count);
  TlsInput in;
  in.default_certificate = r.u32();

  uint32_t nc = r.count(kIntsPerCertificate);
  in.certificates.resize(nc);
  for (uint32_t i = 0; i < nc && r.ok(); ++i) {
    InputCertificate& c = in.certificates[i];
    c.secret = r.str();
    c.chain_pem = r.str();
    c.key_pem = r.str();
    c.not_after = r.u32();
  }
  uint32_t np = r.count(kIntsPerPolicy);
  in.policies.resize(np);
  for (uint32_t i = 0; i < np && r.ok(); ++i) {
    InputPolicy& p = in.policies[i];
    p.min_version = r.u32();
    p.verify_client = r.u32();
    p.ca_pem = r.opt_str();
    p.verify_depth = r.u32();
  }
  uint32_t nh = r.count(kIntsPerHost);
  in.hosts.resize(nh);
  for (uint32_t i = 0; i < nh && r.ok(); ++i) {
    InputTlsHost& h = in.hosts[i];
    h.name = r.str();
    h.certificate = r.u32();
    h.policy = r.u32();
  }
  uint32_t nl = r.count(kIntsPerListener);
  in.listeners.resize(nl);
  for (uint32_t i = 0; i < nl && r.ok(); ++i) {
    InputTlsListener& l = in.listeners[i];
    l.gateway = r.str();
    l.listener = r.str();
    size_t at = r.position();
    uint32_t family = r.u32();
    if (r.ok() && family != 4 && family != 6 && family != kAnyAddressFamily) {
      r.fail(at, "address family " + std::to_string(family) + " is not 4, 6 or 0 (any)");
      break;
    }
    l.family = uint8_t(family);
    // Family 0 and no address words: every local address of the port, "*".
    if (family == kAnyAddressFamily) l.address = "*";
    for (uint32_t w = 0; w < (family == 4 ? 1u : family == 6 ? 4u : 0u); ++w) {
      uint32_t word = r.u32();
      for (int b = 0; b < 4; ++b) l.bytes[w * 4 + b] = uint8_t(word >> (24 - 8 * b));
    }
    at = r.position();
    uint32_t port = r.u32();
    if (r.ok() && (port == 0 || port > 65535)) {
      r.fail(at, "port " + std::to_string(port) + " is not 1 to 65535");
      break;
    }
    l.port = uint16_t(port);
    l.hostname = r.opt_str();
    l.certificate = r.u32();
    l.policy = r.u32();
  }
  r.expect_end("the last gateway listener");
  if (!r.ok()) return r.error();
  out = std::move(in);
  return {};
}

}  // namespace atsi
