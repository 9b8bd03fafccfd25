// Internal to the core's lookups (lookup.cc, gateway_lookup.cc): text into
// a caller's buffer with snprintf's contract, so the plugin can build its
// answers on the stack.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string_view>

namespace atsi {

// Appends to a caller's buffer, cutting at its end, and counts the whole.
class Appender {
 public:
  Appender(char* buf, size_t size) : buf_(buf), size_(size) {}
  Appender& operator<<(std::string_view s) {
    if (len_ + 1 < size_ && !s.empty()) {  // an empty view may have no data to copy from
      size_t n = std::min(s.size(), size_ - 1 - len_);
      std::memcpy(buf_ + len_, s.data(), n);
    }
    len_ += s.size();
    return *this;
  }
  Appender& number(unsigned v) {
    char digits[10];
    size_t n = 0;
    do {
      digits[sizeof digits - 1 - n++] = char('0' + v % 10);
      v /= 10;
    } while (v && n < sizeof digits);
    return *this << std::string_view(digits + sizeof digits - n, n);
  }
  size_t length() const { return len_; }
  // NUL-terminates what fits; returns the whole length.
  size_t finish() {
    if (size_) buf_[std::min(len_, size_ - 1)] = '\0';
    return len_;
  }

 private:
  char* buf_;
  size_t size_;
  size_t len_ = 0;
};

}  // namespace atsi
