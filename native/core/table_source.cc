#include "table_source.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstring>

#include "format.h"
#include "posix_fd.h"
#include "shm_names.h"
#include "tls_format.h"

namespace atsi {
namespace {

// Both kinds' headers begin with the magic and the format version.
static_assert(offsetof(Header, format_version) == 8 && offsetof(TlsHeader, format_version) == 8);

uint64_t steady_ms() {
  return uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now().time_since_epoch())
                      .count());
}

bool same_time(const timespec& a, const timespec& b) { return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec; }

std::string octal(uint32_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0%03o", unsigned(mode & 07777));
  return buf;
}

// Why the object behind `st` cannot be trusted by this process (docs/security.md),
// or "" when it can.
std::string distrust(const struct stat& st, Refusal& why) {
  uint32_t me = uint32_t(::geteuid());
  const char* bad = untrusted_object(uint32_t(st.st_uid), uint32_t(st.st_mode), me, why);
  if (!bad) return {};
  if (why == Refusal::kOwner)
    return std::string(bad) + " (uid " + std::to_string(st.st_uid) + "; trusted: uid " + std::to_string(me) +
           (me == 0 ? "" : " and root") + ")";
  return std::string(bad) + " (mode " + octal(uint32_t(st.st_mode)) + ")";
}

// Reads up to `size` bytes from offset 0; the count read (short at end of
// file), or -1 with errno.
ssize_t read_all(int fd, uint8_t* out, size_t size) {
  size_t off = 0;
  while (off < size) {
    ssize_t r = ::pread(fd, out + off, size - off, off_t(off));
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) break;
    off += size_t(r);
  }
  return ssize_t(off);
}

// Writable memory of `size` bytes for the copy of object `name`: a memfd
// named like it, so that /proc/PID/maps shows which tables a process holds
// ("/memfd:ats-ingress.NAME.GEN (deleted)"); anonymous memory where memfds
// cannot be made. Null with errno on failure.
void* copy_memory(const std::string& name, size_t size) {
  Fd fd(::memfd_create(name.c_str() + 1, MFD_CLOEXEC));
  void* addr = MAP_FAILED;
  if (fd.get() >= 0) {
    if (::ftruncate(fd.get(), off_t(size)) != 0) return nullptr;
    addr = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  } else {
    addr = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  }
  return addr == MAP_FAILED ? nullptr : addr;
}

}  // namespace

const char* untrusted_object(uint32_t owner, uint32_t mode, uint32_t reader_uid, Refusal& why) {
  if (!S_ISREG(mode)) {
    why = Refusal::kMode;
    return "is not a regular file";
  }
  if (owner != reader_uid && owner != 0) {
    why = Refusal::kOwner;
    return "is owned by another user";
  }
  if (mode & (S_IWGRP | S_IWOTH)) {
    why = Refusal::kMode;
    return "is writable by group or others";
  }
  return nullptr;
}

template <class View>
MappedBlob<View>::~MappedBlob() {
  if (addr_) ::munmap(addr_, size_);
}

template <class Kind>
BlobSource<Kind>::BlobSource(std::string table) : table_(std::move(table)) {}

template <class Kind>
BlobSource<Kind>::~BlobSource() {
  for (const ControlRef* c : controls_) {
    if (c->copy) {
      delete c->block;
    } else {
      ::munmap(const_cast<ControlBlock*>(c->block), kControlSize);
    }
    delete c;
  }
}

template <class Kind>
void BlobSource<Kind>::refuse_control(uint64_t dev, uint64_t ino, Refusal why, std::string message) {
  if (control_refusal_.dev == dev && control_refusal_.ino == ino && control_refusal_.why == int(why)) return;
  control_refusal_ = {dev, ino, int(why)};
  last_control_error_ = std::move(message);
  ++control_refused_by_[size_t(why)];
}

template <class Kind>
auto BlobSource<Kind>::drop_control(const ControlRef* current) -> const ControlRef* {
  // Never read the dropped mapping again (it may have shrunk): the
  // generation last looked at is settled_ less the control's epoch.
  uint64_t settled = settled_.load(std::memory_order_relaxed);
  uint64_t raw = settled >= current->epoch ? settled - current->epoch : 0;
  auto* block = new ControlBlock();
  std::memcpy(block->magic, kControlMagic, sizeof block->magic);
  block->size = kControlSize;
  block->generation.store(raw, std::memory_order_relaxed);
  // Same epoch: cursors see the same generation, and nothing changes for
  // them. A control object mapped later is a new epoch.
  auto* ref = new ControlRef{block, current->epoch, 0, 0, true};
  controls_.push_back(ref);
  control_.store(ref, std::memory_order_release);
  return ref;
}

// Maps the control object now under the name if it is not the one mapped
// already and can be trusted; returns the one to use (null when there is
// none yet).
template <class Kind>
auto BlobSource<Kind>::map_control() -> const ControlRef* {
  const ControlRef* current = control_.load(std::memory_order_relaxed);
  std::string name = control_object_name(table_, Kind::kBlob);
  Fd fd(::shm_open(name.c_str(), O_RDONLY | O_CLOEXEC, 0));
  if (fd.get() < 0) {
    // Nothing published yet, or removed: keep serving what we have.
    if (errno != ENOENT)
      refuse_control(0, 0, Refusal::kMode, name + ": cannot be opened: " + std::strerror(errno));
    return current;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return current;
  const uint64_t dev = uint64_t(st.st_dev), ino = uint64_t(st.st_ino);
  const bool is_current = current && !current->copy && current->dev == dev && current->ino == ino;
  // A writer creating the object leaves it empty, then without its magic,
  // for a moment: wait that long before refusing it.
  auto pending = [&] {
    uint64_t now = steady_ms();
    if (pending_.since_ms == 0 || pending_.dev != dev || pending_.ino != ino) {
      pending_ = {dev, ino, now};
      return true;
    }
    return now - pending_.since_ms < kControlGraceMs;
  };
  Refusal why = Refusal::kInvalid;
  std::string bad = distrust(st, why);
  if (bad.empty() && size_t(st.st_size) < kControlSize) {
    if (st.st_size == 0 && !is_current && pending()) return current;
    why = Refusal::kSize;
    bad = st.st_size == 0 ? "is still empty after " + std::to_string(kControlGraceMs) + " ms"
                          : "size " + std::to_string(st.st_size) + " is less than a control object's " +
                                std::to_string(kControlSize);
  }
  if (!bad.empty()) {
    refuse_control(dev, ino, why, name + ": " + bad);
    // The one in use shrank or is no longer trusted: stop reading it.
    return is_current ? drop_control(current) : current;
  }
  if (is_current) {
    control_refusal_ = {};
    pending_ = {};
    return current;
  }
  void* addr = ::mmap(nullptr, kControlSize, PROT_READ, MAP_SHARED, fd.get(), 0);
  if (addr == MAP_FAILED) return current;
  auto* block = static_cast<const ControlBlock*>(addr);
  if (std::memcmp(block->magic, kControlMagic, sizeof block->magic) != 0) {
    static constexpr char kNoMagic[sizeof block->magic] = {};
    bool none = std::memcmp(block->magic, kNoMagic, sizeof block->magic) == 0;
    ::munmap(addr, kControlSize);
    // Still being created (the writer copies the magic in last, not in one
    // store): try again later.
    if (pending()) return current;
    refuse_control(dev, ino, Refusal::kInvalid,
                   name + (none ? ": has no magic after " + std::to_string(kControlGraceMs) +
                                      " ms (a writer that died creating it?)"
                                : std::string(": bad magic: not an ats-ingress control object")));
    return current;
  }
  if (block->size != kControlSize) {
    std::string size = std::to_string(block->size);
    ::munmap(addr, kControlSize);
    refuse_control(dev, ino, Refusal::kInvalid,
                   name + ": says it is " + size + " bytes long, this reader knows " + std::to_string(kControlSize));
    return current;
  }
  // The control block's format_version is not checked: it is for people (a
  // control object outlives writers, and an upgraded one keeps the version
  // it was created with); each table's own version is.
  std::atomic_thread_fence(std::memory_order_acquire);
  pending_ = {};
  control_refusal_ = {};
  auto* ref = new ControlRef{block, current ? current->epoch + kEpochUnit : 0, dev, ino, false};
  controls_.push_back(ref);
  control_.store(ref, std::memory_order_release);
  return ref;
}

template <class Kind>
Error BlobSource<Kind>::read_generation(uint64_t g, std::shared_ptr<const Mapped>& out, Refusal& why) {
  std::string name = table_object_name(table_, g, Kind::kBlob);
  auto refuse = [&](Refusal r, const std::string& message) {
    why = r;
    return Error{ErrorCode::kInvalidTable, name + ": " + message};
  };
  Fd fd(::shm_open(name.c_str(), O_RDONLY | O_CLOEXEC, 0));
  if (fd.get() < 0) {
    if (errno == ENOENT) {
      why = Refusal::kMissing;
      return {ErrorCode::kNotFound, name + " does not exist"};
    }
    return refuse(Refusal::kMode, std::string("cannot be opened: ") + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return refuse(Refusal::kInvalid, std::string("fstat: ") + std::strerror(errno));
  if (std::string bad = distrust(st, why); !bad.empty()) return {ErrorCode::kInvalidTable, name + ": " + bad};
  uint64_t size64 = uint64_t(st.st_size);
  if (size64 < Kind::kHeaderSize)
    return refuse(Refusal::kSize, "size " + std::to_string(size64) + " cannot be a " + Kind::kBlob.what);
  // The format's own bound (every offset fits in 32 bits), checked before
  // any memory is taken for the copy.
  if (size64 > kMaxTableBytes)
    return refuse(Refusal::kSize, "size " + std::to_string(size64) + " is over the bound of " +
                                      std::to_string(kMaxTableBytes) + " bytes (2 GiB)");
  size_t size = size_t(size64);
  // A copy of our own, never a mapping of the object: whoever can write the
  // object could truncate it under a mapping (SIGBUS on the next request
  // that reads there) or change it after validation.
  void* addr = copy_memory(name, size);
  if (!addr) return refuse(Refusal::kSize, "cannot take " + std::to_string(size) + " bytes: " + std::strerror(errno));
  std::shared_ptr<Mapped> t(new Mapped());  // unmaps on every return below but the last
  t->addr_ = addr;
  t->size_ = size;
  ssize_t n = read_all(fd.get(), static_cast<uint8_t*>(addr), size);
  if (n < 0) return refuse(Refusal::kInvalid, std::string("read: ") + std::strerror(errno));
  struct stat after {};
  if (::fstat(fd.get(), &after) != 0) return refuse(Refusal::kInvalid, std::string("fstat: ") + std::strerror(errno));
  // A writer never writes an object once published: one that moved while
  // we read it is being rewritten. (Its ctime moves when it is unlinked: a
  // writer removing an old generation.)
  if (size_t(n) != size || after.st_size != st.st_size || !same_time(after.st_mtim, st.st_mtim))
    return refuse(Refusal::kChanged, "changed while being read (" + std::to_string(size) + " bytes, " +
                                         std::to_string(n) + " read, " + std::to_string(after.st_size) + " now)");
  if (::mprotect(addr, size, PROT_READ) != 0)
    return refuse(Refusal::kInvalid, std::string("mprotect: ") + std::strerror(errno));
  const auto* bytes = static_cast<const uint8_t*>(addr);
  if (Error e = View::validate(bytes, size, t->view_)) {
    uint32_t version = 0;
    std::memcpy(&version, bytes + 8, sizeof version);
    bool ours = std::memcmp(bytes, Kind::kMagic, sizeof Kind::kMagic) == 0;
    return refuse(ours && version != Kind::kBlob.format_version ? Refusal::kVersion : Refusal::kInvalid, e.message);
  }
  if (t->view_.generation() != g)
    return refuse(Refusal::kInvalid, "holds generation " + std::to_string(t->view_.generation()));
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
    if (current_ && g < serving_) {
      // A writer only counts up: an older generation (one that may still
      // exist) is a replay, not a publish.
      last_control_error_ = control_object_name(table_, Kind::kBlob) + ": went back to generation " +
                            std::to_string(raw) + " from " + std::to_string(current_->generation());
      ++control_refused_by_[size_t(Refusal::kInvalid)];
      settled_.store(g, std::memory_order_release);
      return true;
    }
    std::shared_ptr<const Mapped> t;
    Refusal why = Refusal::kInvalid;
    Error e = read_generation(raw, t, why);
    if (!e) {
      current_ = std::move(t);
      serving_ = g;
      switches_.fetch_add(1, std::memory_order_relaxed);
      settled_.store(g, std::memory_order_release);
      return true;
    }
    bool superseded = e.code == ErrorCode::kNotFound &&
                      control->block->generation.load(std::memory_order_acquire) != raw;
    if (superseded) continue;
    last_error_ = e.message;
    ++refused_by_[size_t(why)];
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
  SourceStats s;
  s.switches = switches_.load();
  s.refused = refused_.load();
  s.serving = current_ ? current_->generation() : 0;
  s.refused_by = refused_by_;
  s.control_refused_by = control_refused_by_;
  for (uint64_t n : control_refused_by_) s.control_refused += n;
  return s;
}

template <class Kind>
std::string BlobSource<Kind>::last_error() const {
  std::lock_guard<std::mutex> lk(mu_);
  return last_error_;
}

template <class Kind>
std::string BlobSource<Kind>::last_control_error() const {
  std::lock_guard<std::mutex> lk(mu_);
  return last_control_error_;
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
