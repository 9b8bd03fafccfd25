// The reading side of the publish protocol (shm_names.h), for both kinds of
// blob (blob_kinds.h): a BlobSource per kind, table name and process maps and
// validates each newly published blob once; a cursor per thread notices a
// new generation with one atomic load. Route tables: TableSource and
// ReaderCursor; TLS tables: TlsSource and TlsCursor.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "balancer.h"
#include "blob_kinds.h"
#include "control_block.h"
#include "errors.h"
#include "refusal.h"

namespace atsi {

template <class Kind>
class BlobSource;

// One validated blob: the reader's own read-only copy of a published
// object (see BlobSource), so that nothing done to the object afterwards (a
// rewrite, a truncation) can reach it. Unmapped when the last reference goes.
template <class View>
class MappedBlob {
 public:
  ~MappedBlob();
  MappedBlob(const MappedBlob&) = delete;
  MappedBlob& operator=(const MappedBlob&) = delete;
  const View& view() const { return view_; }
  uint64_t generation() const { return view_.generation(); }
  size_t size() const { return size_; }

 private:
  template <class>
  friend class BlobSource;
  MappedBlob() = default;
  void* addr_ = nullptr;
  size_t size_ = 0;
  View view_;
};

using MappedTable = MappedBlob<TableView>;
using MappedTls = MappedBlob<TlsView>;

struct SourceStats {
  uint64_t switches = 0;  // blobs taken into service
  uint64_t refused = 0;   // blobs refused (the sum of refused_by)
  uint64_t serving = 0;   // generation in service, 0 for none
  RefusalCounts refused_by{};           // blobs refused, by reason
  uint64_t control_refused = 0;         // control objects refused (the sum of control_refused_by)
  RefusalCounts control_refused_by{};   // control objects refused, by reason
};

// Whether a reader running as `reader_uid` may trust an object with this
// owner and mode (docs/security.md): owned by the reader's own user or by
// root, a regular file, writable by its owner only. Null when it may;
// otherwise why not, with `why` set.
const char* untrusted_object(uint32_t owner, uint32_t mode, uint32_t reader_uid, Refusal& why);

// The reading side for one kind and table name, shared by every thread of a
// process.
//
// What it trusts (docs/security.md): an object (control or blob) is taken
// only when owned by this process's user or root and writable by its owner
// only. A blob is read with pread() into memory of the reader's own, made
// read-only, then validated: a blob object truncated, grown or rewritten
// later cannot fault or change what is served, and one that changed while
// it was being read (size or modification time) is refused. The control
// object is the one mapping shared with the writer (request threads load its
// generation); the poller checks it again on every poll and stops reading it
// (keeping its last generation) when it shrank or is no longer trusted.
// Every refusal leaves the blob in service serving, and is counted by reason
// (SourceStats) and kept for the log (last_error, last_control_error).
template <class Kind>
class BlobSource {
 public:
  using View = typename Kind::View;
  using Mapped = MappedBlob<View>;
  static constexpr const BlobKind& kBlob = Kind::kBlob;

  explicit BlobSource(std::string table);
  ~BlobSource();
  BlobSource(const BlobSource&) = delete;
  BlobSource& operator=(const BlobSource&) = delete;

  // What the writer has published, with one acquire load of the control
  // block: its generation, plus an epoch in the top byte that changes when
  // the control object itself was replaced (a table removed and published
  // anew restarts at generation 1). 0 before a control object was mapped.
  uint64_t published() const noexcept {
    const ControlRef* c = control_.load(std::memory_order_acquire);
    return c ? c->block->generation.load(std::memory_order_acquire) + c->epoch : 0;
  }

  // Maps the control object if it now exists and takes the published blob
  // into service if it is new and valid. Off the hot path: system calls,
  // validation. `wait` false gives up at once when another thread is busy
  // refreshing. Returns true when it ran.
  bool refresh(bool wait = true);

  // The blob in service (may be null). Takes a mutex: for slow paths.
  std::shared_ptr<const Mapped> current() const;

  // The generation that was last looked at, whether taken or refused.
  uint64_t settled() const noexcept { return settled_.load(std::memory_order_acquire); }

  SourceStats stats() const;
  // The last blob refused: the object's name and why.
  std::string last_error() const;
  // The last control object refused: its name and why.
  std::string last_control_error() const;
  const std::string& name() const { return table_; }

  // How long a control object may stay empty or without its magic (a writer
  // creating it writes the magic last) before it is refused.
  static constexpr uint64_t kControlGraceMs = 1000;

 private:
  Error read_generation(uint64_t generation, std::shared_ptr<const Mapped>& out, Refusal& why);

  struct ControlRef {
    const ControlBlock* block;
    uint64_t epoch;  // a multiple of kEpochUnit
    uint64_t dev, ino;
    bool copy;  // a private copy made when the object was dropped, not a mapping
  };
  static constexpr uint64_t kEpochUnit = uint64_t(1) << 56;
  const ControlRef* map_control();
  // A control object refused under its name, counted once per object and
  // reason (the poller looks at the name on every poll).
  void refuse_control(uint64_t dev, uint64_t ino, Refusal why, std::string message);
  // Stops reading the mapped `current`: request threads go on with a private
  // copy of the generation last looked at.
  const ControlRef* drop_control(const ControlRef* current);

  std::string table_;
  // Replaced control objects stay mapped (4 KiB each, rare) until the source
  // goes: a reader may still be loading from one.
  std::atomic<const ControlRef*> control_{nullptr};
  std::vector<const ControlRef*> controls_;
  mutable std::mutex mu_;  // guards what follows but the atomics, and the mapping work
  std::shared_ptr<const Mapped> current_;
  uint64_t serving_ = 0;  // current_'s generation plus its control's epoch
  std::string last_error_;
  std::string last_control_error_;
  RefusalCounts refused_by_{};
  RefusalCounts control_refused_by_{};
  struct {
    uint64_t dev = 0, ino = 0;
    int why = -1;  // -1: none
  } control_refusal_;  // the control object last refused under the name
  struct {
    uint64_t dev = 0, ino = 0, since_ms = 0;
  } pending_;  // a control object seen empty or without magic, and since when
  std::atomic<uint64_t> settled_{0};
  std::atomic<uint64_t> switches_{0};
  std::atomic<uint64_t> refused_{0};
};

// Per-thread access to a BlobSource: one atomic load per call in the common
// case, no lock, no allocation. Holds a reference to the blob it returned
// until it sees a newer one, so that blob stays mapped while in use.
template <class Kind>
class BlobCursor {
 public:
  using Mapped = MappedBlob<typename Kind::View>;

  explicit BlobCursor(BlobSource<Kind>& source) : source_(source) {}

  // The blob in service, or null when none has been published.
  const Mapped* get() {
    uint64_t g = source_.published();
    if (g != seen_) [[unlikely]]
      catch_up(g);
    return blob_.get();
  }
  BlobSource<Kind>& source() const { return source_; }

 protected:
  // Takes what the source serves for `published`; true when the blob held
  // changed.
  bool catch_up(uint64_t published);

  BlobSource<Kind>& source_;
  uint64_t seen_ = 0;
  std::shared_ptr<const Mapped> blob_;
};

using TableSource = BlobSource<RouteKind>;
using TlsSource = BlobSource<TlsKind>;
using TlsCursor = BlobCursor<TlsKind>;

// The route table's cursor: a BlobCursor with the thread's endpoint balancer,
// reset when the table changes.
class ReaderCursor : private BlobCursor<RouteKind> {
 public:
  ReaderCursor(TableSource& source, uint32_t seed) : BlobCursor(source), seed_(seed) {}

  // The table to route with, or null when none has been published.
  const MappedTable* get() {
    uint64_t g = source_.published();
    if (g != seen_) [[unlikely]]
      if (catch_up(g) && blob_) balancer_.reset(blob_->view(), seed_);
    return blob_.get();
  }
  Balancer& balancer() { return balancer_; }
  TableSource& source() const { return source_; }

 private:
  uint32_t seed_;
  Balancer balancer_;
};

// Defined in table_source.cc for the two kinds.
extern template class MappedBlob<TableView>;
extern template class MappedBlob<TlsView>;
extern template class BlobSource<RouteKind>;
extern template class BlobSource<TlsKind>;
extern template class BlobCursor<RouteKind>;
extern template class BlobCursor<TlsKind>;

}  // namespace atsi
