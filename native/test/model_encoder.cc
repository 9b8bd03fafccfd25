#include "model_encoder.h"


#include "format.h"
#include "model_decoder.h"

namespace atsi::testing {
namespace {

class Writer {
 public:
  void u32(uint32_t v) { out.ints.push_back(v); }
  void opt(const std::optional<uint32_t>& v) { u32(v ? *v : kNone); }
  void str(const std::string& s) {
    u32(count_++);
    if (count_ > 1) out.strings.push_back('\0');
    out.strings += s;
  }
  void opt_str(const std::string& s) {
    if (s.empty()) u32(kNone);
    else str(s);
  }
  uint32_t strings() const { return count_; }
  EncodedModel out;

 private:
  uint32_t count_ = 0;
};

}  // namespace

EncodedModel encode_model(const TableInput& in) {
  Writer w;
  w.u32(kModelEncodingVersion);
  w.u32(0);  // the number of strings, known at the end
  w.u32(in.default_backend);
  w.u32(uint32_t(in.backends.size()));
  for (const InputBackend& b : in.backends) {
    w.str(b.service);
    w.str(b.port);
    w.opt_str(b.problem);
    w.u32(b.scheme == kSchemeHttps ? 1 : 0);
    w.opt(b.options.connect_timeout_ms);
    w.opt(b.options.response_timeout_ms);
    w.u32(!b.options.redirect_to_https ? kNone : *b.options.redirect_to_https ? 1 : 0);
    w.u32(!b.options.cache_policy ? kNone : *b.options.cache_policy == 1 ? 1 : 0);
    if (b.options.upstream_host) w.str(*b.options.upstream_host);
    else w.u32(kNone);
    w.opt(b.options.cache_default_ttl_s);
    w.opt(b.options.cache_max_ttl_s);
    w.u32(!b.options.cache_ignore_query ? kNone : *b.options.cache_ignore_query ? 1 : 0);
    w.opt(b.options.cache_serve_stale_s);
    w.opt(b.options.cache_generation);
    w.opt(b.options.stats_slot);
    w.u32(uint32_t(b.endpoints.size()));
    for (const InputEndpoint& e : b.endpoints) {
      // As encode-model.ts: the address as words (text that is no address: family 0, refused).
      EndpointAddress a = endpoint_address(e);
      w.u32(a.family);
      for (size_t i = 0; i < (a.family == 6 ? 16u : 4u); i += 4)
        w.u32(uint32_t(a.bytes[i]) << 24 | uint32_t(a.bytes[i + 1]) << 16 | uint32_t(a.bytes[i + 2]) << 8 | a.bytes[i + 3]);
      w.u32(e.port);
      w.u32(e.weight);
    }
  }
  w.u32(uint32_t(in.hosts.size()));
  for (const InputHost& h : in.hosts) {
    w.str(h.name);
    w.u32(h.default_backend);
    w.opt_str(h.default_source);
    w.u32(uint32_t(h.rules.size()));
    for (const InputRule& r : h.rules) {
      w.str(r.path);
      w.u32(r.path_type == kPathExact ? 0 : r.path_type == kPathPrefix ? 1 : 2);
      w.u32(r.backend);
      w.str(r.source);
    }
  }
  w.out.ints[1] = w.strings();
  return std::move(w.out);
}

std::string frame(const EncodedModel& m) {
  std::string out(4, '\0');
  uint32_t n = uint32_t(m.strings.size());
  for (int i = 0; i < 4; ++i) out[size_t(i)] = char((n >> (8 * i)) & 0xff);
  out += m.strings;
  for (uint32_t v : m.ints)
    for (int i = 0; i < 4; ++i) out.push_back(char((v >> (8 * i)) & 0xff));
  return out;
}

EncodedModel unframe(std::string_view bytes) {
  EncodedModel m;
  if (bytes.size() < 4) return m;
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n |= uint32_t(uint8_t(bytes[size_t(i)])) << (8 * i);
  bytes.remove_prefix(4);
  size_t len = n < bytes.size() ? n : bytes.size();
  m.strings = std::string(bytes.substr(0, len));
  bytes.remove_prefix(len);
  for (size_t i = 0; i + 4 <= bytes.size(); i += 4) {
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) v |= uint32_t(uint8_t(bytes[i + size_t(k)])) << (8 * k);
    m.ints.push_back(v);
  }
  return m;
}

}  // namespace atsi::testing
