// What a table is built from: the route model, already validated and sorted
// by the controller. The addon fills it from JavaScript (model_decoder.h);
// C++ tests fill it directly.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "format.h"

namespace atsi {

struct InputEndpoint {
  std::string address;  // IPv4 or IPv6 text, when `family` is 0
  uint16_t port = 0;
  uint32_t weight = 1;
  // 4 or 6: the address as bytes in network order (IPv4 in the first 4), as
  // the addon's decoder gives it (the encoding carries no address text); 0:
  // `address` is text (C++ tests write it so).
  uint8_t family = 0;
  std::array<uint8_t, 16> bytes{};
  // Equal when they name the same address, whichever way each is written.
  bool operator==(const InputEndpoint& o) const;
};

// The address of an endpoint as bytes (family 0 when its text is no address).
struct EndpointAddress {
  uint8_t family = 0;
  std::array<uint8_t, 16> bytes{};
  bool operator==(const EndpointAddress&) const = default;
};
EndpointAddress endpoint_address(const InputEndpoint& e);

inline bool InputEndpoint::operator==(const InputEndpoint& o) const {
  return port == o.port && weight == o.weight && endpoint_address(*this) == endpoint_address(o) &&
         (family != 0 || o.family != 0 || address == o.address);
}

struct InputOptions {
  std::optional<uint32_t> connect_timeout_ms;
  std::optional<uint32_t> response_timeout_ms;
  std::optional<bool> redirect_to_https;
  std::optional<uint8_t> cache_policy;  // 0 default, 1 bypass
  std::optional<std::string> upstream_host;
  std::optional<uint32_t> cache_default_ttl_s;  // 1..kMaxCacheSeconds
  std::optional<uint32_t> cache_max_ttl_s;      // 1..kMaxCacheSeconds
  std::optional<bool> cache_ignore_query;
  std::optional<uint32_t> cache_serve_stale_s;  // 1..kMaxCacheSeconds
  std::optional<uint32_t> cache_generation;     // 0..kMaxCacheGeneration
  std::optional<uint32_t> stats_slot;           // 0..kMaxStatsSlot
  bool operator==(const InputOptions&) const = default;
};

struct InputBackend {
  std::string service;
  std::string port;
  Scheme scheme = kSchemeHttp;
  std::vector<InputEndpoint> endpoints;
  InputOptions options;
  std::string problem;
  bool operator==(const InputBackend&) const = default;
};

struct InputRule {
  std::string path;
  PathType path_type = kPathPrefix;
  uint32_t backend = 0;
  std::string source;
  bool operator==(const InputRule&) const = default;
};

struct InputHost {
  std::string name;  // exact, "*.suffix", or "" for the catch-all
  std::vector<InputRule> rules;
  uint32_t default_backend = kNone;
  std::string default_source;
  bool operator==(const InputHost&) const = default;
};

// ---------------------------------------------------------------- the Gateway API
// The model's TableGateway (src/model/table-model.ts says what each field
// means); the controller has checked and ordered it.

struct InputNameValue {
  std::string name;
  std::string value;
  bool operator==(const InputNameValue&) const = default;
};

// FilterKind, PathModifierKind and GatewayPathType are the table's (format.h).

struct InputFilter {
  FilterKind kind = FilterKind::kRequestHeaderModifier;
  // Header modifiers.
  std::vector<InputNameValue> set, add;
  std::vector<std::string> remove;
  // RequestRedirect: scheme ("" keeps the request's), hostname ("" keeps
  // it), port (0: derived), status code. URLRewrite: hostname ("" keeps it).
  std::string scheme;
  std::string hostname;
  uint16_t port = 0;
  uint16_t status_code = 0;
  // RequestRedirect and URLRewrite.
  PathModifierKind path_kind = PathModifierKind::kNone;
  std::string path;
  bool operator==(const InputFilter&) const = default;
};

struct InputGatewayChoice {
  uint32_t backend = kNone;  // index into TableInput::backends; kNone: invalid (500)
  uint32_t weight = 1;       // 0..1,000,000
  std::vector<InputFilter> filters;
  std::string problem;
  bool operator==(const InputGatewayChoice&) const = default;
};

struct InputGatewayRule {
  std::string route;  // "namespace/name" of the HTTPRoute
  uint32_t rule_index = 0;
  std::vector<InputFilter> filters;
  std::vector<InputGatewayChoice> choices;
  std::string failure;  // non-empty: every request gets 500, for this reason
  bool operator==(const InputGatewayRule&) const = default;
};

struct InputGatewayEntry {
  std::string hostname;  // lowercase exact, "*.suffix", or "" for any
  GatewayPathType path_type = GatewayPathType::kPathPrefix;
  std::string path;
  std::string method;  // "" for any
  std::vector<InputNameValue> headers;       // names lowercase
  std::vector<InputNameValue> query_params;
  uint32_t rule = 0;  // index into TableInput::gateway_rules
  bool operator==(const InputGatewayEntry&) const = default;
};

struct InputGatewayListener {
  std::string gateway;   // "namespace/name"
  std::string listener;  // its name
  // The local address: text when `family` is 0 (C++ tests write it so; the
  // decoder gives "*" for every local address of the port), else bytes as
  // for InputEndpoint.
  std::string address;
  uint8_t family = 0;
  std::array<uint8_t, 16> bytes{};
  uint16_t port = 0;           // the local port ATS serves it on
  uint16_t listener_port = 0;  // spec.listeners[].port
  bool https = false;
  std::string hostname;  // lowercase exact, "*.suffix", or "" for any
  std::vector<InputGatewayEntry> entries;  // most precedent first
  bool operator==(const InputGatewayListener&) const = default;
};

struct TableInput {
  std::vector<InputHost> hosts;
  std::vector<InputBackend> backends;
  uint32_t default_backend = kNone;
  // Sorted by (address, port), then hostname from the most specific to none.
  std::vector<InputGatewayListener> gateway_listeners;
  std::vector<InputGatewayRule> gateway_rules;
  bool operator==(const TableInput&) const = default;
};

}  // namespace atsi
