// libFuzzer target: any bytes given to the reader must be refused or, once
// accepted, looked up without reading out of bounds.
#include <cstdint>
#include <cstring>
#include <vector>

#include "balancer.h"
#include "gateway_lookup.h"
#include "lookup.h"
#include "table_view.h"
#include "table_writer.h"

static void reseal(uint8_t* bytes, size_t size) {
  uint64_t sum = atsi::table_checksum(bytes, size);
  std::memcpy(bytes + offsetof(atsi::Header, checksum), &sum, 8);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The checksum would refuse nearly every mutation; fuzz the structural
  // checks behind it by resealing when the input asks for it (first byte odd).
  std::vector<uint64_t> aligned((size + 7) / 8 + 1);
  std::memcpy(aligned.data(), data, size);
  auto* bytes = reinterpret_cast<uint8_t*>(aligned.data());
  if (size >= sizeof(atsi::Header) && (bytes[sizeof(atsi::Header) - 1] & 1)) {
    uint64_t size64 = size;
    std::memcpy(bytes + offsetof(atsi::Header, total_size), &size64, 8);
  }
  atsi::TableView view;
  if (atsi::TableView::validate(bytes, size, view)) {
    // Refused as it is; try again with a correct checksum.
    if (size < sizeof(atsi::Header)) return 0;
    reseal(bytes, size);
    if (atsi::TableView::validate(bytes, size, view)) return 0;
  }
  static const char* hosts[] = {"a.com", "x.b.com", "gen.test", "", "[::1]:80", "A.COM:8080", "b.com"};
  static const char* paths[] = {"/", "/x", "/y/z", "/p/1", "/../a", "x", "/foo/bar/baz/"};
  atsi::Balancer bal;
  bal.reset(view, 1);
  for (const char* h : hosts) {
    for (const char* p : paths) {
      atsi::Match m = atsi::lookup(view, h, p);
      if (m.backend != atsi::kNone) {
        const auto& b = view.backend(m.backend);
        (void)view.str(b.service);
        (void)view.options(b);
        uint32_t e = bal.pick(view, m.backend);
        if (e != atsi::kNone) (void)view.endpoint(e).port;
      }
      if (m.rule != atsi::kNone) (void)view.str(view.rule(m.rule).source);
    }
  }
  for (uint32_t i = 0; i < view.host_count(); ++i) (void)view.str(view.host(i).name);

  // The Gateway API part: every listener's own address and port, and one
  // beside it, with requests that take each kind of answer.
  static const char* gw_hosts[] = {"a.example.com", "x.y.example.com", "", "[::1]", "other.org"};
  static const char* gw_paths[] = {"/", "/login", "/broken/x", "/v2/a/../b", "/a/..;x"};
  static const char* gw_queries[] = {"", "debug=1", "a&debug=1&b="};
  auto header_equals = [](const void*, std::string_view name, std::string_view value) {
    return name.size() == value.size();
  };
  char out[512];
  for (uint32_t l = 0; l < view.gateway_listener_count() && l < 8; ++l) {
    const atsi::GatewayListenerRecord& lr = view.gateway_listener(l);
    for (int other = 0; other < 2; ++other) {
      atsi::GatewayRequest req;
      req.family = lr.family;
      req.address = lr.address;
      req.port = uint16_t(lr.port + other);
      req.method = l % 2 ? "POST" : "GET";
      req.header_equals = header_equals;
      (void)atsi::gateway_listens(view, req.family, req.address, req.port);
      for (size_t i = 0; i < 5 * 5; ++i) {
        req.host = gw_hosts[i % 5];
        req.path = gw_paths[i / 5];
        req.query = gw_queries[i % 3];
        atsi::GatewayMatch m = atsi::gateway_lookup(view, req, uint32_t(i * 2654435761u));
        (void)atsi::gateway_outcome_text(view, m, out, sizeof out);
        (void)atsi::gateway_redirect_location(view, m, req, i % 2, out, sizeof out);
        (void)atsi::gateway_rewritten_path(view, m, req, out, sizeof out);
        atsi::for_each_gateway_filter(view, m, [&](const atsi::GatewayFilterRecord& f) {
          for (uint32_t p = f.first_set; p < f.first_set + f.set_count; ++p) (void)view.str(view.gateway_pair(p).value);
        });
        if (m.backend != atsi::kNone) (void)view.str(view.backend(m.backend).service);
      }
    }
  }
  return 0;
}

