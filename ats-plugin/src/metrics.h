// The plugin's ATS metrics (plugin.ats_ingress.*), created once per process.
#pragma once

#include <array>

#include "refusal.h"

namespace atsi::plugin {

// A reader's refusals by reason (refusal.h): PREFIXtables_refused.REASON for
// each reason, PREFIXcontrol_objects_refused and .REASON for the reasons a
// control object can have (owner, mode, size, invalid). -1: no such metric.
struct RefusalMetrics {
  std::array<int, kRefusalCount> tables{};
  int control = -1;
  std::array<int, kRefusalCount> control_by{};
};

// Metric ids.
struct Metrics {
  int routed = -1, not_found = -1, unavailable = -1, redirected = -1, declined = -1;
  int switches = -1, refused = -1, generation = -1;
  // The TLS table (global mode): the generation whose certificates serve,
  // generations taken and refused (by validation or by OpenSSL), and
  // handshakes served a host's certificate or a default (the table's, or the
  // plugin's own fallback), and requests answered 421 because their host's
  // policy was not their connection's.
  int tls_generation = -1, tls_switches = -1, tls_refused = -1;
  int tls_certificates_served = -1, tls_default_served = -1, tls_misdirected = -1;
  // Pods that did not accept the connection: attempts on another pod of the
  // same backend after one failed, and requests answered 502 (or 504)
  // because none did. PURGE and PUSH refused for coming from outside the pod.
  int connect_retries = -1, requests_unreachable = -1, cache_admin_refused = -1;
  // Why route tables (and TLS tables) and their control objects were
  // refused; `refused` (`tls_refused`) is the sum of `refusals.tables`.
  RefusalMetrics refusals, tls_refusals;
};

// Sets `ids` from a source's counts (SourceStats::refused_by,
// control_refused_by).
void set_refusal_metrics(const RefusalMetrics& ids, const RefusalCounts& tables, const RefusalCounts& controls);

// Creates the metrics on first use (or finds them after a remap reload).
const Metrics& metrics();

}  // namespace atsi::plugin
