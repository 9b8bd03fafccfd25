#include "table_source.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "format.h"
#include "posix_fd.h"
#include "shm_names.h"

namespace atsi {

template <class View>
MappedBlob<View>::~MappedBlob() {
  if (addr_) ::munmap(addr_, size_);
}

template <class Kind>
BlobSource<Kind>::BlobSource(std::string table) : table_(std::move(table)) {}

template <class Kind>
BlobSource<Kind>::~BlobSource() {
  for (const ControlRef* c : controls_) {
    ::munmap(const_cast<ControlBlock*>(c->block), kControlSize);
    delete c;
  }
}

// Maps the control object now under the name if it is not the one mapped
// already; returns the one to use (null when there is none yet).
template <class Kind>
auto BlobSource<Kind>::map_control() -> const ControlRef* {
  const ControlRef* current = control_.load(std::memory_order_relaxed);
  std::string name = control_object_name(table_, Kind::kBlob);
  Fd fd(::shm_open(name.c_str(), O_RDONLY | O_CLOEXEC, 0));
  if (fd.get() < 0) return current;  // nothing published yet, or removed: keep serving what we have
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || size_t(st.st_size) < kControlSize) return current;
  if (current && current->dev == uint64_t(st.st_dev) && current->ino == uint64_t(st.st_ino)) return current;
  void* addr = ::mmap(nullptr, kControlSize, PROT_READ, MAP_SHARED, fd.get(), 0);
  if (addr == MAP_FAILED) return current;
  auto* block = static_cast<const ControlBlock*>(addr);
  if (std::memcmp(block->magic, kControlMagic, sizeof block->magic) != 0) {
    ::munmap(addr, kControlSize);  // still being created: try again later
    return current;
  }
  std::atomic_thread_fence(std::memory_order_acquire);
  auto* ref = new ControlRef{block, current ? current->epoch + kEpochUnit : 0, uint64_t(st.st_dev), uint64_t(st.st_ino)};
  controls_.push_back(ref);
  control_.store(ref, std::memory_order_release);
  return ref;
}

template <class Kind>
Error BlobSource<Kind>::map_generation(uint64_t g, std::shared_ptr<const Mapped>& out) {
  std::string name = table_object_name(table_, g, Kind::kBlob);
  Fd fd(::shm_open(name.c_str(), O_RDONLY | O_CLOEXEC, 0));
  if (fd.get() < 0) {
    if (errno == ENOENT) return {ErrorCode::kNotFound, name + " does not exist"};
    return sys_error("shm_open " + name);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys_error("fstat " + name);
  size_t size = size_t(st.st_size);
  if (size < Kind::kHeaderSize || size > kMaxTableBytes)
    return {ErrorCode::kInvalidTable, name + ": size " + std::to_string(size) + " cannot be a " + Kind::kBlob.what};
  void* addr = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd.get(), 0);
  if (addr == MAP_FAILED) return sys_error("mmap " + name);
  std::shared_ptr<Mapped> t(new Mapped());
  t->addr_ = addr;
  t->size_ = size;
  Error e = View::validate(static_cast<const uint8_t*>(addr), size, t->view_);
  if (e) return {ErrorCode::kInvalidTable, name + ": " + e.message};
  if (t->view_.generation() != g)
    return {ErrorCode::kInvalidTable, name + ": holds generation " + std::to_string(t->view_.generation())};
  out = std::move(t);
  return {};
}

template <class Kind>
bool BlobSource<Kind>::refresh(bool wait) {
  std::unique_lock<std::mutex> lk(mu_, std::defer_lock);
  if (wait) {
    lk.lock();
  } else if (!lk.try_lock()) {
    return false;
  }
  // Looking the control object up by name costs system calls: only the
  // poller (wait == true) does it every time; request threads do it until
  // there is one.
  const ControlRef* control = control_.load(std::memory_order_relaxed);
  if (wait || !control) control = map_control();
  if (!control) return true;
  for (int attempt = 0; attempt < 4; ++attempt) {
    uint64_t raw = control->block->generation.load(std::memory_order_acquire);
    uint64_t g = raw + control->epoch;
    if (raw == 0 || g == settled_.load(std::memory_order_relaxed)) return true;
    std::shared_ptr<const Mapped> t;
    Error e = map_generation(raw, t);
    if (!e) {
      current_ = std::move(t);
      switches_.fetch_add(1, std::memory_order_relaxed);
      settled_.store(g, std::memory_order_release);
      return true;
    }
    bool superseded = e.code == ErrorCode::kNotFound &&
                      control->block->generation.load(std::memory_order_acquire) != raw;
    if (superseded) continue;
    last_error_ = e.message;
    refused_.fetch_add(1, std::memory_order_relaxed);
    settled_.store(g, std::memory_order_release);
    return true;
  }
  return true;
}

template <class Kind>
auto BlobSource<Kind>::current() const -> std::shared_ptr<const Mapped> {
  std::lock_guard<std::mutex> lk(mu_);
  return current_;
}

template <class Kind>
SourceStats BlobSource<Kind>::stats() const {
  std::lock_guard<std::mutex> lk(mu_);
  return {switches_.load(), refused_.load(), current_ ? current_->generation() : 0};
}

template <class Kind>
std::string BlobSource<Kind>::last_error() const {
  std::lock_guard<std::mutex> lk(mu_);
  return last_error_;
}

template <class Kind>
bool BlobCursor<Kind>::catch_up(uint64_t g) {
  if (source_.settled() != g) source_.refresh(/*wait=*/false);
  bool settled = source_.settled() == g;
  // Another thread is mapping the new blob: keep ours meanwhile. A cursor
  // with none yet takes whatever the source serves now and looks again on
  // its next call.
  if (!settled && blob_) return false;
  std::shared_ptr<const Mapped> t = source_.current();
  bool changed = t != blob_;
  if (changed) blob_ = std::move(t);
  if (settled) seen_ = g;
  return changed;
}

template class MappedBlob<TableView>;
template class MappedBlob<TlsView>;
template class BlobSource<RouteKind>;
template class BlobSource<TlsKind>;
template class BlobCursor<RouteKind>;
template class BlobCursor<TlsKind>;

}  // namespace atsi
