// The plugin's ATS metrics (plugin.ats_ingress.*), created once per process.
#pragma once

namespace atsi::plugin {

// Metric ids.
struct Metrics {
  int routed = -1, not_found = -1, unavailable = -1, redirected = -1, declined = -1;
  int switches = -1, refused = -1, generation = -1;
};

// Creates the metrics on first use (or finds them after a remap reload).
const Metrics& metrics();

}  // namespace atsi::plugin
