#include "table_registry.h"

#include <ts/ts.h>

#include <map>
#include <memory>
#include <mutex>

#include "common.h"
#include "metrics.h"
#include "poller.h"
#include "table_source.h"
#include "txn_state.h"

namespace atsi::plugin {
namespace {

std::mutex registry_mu;
// Both never freed: they outlive every thread and every transaction.
std::map<std::string, TableEntry*>& by_name() {
  static auto* r = new std::map<std::string, TableEntry*>();
  return *r;
}
std::atomic<TableEntry*> by_index[kMaxTables];
uint32_t entries = 0;         // guarded by registry_mu
bool ports_initialized = false;  // guarded by registry_mu: TS_LIFECYCLE_PORTS_INITIALIZED_HOOK ran
bool lifecycle_hooked = false;   // guarded by registry_mu

void poll_source(TableEntry* e) {
  TableSource& s = *e->source;
  s.refresh(/*wait=*/true);
  SourceStats st = s.stats();
  const Metrics& m = metrics();
  TSStatIntSet(m.switches, TSMgmtInt(st.switches));
  TSStatIntSet(m.refused, TSMgmtInt(st.refused));
  TSStatIntSet(m.generation, TSMgmtInt(st.serving));
  set_refusal_metrics(m.refusals, st.refused_by, st.control_refused_by);
  if (st.refused != e->refused_logged) {
    e->refused_logged = st.refused;
    ATSI_ERROR("refused table: %s; still serving generation %llu", s.last_error().c_str(),
               static_cast<unsigned long long>(st.serving));
  }
  if (st.control_refused != e->control_refused_logged) {
    e->control_refused_logged = st.control_refused;
    ATSI_ERROR("refused control object: %s; still serving generation %llu", s.last_control_error().c_str(),
               static_cast<unsigned long long>(st.serving));
  }
}

// Makes the entry's counters (registry_mu held). A failure is logged and
// leaves the entry uncounted; routing goes on.
void create_stats(TableEntry& e) {
  if (e.stats.load(std::memory_order_relaxed)) return;
  std::unique_ptr<StatsWriter> w;
  if (Error err = StatsWriter::create(e.name, e.stats_options, w)) {
    ATSI_ERROR("per-route counters for table %s not created (requests are not counted): %s", e.name.c_str(),
               err.message.c_str());
    return;
  }
  if (w->size_bytes() > w->filesystem_free_bytes())
    TSWarning("[%s] %s may take up to %llu bytes (%u slots, %u threads) but its filesystem has %llu free: a "
              "thread counting into a page the filesystem cannot give faults; give /dev/shm more room or lower "
              "--stats-slots / --stats-threads",
              kPluginName, w->object_name().c_str(), static_cast<unsigned long long>(w->size_bytes()),
              e.stats_options.max_slots, e.stats_options.max_threads,
              static_cast<unsigned long long>(w->filesystem_free_bytes()));
  ATSI_DEBUG("counters %s: %u slots, %u threads, instance %016llx", w->object_name().c_str(),
             e.stats_options.max_slots, e.stats_options.max_threads, static_cast<unsigned long long>(w->instance()));
  e.stats.store(w.release(), std::memory_order_release);  // never freed
}

int on_ports_initialized(TSCont, TSEvent, void*) {
  std::lock_guard<std::mutex> lk(registry_mu);
  ports_initialized = true;
  for (auto& [name, e] : by_name()) create_stats(*e);
  return 0;
}

}  // namespace

TableEntry* shared_table(const PluginConfig& config, Error& error) {
  std::lock_guard<std::mutex> lk(registry_mu);
  TableEntry*& slot = by_name()[config.table];
  if (slot) {
    if (slot->stats_options.max_slots != config.stats_slots || slot->stats_options.max_threads != config.stats_threads)
      TSWarning("[%s] table %s: --stats-slots %u --stats-threads %u ignored; its counters keep %u and %u", kPluginName,
                config.table.c_str(), config.stats_slots, config.stats_threads, slot->stats_options.max_slots,
                slot->stats_options.max_threads);
    return slot;
  }
  if (entries >= kMaxTables) {
    by_name().erase(config.table);
    error = {ErrorCode::kInvalidArg, "--table " + config.table + ": one process serves at most " +
                                         std::to_string(kMaxTables) + " table names"};
    return nullptr;
  }
  auto* e = new TableEntry();  // never freed
  e->index = entries;
  e->name = config.table;
  e->source = new TableSource(config.table);  // never freed
  e->stats_options.max_slots = config.stats_slots;
  e->stats_options.max_threads = config.stats_threads;
  e->source->refresh();  // a table published before ATS started serves at once
  // Off the event threads (poller.h): validating a large table takes time.
  start_poller("[ATSI_POLL]", config.poll_ms, [e] { poll_source(e); });
  slot = e;
  by_index[entries].store(e, std::memory_order_release);
  ++entries;
  if (ports_initialized) {
    create_stats(*e);
  } else if (!lifecycle_hooked) {
    lifecycle_hooked = true;
    TSLifecycleHookAdd(TS_LIFECYCLE_PORTS_INITIALIZED_HOOK, TSContCreate(on_ports_initialized, nullptr));
  }
  return e;
}

TableEntry* table_at(uint32_t index) noexcept {
  return index < kMaxTables ? by_index[index].load(std::memory_order_acquire) : nullptr;
}

}  // namespace atsi::plugin
