// Internal to the core's decoders of the addon's flat encodings
// (model_decoder.cc, tls_decoder.cc): reads one array of uint32 in order,
// with strings given as indexes into one string of NUL-separated strings.
// Every read is bounds-checked; after the first failure every read returns
// a neutral value and the failure (at which int, and why) is kept.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "errors.h"
#include "format.h"

namespace atsi {

class EncodingReader {
 public:
  // `what` names the encoding in errors: "model", "TLS model".
  EncodingReader(const uint32_t* ints, size_t n, const char* what) : ints_(ints), n_(n), what_(what) {}

  bool ok() const { return why_.empty(); }
  size_t position() const { return pos_; }
  size_t left() const { return n_ - pos_; }

  void fail(size_t at, std::string why) {
    if (!ok()) return;
    at_ = at;
    why_ = std::move(why);
  }

  Error error() const {
    return {ErrorCode::kInvalidModel,
            "the encoded " + std::string(what_) + " is malformed at int " + std::to_string(at_) + ": " + why_};
  }

  // Splits `strings` into `count` strings, or fails. By memchr, which
  // skips a word or more at a time: a megabyte of text byte by byte was 2 ms
  // of every publish at 10,000 Ingresses.
  void set_strings(std::string_view strings, uint32_t count) {
    strings_.clear();
    if (!(strings.empty() && count == 0)) {
      strings_.reserve(std::min<size_t>(count, strings.size() + 1));
      const char* at = strings.data();
      const char* end = at + strings.size();
      for (;;) {
        const auto* nul = static_cast<const char*>(std::memchr(at, '\0', size_t(end - at)));
        const char* stop = nul ? nul : end;
        strings_.emplace_back(at, size_t(stop - at));
        if (!nul) break;
        at = nul + 1;
      }
    }
    if (strings_.size() != count) {
      fail(1, "it says " + std::to_string(count) + " strings, the strings hold " + std::to_string(strings_.size()));
      strings_.clear();
    }
  }

  // The number of strings, and where string `i` begins in the text (the
  // text's size for i == the number of strings).
  size_t string_count() const { return strings_.size(); }
  size_t string_offset(std::string_view strings, size_t i) const {
    return i < strings_.size() ? size_t(strings_[i].data() - strings.data()) : strings.size();
  }
  // Strings below `first` are refused from here on ("belongs to" names whose
  // they are), and the highest index read so far is kept: one part of an
  // encoding can be kept apart from another by where its strings begin.
  void strings_from(uint32_t first, const char* owner) {
    first_string_ = first;
    owner_ = owner;
  }
  // One past the highest string index read (0 when none was).
  uint32_t strings_read() const { return strings_read_; }
  // Goes on reading at `pos` (at most the end).
  void seek(size_t pos) { pos_ = pos < n_ ? pos : n_; }

  uint32_t u32() {
    if (!ok()) return 0;
    if (pos_ >= n_) {
      fail(pos_, "the encoding ends early");
      return 0;
    }
    return ints_[pos_++];
  }

  std::string str() {
    size_t at = pos_;
    uint32_t i = u32();
    return string_at(at, i);
  }

  // The same into `out`, reusing its memory (kNone, for opt_into: empty).
  void str_into(std::string& out) {
    size_t at = pos_;
    uint32_t i = u32();
    out.assign(view_at(at, i));
  }
  void opt_into(std::string& out) {
    size_t at = pos_;
    uint32_t i = u32();
    if (i == kNone) out.clear();
    else out.assign(view_at(at, i));
  }

  std::string opt_str() {
    size_t at = pos_;
    uint32_t i = u32();
    return i == kNone ? std::string() : string_at(at, i);
  }

  // Fails when ints follow the last element (`last` names it).
  void expect_end(const char* last) {
    if (!ok() || left() == 0) return;
    fail(position(), left() == 1 ? "1 int follows " + std::string(last)
                                 : std::to_string(left()) + " ints follow " + std::string(last));
  }

  // A count of elements that take at least `ints_each` ints each.
  uint32_t count(size_t ints_each) {
    size_t at = pos_;
    uint32_t c = u32();
    if (ok() && c > left() / ints_each) {
      fail(at, "count " + std::to_string(c) + " is more than the " + std::to_string(left()) + " ints left can hold");
    }
    return ok() ? c : 0;
  }

 private:
  std::string string_at(size_t at, uint32_t i) { return std::string(view_at(at, i)); }

  std::string_view view_at(size_t at, uint32_t i) {
    if (!ok()) return {};
    if (i >= strings_.size()) {
      fail(at, "string index " + std::to_string(i) + " is out of range (" + std::to_string(strings_.size()) +
                   " strings)");
      return {};
    }
    if (i < first_string_) {
      fail(at, "string index " + std::to_string(i) + " is one of the " + owner_ + "' strings (0 to " +
                   std::to_string(first_string_ - 1) + ")");
      return {};
    }
    if (i + 1 > strings_read_) strings_read_ = i + 1;
    return strings_[i];
  }

  const uint32_t* ints_;
  size_t n_;
  const char* what_;
  size_t pos_ = 0;
  std::vector<std::string_view> strings_;
  uint32_t first_string_ = 0;
  const char* owner_ = "";
  uint32_t strings_read_ = 0;
  size_t at_ = 0;
  std::string why_;
};

}  // namespace atsi
