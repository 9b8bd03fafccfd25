// libFuzzer target: any bytes given to the TLS table reader must be refused
// or, once accepted, looked up and read whole without reading out of bounds.
#include <cstdint>
#include <cstring>
#include <vector>

#include "table_writer.h"
#include "tls_view.h"

static void reseal(uint8_t* bytes, size_t size) {
  uint64_t sum = atsi::table_checksum(bytes, size);
  std::memcpy(bytes + offsetof(atsi::TlsHeader, checksum), &sum, 8);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The checksum would refuse nearly every mutation; fuzz the structural
  // checks behind it by resealing (and fixing the size when the input asks
  // for it: the header's last byte odd).
  std::vector<uint64_t> aligned((size + 7) / 8 + 1);
  std::memcpy(aligned.data(), data, size);
  auto* bytes = reinterpret_cast<uint8_t*>(aligned.data());
  if (size >= sizeof(atsi::TlsHeader) && (bytes[sizeof(atsi::TlsHeader) - 1] & 1)) {
    uint64_t size64 = size;
    std::memcpy(bytes + offsetof(atsi::TlsHeader, total_size), &size64, 8);
  }
  atsi::TlsView view;
  if (atsi::TlsView::validate(bytes, size, view)) {
    if (size < sizeof(atsi::TlsHeader)) return 0;
    reseal(bytes, size);
    if (atsi::TlsView::validate(bytes, size, view)) return 0;
  }
  static const char* names[] = {"a.example.com", "x.w.example", "MTLS.example.com.", "", ".", "a.", "*.w.example",
                                "b.c.d.e", "com", "h0.gen.test", "x.w.gen.test"};
  size_t sum = 0;
  for (const char* n : names) {
    uint32_t h = atsi::find_tls_host(view, n);
    if (h == atsi::kNone) continue;
    const atsi::TlsHostRecord& r = view.host(h);
    sum += view.str(r.name).size();
    if (r.certificate != atsi::kNone) sum += view.str(view.certificate(r.certificate).chain).size();
    if (r.policy != atsi::kNone) sum += view.str(view.policy(r.policy).ca).size();
  }
  for (uint32_t i = 0; i < view.certificate_count(); ++i) {
    const atsi::CertificateRecord& c = view.certificate(i);
    sum += view.str(c.secret).size() + view.str(c.chain).size() + view.str(c.key).size();
  }
  for (uint32_t i = 0; i < view.host_count(); ++i) sum += view.str(view.host(i).name).size();
  // Each listener's own address and port, with the names above: what the
  // certificate hook of a Gateway connection reads.
  for (uint32_t i = 0; i < view.listener_count(); ++i) {
    const atsi::TlsListenerRecord& l = view.listener(i);
    sum += view.str(l.gateway).size() + view.str(l.listener).size() + view.str(l.hostname).size();
    for (const char* n : names) {
      atsi::TlsListenerMatch m = atsi::find_tls_listener(view, l.family, l.address, l.port, n);
      if (m.listener != atsi::kNone) sum += view.str(view.certificate(view.listener(m.listener).certificate).chain).size();
    }
  }
  if (view.default_certificate() != atsi::kNone) sum += view.certificate(view.default_certificate()).not_after;
  return sum == 1 ? 1 : 0;  // keeps the reads
}
