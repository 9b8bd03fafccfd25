#include "shm.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "table_writer.h"

namespace atsi {
namespace {

constexpr std::string_view kPrefix = "ats-ingress.";

Error sys_error(const std::string& what) {
  return {ErrorCode::kSystem, what + ": " + std::strerror(errno)};
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }

 private:
  int fd_;
};

bool write_all(int fd, const uint8_t* p, size_t n) {
  size_t off = 0;
  while (off < n) {
    ssize_t w = ::pwrite(fd, p + off, n - off, off_t(off));
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += size_t(w);
  }
  return true;
}

void reseal(std::vector<uint8_t>& bytes, uint64_t generation) {
  if (bytes.size() < sizeof(Header)) return;
  std::memcpy(bytes.data() + offsetof(Header, generation), &generation, sizeof generation);
  uint64_t sum = table_checksum(bytes.data(), bytes.size());
  std::memcpy(bytes.data() + offsetof(Header, checksum), &sum, sizeof sum);
}

}  // namespace

uint64_t now_ms() {
  return uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count());
}

bool is_valid_table_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string control_object_name(std::string_view table) {
  return "/" + std::string(kPrefix) + std::string(table) + ".ctl";
}

std::string table_object_name(std::string_view table, uint64_t generation) {
  return "/" + std::string(kPrefix) + std::string(table) + "." + std::to_string(generation);
}

// ---------------------------------------------------------------- writer

Error Publisher::open(std::string_view table, std::unique_ptr<Publisher>& out) {
  if (!is_valid_table_name(table))
    return {ErrorCode::kInvalidName, "table name \"" + std::string(table) +
                                         "\" must be 1 to 64 letters, digits, '_' or '-'"};
  std::string name = control_object_name(table);
  Fd fd(::shm_open(name.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (fd.get() < 0) return sys_error("shm_open " + name);
  // Readable by the proxy's user, writable only by us, whatever the umask.
  if (::fchmod(fd.get(), 0644) != 0) return sys_error("fchmod " + name);
  if (::flock(fd.get(), LOCK_EX) != 0) return sys_error("flock " + name);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys_error("fstat " + name);
  bool fresh = st.st_size == 0;
  if (fresh && ::ftruncate(fd.get(), kControlSize) != 0) return sys_error("ftruncate " + name);
  if (!fresh && size_t(st.st_size) < sizeof(ControlBlock))
    return {ErrorCode::kSystem, name + " is too small to be a control object"};
  void* addr = ::mmap(nullptr, kControlSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (addr == MAP_FAILED) return sys_error("mmap " + name);
  auto* control = static_cast<ControlBlock*>(addr);
  if (fresh) {
    control->format_version = kFormatVersion;
    control->size = kControlSize;
    control->generation.store(0, std::memory_order_relaxed);
    // The magic goes last: a reader maps the control only once it is there.
    std::atomic_thread_fence(std::memory_order_release);
    std::memcpy(control->magic, kControlMagic, sizeof control->magic);
  } else if (std::memcmp(control->magic, kControlMagic, sizeof control->magic) != 0) {
    ::munmap(addr, kControlSize);
    ::flock(fd.get(), LOCK_UN);
    return {ErrorCode::kSystem, name + " exists but is not an ats-ingress control object"};
  }
  ::flock(fd.get(), LOCK_UN);
  out.reset(new Publisher());
  out->table_ = std::string(table);
  out->control_fd_ = fd.release();
  out->control_ = control;
  return {};
}

Publisher::~Publisher() {
  if (control_) ::munmap(control_, kControlSize);
  if (control_fd_ >= 0) ::close(control_fd_);
}

Error Publisher::write_object(uint64_t generation, const std::vector<uint8_t>& bytes) {
  std::string name = table_object_name(table_, generation);
  // A leftover of a writer that died before publishing it: no reader was
  // ever pointed at it, so it can go.
  ::shm_unlink(name.c_str());
  Fd fd(::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.get() < 0) return sys_error("shm_open " + name);
  if (::fchmod(fd.get(), 0644) != 0 || ::ftruncate(fd.get(), off_t(bytes.size())) != 0 ||
      !write_all(fd.get(), bytes.data(), bytes.size())) {
    Error e = sys_error("writing " + name);
    ::shm_unlink(name.c_str());
    return e;
  }
  return {};
}

void Publisher::remove_older_than(uint64_t keep_from) {
  if (!swept_) {
    // Once per writer: objects left by earlier writers of this name.
    std::string prefix = std::string(kPrefix) + table_ + ".";
    if (DIR* d = ::opendir("/dev/shm")) {
      while (dirent* e = ::readdir(d)) {
        std::string_view n(e->d_name);
        if (n.substr(0, prefix.size()) != prefix) continue;
        std::string_view rest = n.substr(prefix.size());
        if (rest.empty() || rest.find_first_not_of("0123456789") != std::string_view::npos) continue;
        uint64_t g = std::strtoull(std::string(rest).c_str(), nullptr, 10);
        if (g < keep_from) ::shm_unlink(("/" + std::string(n)).c_str());
      }
      ::closedir(d);
    }
    swept_ = true;
    return;
  }
  if (keep_from >= 2) ::shm_unlink(table_object_name(table_, keep_from - 1).c_str());
}

Error Publisher::publish(const TableInput& input, uint64_t build_time_ms, PublishResult& result) {
  if (::flock(control_fd_, LOCK_EX) != 0) return sys_error("flock");
  uint64_t g = control_->generation.load(std::memory_order_relaxed) + 1;
  std::vector<uint8_t> bytes;
  Error e = build_table(input, g, build_time_ms, bytes);
  if (!e) e = write_object(g, bytes);
  if (!e) {
    control_->publish_time_ms.store(now_ms(), std::memory_order_relaxed);
    control_->writer_pid.store(uint64_t(::getpid()), std::memory_order_relaxed);
    control_->generation.store(g, std::memory_order_release);
    // Keep the previous table too: a reader may be about to open it.
    remove_older_than(g - 1);
    result = {g, bytes.size()};
  }
  ::flock(control_fd_, LOCK_UN);
  return e;
}

Error Publisher::publish_bytes(std::vector<uint8_t> bytes, PublishResult& result) {
  if (::flock(control_fd_, LOCK_EX) != 0) return sys_error("flock");
  uint64_t g = control_->generation.load(std::memory_order_relaxed) + 1;
  reseal(bytes, g);
  Error e = write_object(g, bytes);
  if (!e) {
    control_->generation.store(g, std::memory_order_release);
    remove_older_than(g - 1);
    result = {g, bytes.size()};
  }
  ::flock(control_fd_, LOCK_UN);
  return e;
}

Error Publisher::remove_all() {
  swept_ = false;
  remove_older_than(UINT64_MAX);
  std::string name = control_object_name(table_);
  if (::shm_unlink(name.c_str()) != 0 && errno != ENOENT) return sys_error("shm_unlink " + name);
  return {};
}

// ---------------------------------------------------------------- reader

MappedTable::~MappedTable() {
  if (addr_) ::munmap(addr_, size_);
}

TableSource::TableSource(std::string table) : table_(std::move(table)) {}

TableSource::~TableSource() {
  for (const ControlRef* c : controls_) {
    ::munmap(const_cast<ControlBlock*>(c->block), kControlSize);
    delete c;
  }
}

// Maps the control object now under the name if it is not the one mapped
// already; returns the one to use (null when there is none yet).
const TableSource::ControlRef* TableSource::map_control() {
  const ControlRef* current = control_.load(std::memory_order_relaxed);
  std::string name = control_object_name(table_);
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

Error TableSource::map_generation(uint64_t g, std::shared_ptr<const MappedTable>& out) {
  std::string name = table_object_name(table_, g);
  Fd fd(::shm_open(name.c_str(), O_RDONLY | O_CLOEXEC, 0));
  if (fd.get() < 0) {
    if (errno == ENOENT) return {ErrorCode::kNotFound, name + " does not exist"};
    return sys_error("shm_open " + name);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys_error("fstat " + name);
  size_t size = size_t(st.st_size);
  if (size < sizeof(Header) || size > kMaxTableBytes)
    return {ErrorCode::kInvalidTable, name + ": size " + std::to_string(size) + " cannot be a table"};
  void* addr = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd.get(), 0);
  if (addr == MAP_FAILED) return sys_error("mmap " + name);
  std::shared_ptr<MappedTable> t(new MappedTable());
  t->addr_ = addr;
  t->size_ = size;
  Error e = TableView::validate(static_cast<const uint8_t*>(addr), size, t->view_);
  if (e) return {ErrorCode::kInvalidTable, name + ": " + e.message};
  if (t->view_.generation() != g)
    return {ErrorCode::kInvalidTable, name + ": holds generation " + std::to_string(t->view_.generation())};
  out = std::move(t);
  return {};
}

bool TableSource::refresh(bool wait) {
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
    std::shared_ptr<const MappedTable> t;
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

std::shared_ptr<const MappedTable> TableSource::current() const {
  std::lock_guard<std::mutex> lk(mu_);
  return current_;
}

SourceStats TableSource::stats() const {
  std::lock_guard<std::mutex> lk(mu_);
  return {switches_.load(), refused_.load(), current_ ? current_->generation() : 0};
}

std::string TableSource::last_error() const {
  std::lock_guard<std::mutex> lk(mu_);
  return last_error_;
}

void ReaderCursor::catch_up(uint64_t g) {
  if (source_.settled() != g) source_.refresh(/*wait=*/false);
  bool settled = source_.settled() == g;
  // Another thread is mapping the new table: keep ours meanwhile. A cursor
  // with none yet takes whatever the source serves now and looks again on
  // its next call.
  if (!settled && table_) return;
  std::shared_ptr<const MappedTable> t = source_.current();
  if (t != table_) {
    table_ = std::move(t);
    if (table_) balancer_.reset(table_->view(), seed_);
  }
  if (settled) seen_ = g;
}

}  // namespace atsi
