// The process's table sources: one TableSource per table name for the life
// of the process, each polled in the background. Routers come and go with
// remap reloads; per-thread cursors keep pointing at these sources.
#pragma once

#include <cstdint>
#include <string>

#include "table_source.h"

namespace atsi::plugin {

// The source for `name`, created (and its poller started, every `poll_ms`)
// on first use; a table published before ATS started serves at once. Takes a
// mutex: call it when a router is made, never per request.
TableSource& shared_source(const std::string& name, uint32_t poll_ms);

}  // namespace atsi::plugin
