// Background polling, off ATS's event threads. A continuation scheduled with
// TSContScheduleEveryOnPool(TS_THREAD_POOL_TASK) from TSPluginInit runs on
// ET_NET 0 in ATS 9.2 (the task threads do not exist yet; seen in
// diags.log), where validating a large table or parsing certificates would
// stall every connection of that thread. A thread of our own does not
// depend on when ATS starts its pools.
#pragma once

#include <cstdint>
#include <functional>

namespace atsi::plugin {

// Runs `poll` every `period_ms` on a thread of its own, named `name` (at
// most 15 bytes; shown by ps and in ATS's logs), for the life of the
// process. `poll` must not throw.
void start_poller(const char* name, uint32_t period_ms, std::function<void()> poll);

}  // namespace atsi::plugin
