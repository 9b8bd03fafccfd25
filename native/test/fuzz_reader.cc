// libFuzzer target: any bytes given to the reader must be refused or, once
// accepted, looked up without reading out of bounds.
#include <cstdint>
#include <cstring>
#include <vector>

#include "balancer.h"
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
  return 0;
}

