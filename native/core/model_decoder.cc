#include "model_decoder.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "format.h"

namespace atsi {
namespace {

// The fewest ints one element takes: a count larger than the ints left can
// hold is refused before anything is allocated for it.
constexpr size_t kIntsPerBackend = 10;
constexpr size_t kIntsPerEndpoint = 3;
constexpr size_t kIntsPerHost = 4;
constexpr size_t kIntsPerRule = 4;

// Reads in order; after the first failure every read returns a neutral value
// and the failure (where and why) is kept.
class Reader {
 public:
  Reader(const uint32_t* ints, size_t n) : ints_(ints), n_(n) {}

  bool ok() const { return why_.empty(); }
  size_t position() const { return pos_; }
  size_t left() const { return n_ - pos_; }

  void fail(size_t at, std::string why) {
    if (!ok()) return;
    at_ = at;
    why_ = std::move(why);
  }

  Error error() const {
    return {ErrorCode::kInvalidModel, "the encoded model is malformed at int " + std::to_string(at_) + ": " + why_};
  }

  // Splits `strings` into `count` strings, or fails.
  void set_strings(std::string_view strings, uint32_t count) {
    size_t pieces = strings.empty() && count == 0 ? 0 : size_t(std::count(strings.begin(), strings.end(), '\0')) + 1;
    if (pieces != count) {
      fail(1, "it says " + std::to_string(count) + " strings, the strings hold " + std::to_string(pieces));
      return;
    }
    strings_.reserve(pieces);
    size_t start = 0;
    for (size_t i = 0; pieces && i <= strings.size(); ++i) {
      if (i == strings.size() || strings[i] == '\0') {
        strings_.push_back(strings.substr(start, i - start));
        start = i + 1;
      }
    }
  }

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

  std::string opt_str() {
    size_t at = pos_;
    uint32_t i = u32();
    return i == kNone ? std::string() : string_at(at, i);
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
  std::string string_at(size_t at, uint32_t i) {
    if (!ok()) return {};
    if (i >= strings_.size()) {
      fail(at, "string index " + std::to_string(i) + " is out of range (" + std::to_string(strings_.size()) +
                   " strings)");
      return {};
    }
    return std::string(strings_[i]);
  }

  const uint32_t* ints_;
  size_t n_;
  size_t pos_ = 0;
  std::vector<std::string_view> strings_;
  size_t at_ = 0;
  std::string why_;
};

void read_backend(Reader& r, InputBackend& be) {
  be.service = r.str();
  be.port = r.str();
  be.problem = r.opt_str();
  be.scheme = r.u32() == 1 ? kSchemeHttps : kSchemeHttp;
  uint32_t v = r.u32();
  if (v != kNone) be.options.connect_timeout_ms = v;
  v = r.u32();
  if (v != kNone) be.options.response_timeout_ms = v;
  v = r.u32();
  if (v != kNone) be.options.redirect_to_https = v == 1;
  v = r.u32();
  if (v != kNone) be.options.cache_policy = uint8_t(v == 1 ? 1 : 0);
  std::string up = r.opt_str();
  if (!up.empty()) be.options.upstream_host = std::move(up);
  uint32_t ne = r.count(kIntsPerEndpoint);
  be.endpoints.resize(ne);
  for (uint32_t e = 0; e < ne && r.ok(); ++e) {
    InputEndpoint& ep = be.endpoints[e];
    ep.address = r.str();
    uint32_t port = r.u32();
    ep.port = port <= 65535 ? uint16_t(port) : 0;  // 0: refused by build_table
    ep.weight = r.u32();
  }
}

void read_host(Reader& r, InputHost& host) {
  host.name = r.str();
  host.default_backend = r.u32();
  host.default_source = r.opt_str();
  uint32_t nr = r.count(kIntsPerRule);
  host.rules.resize(nr);
  for (uint32_t i = 0; i < nr && r.ok(); ++i) {
    InputRule& rule = host.rules[i];
    rule.path = r.str();
    uint32_t type = r.u32();
    rule.path_type = type == 0 ? kPathExact : type == 1 ? kPathPrefix : kPathImplementationSpecific;
    rule.backend = r.u32();
    rule.source = r.str();
  }
}

}  // namespace

Error decode_model(std::string_view strings, const uint32_t* ints, size_t count, TableInput& out) {
  Reader r(ints, count);
  uint32_t version = r.u32();
  if (r.ok() && version != kModelEncodingVersion) {
    return {ErrorCode::kInvalidModel, "the encoded model has version " + std::to_string(version) +
                                          "; this addon reads version " + std::to_string(kModelEncodingVersion)};
  }
  uint32_t string_count = r.u32();
  if (r.ok()) r.set_strings(strings, string_count);
  TableInput in;
  in.default_backend = r.u32();
  uint32_t nb = r.count(kIntsPerBackend);
  in.backends.resize(nb);
  for (uint32_t b = 0; b < nb && r.ok(); ++b) read_backend(r, in.backends[b]);
  uint32_t nh = r.count(kIntsPerHost);
  in.hosts.resize(nh);
  for (uint32_t h = 0; h < nh && r.ok(); ++h) read_host(r, in.hosts[h]);
  if (r.ok() && r.left() != 0) {
    r.fail(r.position(), r.left() == 1 ? std::string("1 int follows the last host")
                                       : std::to_string(r.left()) + " ints follow the last host");
  }
  if (!r.ok()) return r.error();
  out = std::move(in);
  return {};
}

}  // namespace atsi
