// What every ATS-facing file of the plugin shares: its name, its debug tag,
// and the macros it logs with. Moving to ATS 10's Dbg/DbgCtl changes
// ATSI_DEBUG here and nowhere else.
#pragma once

#include <ts/ts.h>

#define ATSI_PLUGIN_NAME "ats_ingress"

namespace atsi::plugin {

inline constexpr char kPluginName[] = ATSI_PLUGIN_NAME;
inline constexpr char kDebugTag[] = ATSI_PLUGIN_NAME;

}  // namespace atsi::plugin

// Debug output under the tag: a disabled tag costs one check, and the
// arguments are not evaluated. (ATS 10: a static DbgCtl and Dbg().)
#define ATSI_DEBUG(fmt, ...)                                                           \
  do {                                                                                 \
    if (TSIsDebugTagSet(::atsi::plugin::kDebugTag))                                    \
      TSDebug(::atsi::plugin::kDebugTag, fmt __VA_OPT__(, ) __VA_ARGS__);              \
  } while (0)

// Errors go to ATS's diags.log (and error.log) prefixed with the plugin's name.
#define ATSI_ERROR(fmt, ...) TSError("[" ATSI_PLUGIN_NAME "] " fmt __VA_OPT__(, ) __VA_ARGS__)
// Stops traffic_server: for a global plugin that cannot route at all.
#define ATSI_EMERGENCY(fmt, ...) TSEmergency("[" ATSI_PLUGIN_NAME "] " fmt __VA_OPT__(, ) __VA_ARGS__)
