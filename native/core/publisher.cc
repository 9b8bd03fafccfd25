#include "publisher.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "control_block.h"
#include "format.h"
#include "posix_fd.h"
#include "shm_names.h"
#include "table_writer.h"

namespace atsi {
namespace {

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

// Both kinds' headers begin alike (tls_format.h): generation and checksum
// sit at the same offsets.
void reseal(std::vector<uint8_t>& bytes, uint64_t generation) {
  if (bytes.size() < offsetof(Header, checksum) + sizeof(uint64_t)) return;
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

Error BlobPublisher::init(std::string_view table) {
  if (Error e = check_table_name(table)) return e;
  std::string name = control_object_name(table, kind_);
  Fd fd(::shm_open(name.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, kind_.mode));
  if (fd.get() < 0) return sys_error("shm_open " + name);
  // The kind's mode (readable by the proxy's user, writable only by us; or
  // owner only), whatever the umask.
  if (::fchmod(fd.get(), mode_t(kind_.mode)) != 0) return sys_error("fchmod " + name);
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
    control->format_version = kind_.format_version;
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
  table_ = std::string(table);
  control_fd_ = fd.release();
  control_ = control;
  return {};
}

BlobPublisher::~BlobPublisher() {
  if (control_) ::munmap(control_, kControlSize);
  if (control_fd_ >= 0) ::close(control_fd_);
}

Error BlobPublisher::write_object(uint64_t generation, const std::vector<uint8_t>& bytes) {
  std::string name = table_object_name(table_, generation, kind_);
  // A leftover of a writer that died before publishing it: no reader was
  // ever pointed at it, so it can go.
  ::shm_unlink(name.c_str());
  Fd fd(::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, kind_.mode));
  if (fd.get() < 0) return sys_error("shm_open " + name);
  if (::fchmod(fd.get(), mode_t(kind_.mode)) != 0 || ::ftruncate(fd.get(), off_t(bytes.size())) != 0 ||
      !write_all(fd.get(), bytes.data(), bytes.size())) {
    Error e = sys_error("writing " + name);
    ::shm_unlink(name.c_str());
    return e;
  }
  return {};
}

void BlobPublisher::remove_older_than(uint64_t keep_from) {
  if (!swept_) {
    // Once per writer: objects left by earlier writers of this name and kind.
    if (DIR* d = ::opendir("/dev/shm")) {
      while (dirent* e = ::readdir(d)) {
        std::optional<uint64_t> g = object_generation(e->d_name, table_, kind_);
        if (g && *g < keep_from) ::shm_unlink(("/" + std::string(e->d_name)).c_str());
      }
      ::closedir(d);
    }
    swept_ = true;
    return;
  }
  if (keep_from >= 2) ::shm_unlink(table_object_name(table_, keep_from - 1, kind_).c_str());
}

Error BlobPublisher::publish_built(const Build& build, PublishResult& result) {
  if (::flock(control_fd_, LOCK_EX) != 0) return sys_error("flock");
  uint64_t g = control_->generation.load(std::memory_order_relaxed) + 1;
  // The last build's buffer, capacity and all: a table of megabytes made
  // afresh each time costs a page fault per page before a byte is written.
  std::vector<uint8_t>& bytes = buffer_;
  bytes.clear();
  Error e = build(g, bytes);
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

Error BlobPublisher::publish_bytes(std::vector<uint8_t> bytes, PublishResult& result) {
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

Error BlobPublisher::remove_all() {
  swept_ = false;
  remove_older_than(UINT64_MAX);
  std::string name = control_object_name(table_, kind_);
  if (::shm_unlink(name.c_str()) != 0 && errno != ENOENT) return sys_error("shm_unlink " + name);
  return {};
}

}  // namespace atsi
