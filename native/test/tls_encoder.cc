#include "tls_encoder.h"

#include <arpa/inet.h>

#include <array>

#include "format.h"
#include "tls_decoder.h"
#include "tls_format.h"

namespace atsi::testing {

EncodedModel encode_tls(const TlsInput& in) {
  EncodedModel out;
  uint32_t strings = 0;
  auto u32 = [&](uint32_t v) { out.ints.push_back(v); };
  auto str = [&](const std::string& s) {
    u32(strings++);
    if (strings > 1) out.strings.push_back('\0');
    out.strings += s;
  };
  u32(kTlsEncodingVersion);
  u32(0);  // the number of strings, known at the end
  u32(in.default_certificate);
  u32(uint32_t(in.certificates.size()));
  for (const InputCertificate& c : in.certificates) {
    str(c.secret);
    str(c.chain_pem);
    str(c.key_pem);
    u32(uint32_t(c.not_after));
  }
  u32(uint32_t(in.policies.size()));
  for (const InputPolicy& p : in.policies) {
    u32(p.min_version);
    u32(p.verify_client);
    if (p.ca_pem.empty()) u32(kNone);
    else str(p.ca_pem);
    u32(p.verify_depth);
  }
  u32(uint32_t(in.hosts.size()));
  for (const InputTlsHost& h : in.hosts) {
    str(h.name);
    u32(h.certificate);
    u32(h.policy);
  }
  u32(uint32_t(in.listeners.size()));
  for (const InputTlsListener& l : in.listeners) {
    str(l.gateway);
    str(l.listener);
    // Text addresses (family 0) as the writer reads them.
    uint8_t family = l.family;
    std::array<uint8_t, 16> bytes = l.bytes;
    if (family == 0 && l.address != "*") {
      if (inet_pton(AF_INET, l.address.c_str(), bytes.data()) == 1) family = 4;
      else if (inet_pton(AF_INET6, l.address.c_str(), bytes.data()) == 1) family = 6;
    }
    u32(family);
    for (int w = 0; w < (family == 6 ? 4 : family == 4 ? 1 : 0); ++w)
      u32(uint32_t(bytes[w * 4]) << 24 | uint32_t(bytes[w * 4 + 1]) << 16 | uint32_t(bytes[w * 4 + 2]) << 8 | bytes[w * 4 + 3]);
    u32(l.port);
    if (l.hostname.empty()) u32(kNone);
    else str(l.hostname);
    u32(l.certificate);
    u32(l.policy);
  }
  out.ints[1] = strings;
  return out;
}

std::string fake_pem(const std::string& what, const std::string& body) {
  return "-----BEGIN " + what + "-----\n" + body + "\n-----END " + what + "-----\n";
}

TlsInput sample_tls_input() {
  TlsInput in;
  auto cert = [&](const std::string& secret, uint64_t not_after) {
    in.certificates.push_back({secret, fake_pem("CERTIFICATE", "chain of " + secret),
                               fake_pem("PRIVATE KEY", "key of " + secret), not_after});
    return uint32_t(in.certificates.size() - 1);
  };
  uint32_t a = cert("ns/a-tls", 1900000000);
  uint32_t w = cert("ns/wild-tls", 0);
  uint32_t d = cert("ns/default-tls", 2000000000);
  in.default_certificate = d;
  in.policies.push_back({kTlsMin13, kVerifyOff, "", 1});
  in.policies.push_back({kTlsMinNone, kVerifyOptional, fake_pem("CERTIFICATE", "ca one"), 2});
  in.policies.push_back({kTlsMin12, kVerifyOn, fake_pem("CERTIFICATE", "ca two"), 10});
  in.policies.push_back({kTlsMinNone, kVerifyRefuse, "", 1});
  in.hosts.push_back({"a.example.com", a, 0});
  in.hosts.push_back({"*.w.example", w, kNone});
  in.hosts.push_back({"mtls.example.com", a, 2});
  in.hosts.push_back({"optional.example.com", kNone, 1});
  in.hosts.push_back({"broken.example.com", a, 3});
  in.hosts.push_back({"plain.example.com", kNone, kNone});
  // Two Gateways' HTTPS listeners: every hostname kind, the same name on
  // two addresses with different certificates, and an IPv6 address.
  auto listener = [&](const std::string& gw, const std::string& name, const std::string& address, uint16_t port,
                      const std::string& hostname, uint32_t certificate) {
    InputTlsListener l;
    l.gateway = gw;
    l.listener = name;
    // As the addon gives them: family and bytes.
    l.family = inet_pton(AF_INET, address.c_str(), l.bytes.data()) == 1 ? 4 : 6;
    if (l.family == 6) inet_pton(AF_INET6, address.c_str(), l.bytes.data());
    l.port = port;
    l.hostname = hostname;
    l.certificate = certificate;
    in.listeners.push_back(l);
  };
  listener("gw/one", "any", "127.0.1.1", 443, "", d);
  listener("gw/one", "exact", "127.0.1.1", 443, "a.example.com", a);
  listener("gw/one", "wild", "127.0.1.1", 443, "*.w.example", w);
  listener("gw/one", "wilder", "127.0.1.1", 443, "*.example", a);
  listener("gw/two", "exact", "127.0.1.2", 443, "a.example.com", w);
  listener("gw/six", "any", "fd00::1", 8443, "", a);
  return in;
}

}  // namespace atsi::testing
