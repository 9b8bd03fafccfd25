// The layout of the control object (shm_names.h), written by the Publisher
// and mapped read-only by every TableSource: the one place a reader looks,
// once per request, to see whether a newer table exists.
#pragma once

#include <atomic>
#include <cstdint>

#include "format.h"

namespace atsi {

struct ControlBlock {
  char magic[8];  // kControlMagic, written last when the object is created
  uint32_t format_version;
  uint32_t size;  // kControlSize
  std::atomic<uint64_t> generation;  // 0: nothing published yet
  std::atomic<uint64_t> publish_time_ms;
  std::atomic<uint64_t> writer_pid;
};
static_assert(std::atomic<uint64_t>::is_always_lock_free, "control block needs lock-free 64-bit atomics");
static_assert(sizeof(ControlBlock) <= kControlSize);

}  // namespace atsi
