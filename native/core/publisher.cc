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

Error Publisher::open(std::string_view table, std::unique_ptr<Publisher>& out) {
  if (Error e = check_table_name(table)) return e;
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
    std::string prefix = std::string(kObjectPrefix) + table_ + ".";
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

}  // namespace atsi
