#include "table_registry.h"

#include <map>
#include <memory>
#include <mutex>

#include "common.h"
#include "metrics.h"
#include "table_source.h"

namespace atsi::plugin {
namespace {

struct PolledSource {
  std::unique_ptr<TableSource> source;
  TSCont poller = nullptr;
  uint64_t refused_logged = 0;
};

std::mutex registry_mu;
std::map<std::string, PolledSource>& registry() {
  static auto* r = new std::map<std::string, PolledSource>();  // never freed: outlives every thread
  return *r;
}

int poll_source(TSCont cont, TSEvent, void*) {
  auto* ps = static_cast<PolledSource*>(TSContDataGet(cont));
  TableSource& s = *ps->source;
  s.refresh(/*wait=*/true);
  SourceStats st = s.stats();
  const Metrics& m = metrics();
  TSStatIntSet(m.switches, TSMgmtInt(st.switches));
  TSStatIntSet(m.refused, TSMgmtInt(st.refused));
  TSStatIntSet(m.generation, TSMgmtInt(st.serving));
  if (st.refused != ps->refused_logged) {
    ps->refused_logged = st.refused;
    ATSI_ERROR("refused table: %s; still serving generation %llu", s.last_error().c_str(),
               static_cast<unsigned long long>(st.serving));
  }
  return 0;
}

}  // namespace

TableSource& shared_source(const std::string& name, uint32_t poll_ms) {
  std::lock_guard<std::mutex> lk(registry_mu);
  PolledSource& ps = registry()[name];
  if (!ps.source) {
    ps.source = std::make_unique<TableSource>(name);
    ps.source->refresh();  // a table published before ATS started serves at once
    // Scheduled continuations need a mutex; this one is the poller's alone.
    ps.poller = TSContCreate(poll_source, TSMutexCreate());
    TSContDataSet(ps.poller, &ps);
    TSContScheduleEveryOnPool(ps.poller, poll_ms, TS_THREAD_POOL_TASK);
  }
  return *ps.source;
}

}  // namespace atsi::plugin
