// The process's tables: one entry per --table name for the life of the
// process, numbered from 0, each with its table source (polled in the
// background) and its per-route request counters (stats_region.h). Routers
// come and go with remap reloads; per-thread cursors and the transactions
// in flight keep pointing at these entries, which are never freed.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "config.h"
#include "errors.h"
#include "stats_region.h"
#include "table_source.h"

namespace atsi::plugin {

struct TableEntry {
  uint32_t index = 0;  // < kMaxTables (txn_state.h): the transaction's state word names it
  std::string name;
  TableSource* source = nullptr;
  StatsOptions stats_options;  // the first router's, for this name
  // The counters: null until ATS runs (see shared_table()), or when they
  // could not be made (logged). Never freed once set.
  std::atomic<StatsWriter*> stats{nullptr};
  std::atomic<bool> overflow_logged{false};  // a thread counted in the shared overflow block
  uint64_t refused_logged = 0;               // the poller's: the source's refusals already logged
  uint64_t control_refused_logged = 0;       // the poller's: the same for control objects
};

// The entry for config.table, made on first use: its source (a table
// published before ATS started serves at once; a poller looks for new ones
// every config.poll_ms) and its counters object, created with
// config.stats_slots and stats_threads (a later router for the same name
// with other numbers keeps the first ones; logged).
//
// The counters are made fresh each time ATS starts (StatsWriter::create
// replaces the object and its instance), so never where `traffic_server -C
// verify_config` (or verify_*_plugin) could run: those call TSPluginInit,
// TSRemapInit and TSRemapNewInstance like a real start, and even run tasks
// scheduled from them, but never reach TS_LIFECYCLE_PORTS_INITIALIZED_HOOK
// (seen on 9.2 in both modes). So the counters are made in that hook, on
// the main thread before the ports accept: the first request is counted.
// A table first named after it (a remap reload that adds a --table) gets
// its counters at once, on the thread doing the reload. A reload naming a
// known table keeps its entry and its counters (ATS 9.2 keeps the plugin's
// copy loaded when the .so file did not change; a changed file is a new
// copy with registries of its own: a new instance, as after a restart).
//
// Takes a mutex: call it when a router is made, never per request. Null
// with `error` when kMaxTables names are in use.
TableEntry* shared_table(const PluginConfig& config, Error& error);

// The entry numbered `index`, or null. Lock-free: for hooks.
TableEntry* table_at(uint32_t index) noexcept;

}  // namespace atsi::plugin
