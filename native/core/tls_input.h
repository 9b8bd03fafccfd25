// What a TLS table is built from: certificates, policies and hosts, already
// validated by the controller (certificates parsed with node:crypto). The
// addon fills it from JavaScript (tls_decoder.h); C++ tests fill it
// directly. Values are kept as the encoding gives them (plain u32), so that
// build_tls_table() can refuse a bad one naming the field and the value.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "format.h"

namespace atsi {

struct InputCertificate {
  std::string secret;     // "namespace/name"
  std::string chain_pem;  // leaf first
  std::string key_pem;
  uint64_t not_after = 0;  // seconds since the epoch; 0 unknown
  bool operator==(const InputCertificate&) const = default;
};

struct InputPolicy {
  uint32_t min_version = 0;    // 0 none, 12, 13
  uint32_t verify_client = 0;  // 0 off, 1 optional, 2 on, 3 refuse (tls_format.h)
  std::string ca_pem;          // needed when verify_client is 1 or 2
  uint32_t verify_depth = 1;   // 1 to 10
  bool operator==(const InputPolicy&) const = default;
};

struct InputTlsHost {
  std::string name;               // "a.com" or "*.a.com"
  uint32_t certificate = kNone;   // kNone: the default certificate
  uint32_t policy = kNone;        // kNone: no policy
  bool operator==(const InputTlsHost&) const = default;
};

// A Gateway's HTTPS listener (tls_format.h's TlsListenerRecord); the writer
// sorts them.
struct InputTlsListener {
  std::string gateway;   // "namespace/name"
  std::string listener;  // its name
  // The local address: text when `family` is 0 (C++ tests; "*" for every
  // local address of the port), else bytes as for InputGatewayListener.
  std::string address;
  uint8_t family = 0;
  std::array<uint8_t, 16> bytes{};
  uint16_t port = 0;
  std::string hostname;          // lowercase exact, "*.suffix", or "" for any
  uint32_t certificate = kNone;  // required
  uint32_t policy = kNone;
  bool operator==(const InputTlsListener&) const = default;
};

struct TlsInput {
  uint32_t default_certificate = kNone;
  std::vector<InputCertificate> certificates;
  std::vector<InputPolicy> policies;
  std::vector<InputTlsHost> hosts;
  std::vector<InputTlsListener> listeners;
  bool operator==(const TlsInput&) const = default;
};

}  // namespace atsi
