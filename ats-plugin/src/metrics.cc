#include "metrics.h"

#include <ts/ts.h>

#include <string>

namespace atsi::plugin {
namespace {

int counter(const std::string& name) {
  int id = -1;
  if (TSStatFindName(name.c_str(), &id) == TS_ERROR)
    id = TSStatCreate(name.c_str(), TS_RECORDDATATYPE_INT, TS_STAT_NON_PERSISTENT, TS_STAT_SYNC_SUM);
  return id;
}

RefusalMetrics refusal_metrics(const std::string& prefix) {
  RefusalMetrics r;
  r.control = counter(prefix + "control_objects_refused");
  for (size_t i = 0; i < kRefusalCount; ++i) {
    auto why = Refusal(i);
    r.tables[i] = counter(prefix + "tables_refused." + refusal_name(why));
    bool control_can = why == Refusal::kOwner || why == Refusal::kMode || why == Refusal::kSize || why == Refusal::kInvalid;
    r.control_by[i] = control_can ? counter(prefix + "control_objects_refused." + refusal_name(why)) : -1;
  }
  return r;
}

Metrics create_metrics() {
  Metrics m;
  m.routed = counter("plugin.ats_ingress.requests_routed");
  m.not_found = counter("plugin.ats_ingress.requests_not_found");
  m.unavailable = counter("plugin.ats_ingress.requests_unavailable");
  m.redirected = counter("plugin.ats_ingress.requests_redirected");
  m.declined = counter("plugin.ats_ingress.requests_declined");
  m.switches = counter("plugin.ats_ingress.table_switches");
  m.refused = counter("plugin.ats_ingress.tables_refused");
  m.generation = counter("plugin.ats_ingress.table_generation");
  m.tls_generation = counter("plugin.ats_ingress.tls_table_generation");
  m.tls_switches = counter("plugin.ats_ingress.tls_table_switches");
  m.tls_refused = counter("plugin.ats_ingress.tls_tables_refused");
  m.tls_certificates_served = counter("plugin.ats_ingress.tls_certificates_served");
  m.tls_default_served = counter("plugin.ats_ingress.tls_default_served");
  m.tls_misdirected = counter("plugin.ats_ingress.tls_requests_misdirected");
  m.connect_retries = counter("plugin.ats_ingress.connect_retries");
  m.requests_unreachable = counter("plugin.ats_ingress.requests_unreachable");
  m.cache_admin_refused = counter("plugin.ats_ingress.cache_admin_refused");
  m.refusals = refusal_metrics("plugin.ats_ingress.");
  m.tls_refusals = refusal_metrics("plugin.ats_ingress.tls_");
  return m;
}

}  // namespace

const Metrics& metrics() {
  static const Metrics m = create_metrics();
  return m;
}

void set_refusal_metrics(const RefusalMetrics& ids, const RefusalCounts& tables, const RefusalCounts& controls) {
  uint64_t control_total = 0;
  for (size_t i = 0; i < kRefusalCount; ++i) {
    if (ids.tables[i] >= 0) TSStatIntSet(ids.tables[i], TSMgmtInt(tables[i]));
    if (ids.control_by[i] >= 0) TSStatIntSet(ids.control_by[i], TSMgmtInt(controls[i]));
    control_total += controls[i];
  }
  if (ids.control >= 0) TSStatIntSet(ids.control, TSMgmtInt(control_total));
}

}  // namespace atsi::plugin
