#include "table_registry.h"

#include <map>
#include <memory>
#include <mutex>

#include "common.h"
#include "metrics.h"
#include "poller.h"
#include "table_source.h"

namespace atsi::plugin {
namespace {

struct PolledSource {
  std::unique_ptr<TableSource> source;
  uint64_t refused_logged = 0;
};

std::mutex registry_mu;
std::map<std::string, PolledSource>& registry() {
  static auto* r = new std::map<std::string, PolledSource>();  // never freed: outlives every thread
  return *r;
}

void poll_source(PolledSource* ps) {
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
}

}  // namespace

TableSource& shared_source(const std::string& name, uint32_t poll_ms) {
  std::lock_guard<std::mutex> lk(registry_mu);
  PolledSource& ps = registry()[name];
  if (!ps.source) {
    ps.source = std::make_unique<TableSource>(name);
    ps.source->refresh();  // a table published before ATS started serves at once
    // Off the event threads (poller.h): validating a large table takes time.
    start_poller("[ATSI_POLL]", poll_ms, [p = &ps] { poll_source(p); });
  }
  return *ps.source;
}

}  // namespace atsi::plugin
