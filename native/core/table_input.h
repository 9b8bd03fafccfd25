// What a table is built from: the route model, already validated and sorted
// by the controller. The addon fills it from JavaScript (model_decoder.h);
// C++ tests fill it directly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "format.h"

namespace atsi {

struct InputEndpoint {
  std::string address;  // IPv4 or IPv6 text
  uint16_t port = 0;
  uint32_t weight = 1;
  bool operator==(const InputEndpoint&) const = default;
};

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

struct TableInput {
  std::vector<InputHost> hosts;
  std::vector<InputBackend> backends;
  uint32_t default_backend = kNone;
  bool operator==(const TableInput&) const = default;
};

}  // namespace atsi
