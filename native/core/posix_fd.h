// Internal to the core's shared-memory code (publisher.cc, table_source.cc):
// an owning file descriptor, and a kSystem error carrying errno's text.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "errors.h"

namespace atsi {

inline Error sys_error(const std::string& what) {
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

}  // namespace atsi
