// The plugin's arguments, parsed once into an immutable object. No ts.h:
// tested without ATS.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "errors.h"
#include "stats_format.h"

namespace atsi::plugin {

struct PluginConfig {
  std::string table = "default";
  // Adds X-ATS-Ingress-Route to responses: the rule, backend and endpoint.
  bool debug_header = false;
  // How often the background poller looks for a new table (milliseconds).
  uint32_t poll_ms = 20;
  // Global mode only: requests for hosts the table does not know (and no
  // default backend) go on to remap.config instead of getting our 404.
  bool pass_unknown_hosts = true;
  // Global mode only: serve certificates from the TLS table (false: leave
  // TLS to ssl_multicert.config, as a remap-only load does).
  bool serve_tls = true;
  // The per-route request counters (stats_region.h): slots per thread
  // (the controller's stats slots must be below it) and the threads that
  // get a block of their own (at least ATS's ET_NET threads; more share
  // one overflow block, counted with atomic adds).
  uint32_t stats_slots = kStatsDefaultSlots;
  uint32_t stats_threads = kStatsDefaultThreads;
};

// Accepts "--table NAME", "--table=NAME", "--debug-header", "--poll-ms=N",
// "--answer-unknown-hosts", "--no-tls", "--stats-slots N", "--stats-threads N". On success fills `out`; else returns kInvalidArg
// with a message naming the argument, and leaves `out` alone.
Error parse_config(const std::vector<std::string>& args, PluginConfig& out);

}  // namespace atsi::plugin
