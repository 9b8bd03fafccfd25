#include "metrics.h"

#include <ts/ts.h>

namespace atsi::plugin {
namespace {

Metrics create_metrics() {
  Metrics m;
  auto counter = [](const char* name) {
    int id = -1;
    if (TSStatFindName(name, &id) == TS_ERROR)
      id = TSStatCreate(name, TS_RECORDDATATYPE_INT, TS_STAT_NON_PERSISTENT, TS_STAT_SYNC_SUM);
    return id;
  };
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
  return m;
}

}  // namespace

const Metrics& metrics() {
  static const Metrics m = create_metrics();
  return m;
}

}  // namespace atsi::plugin
