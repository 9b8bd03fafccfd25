// The reading side of the publish protocol (shm_names.h): a TableSource per
// table name and process maps and validates each newly published table once;
// a ReaderCursor per thread notices a new generation with one atomic load.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "balancer.h"
#include "control_block.h"
#include "errors.h"
#include "table_view.h"

namespace atsi {

// One validated, mapped table. Unmapped when the last reference goes.
class MappedTable {
 public:
  ~MappedTable();
  MappedTable(const MappedTable&) = delete;
  MappedTable& operator=(const MappedTable&) = delete;
  const TableView& view() const { return view_; }
  uint64_t generation() const { return view_.generation(); }
  size_t size() const { return size_; }

 private:
  friend class TableSource;
  MappedTable() = default;
  void* addr_ = nullptr;
  size_t size_ = 0;
  TableView view_;
};

struct SourceStats {
  uint64_t switches = 0;  // tables taken into service
  uint64_t refused = 0;   // tables that failed validation
  uint64_t serving = 0;   // generation in service, 0 for none
};

// The reading side for one table name, shared by every thread of a process.
class TableSource {
 public:
  explicit TableSource(std::string table);
  ~TableSource();
  TableSource(const TableSource&) = delete;
  TableSource& operator=(const TableSource&) = delete;

  // What the writer has published, with one acquire load of the control
  // block: its generation, plus an epoch in the top byte that changes when
  // the control object itself was replaced (a table removed and published
  // anew restarts at generation 1). 0 before a control object was mapped.
  uint64_t published() const noexcept {
    const ControlRef* c = control_.load(std::memory_order_acquire);
    return c ? c->block->generation.load(std::memory_order_acquire) + c->epoch : 0;
  }

  // Maps the control object if it now exists and takes the published table
  // into service if it is new and valid. Off the hot path: system calls,
  // validation. `wait` false gives up at once when another thread is busy
  // refreshing. Returns true when it ran.
  bool refresh(bool wait = true);

  // The table in service (may be null). Takes a mutex: for slow paths.
  std::shared_ptr<const MappedTable> current() const;

  // The generation that was last looked at, whether taken or refused.
  uint64_t settled() const noexcept { return settled_.load(std::memory_order_acquire); }

  SourceStats stats() const;
  std::string last_error() const;
  const std::string& name() const { return table_; }

 private:
  Error map_generation(uint64_t generation, std::shared_ptr<const MappedTable>& out);

  struct ControlRef {
    const ControlBlock* block;
    uint64_t epoch;  // a multiple of kEpochUnit
    uint64_t dev, ino;
  };
  static constexpr uint64_t kEpochUnit = uint64_t(1) << 56;
  const ControlRef* map_control();

  std::string table_;
  // Replaced control objects stay mapped (4 KiB each, rare) until the source
  // goes: a reader may still be loading from one.
  std::atomic<const ControlRef*> control_{nullptr};
  std::vector<const ControlRef*> controls_;
  mutable std::mutex mu_;  // guards current_, last_error_, and the mapping work
  std::shared_ptr<const MappedTable> current_;
  std::string last_error_;
  std::atomic<uint64_t> settled_{0};
  std::atomic<uint64_t> switches_{0};
  std::atomic<uint64_t> refused_{0};
};

// Per-thread access to a TableSource: one atomic load per call in the common
// case, no lock, no allocation. Holds a reference to the table it returned
// until it sees a newer one, so that table stays mapped while in use.
class ReaderCursor {
 public:
  ReaderCursor(TableSource& source, uint32_t seed) : source_(source), seed_(seed) {}

  // The table to route with, or null when none has been published.
  const MappedTable* get() {
    uint64_t g = source_.published();
    if (g != seen_) [[unlikely]]
      catch_up(g);
    return table_.get();
  }
  Balancer& balancer() { return balancer_; }
  TableSource& source() const { return source_; }

 private:
  void catch_up(uint64_t published);

  TableSource& source_;
  uint32_t seed_;
  uint64_t seen_ = 0;
  std::shared_ptr<const MappedTable> table_;
  Balancer balancer_;
};

}  // namespace atsi
