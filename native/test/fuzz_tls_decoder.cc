// libFuzzer target: any bytes given to the TLS decoder (framed as
// model_encoder.h's frame() does) must be refused or decoded without reading
// out of bounds; what it accepts must re-encode to the same input, and the
// writer must either refuse it or build a table the reader accepts.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "tls_decoder.h"
#include "tls_encoder.h"
#include "tls_view.h"
#include "tls_writer.h"

namespace {

// Decodes from copies of exactly the right sizes, so that AddressSanitizer
// sees any read past either end.
atsi::Error decode_exact(const atsi::testing::EncodedModel& m, atsi::TlsInput& out) {
  std::unique_ptr<char[]> s(new char[m.strings.size()]);
  std::memcpy(s.get(), m.strings.data(), m.strings.size());
  std::unique_ptr<uint32_t[]> ints(new uint32_t[m.ints.size()]);
  if (!m.ints.empty()) std::memcpy(ints.get(), m.ints.data(), m.ints.size() * sizeof(uint32_t));
  return atsi::decode_tls(std::string_view(s.get(), m.strings.size()), ints.get(), m.ints.size(), out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  atsi::testing::EncodedModel m =
      atsi::testing::unframe(std::string_view(reinterpret_cast<const char*>(data), size));
  atsi::TlsInput in;
  if (decode_exact(m, in)) return 0;
  atsi::TlsInput again;
  if (decode_exact(atsi::testing::encode_tls(in), again) || !(again == in)) std::abort();
  std::vector<uint8_t> bytes;
  if (atsi::build_tls_table(in, 1, 0, bytes)) return 0;
  std::vector<uint64_t> aligned((bytes.size() + 7) / 8);
  std::memcpy(aligned.data(), bytes.data(), bytes.size());
  atsi::TlsView view;
  if (atsi::TlsView::validate(reinterpret_cast<const uint8_t*>(aligned.data()), bytes.size(), view)) std::abort();
  // Every host is found under its own name.
  for (uint32_t h = 0; h < view.host_count(); ++h) {
    std::string_view name = view.str(view.host(h).name);
    if (name.substr(0, 2) == "*.") {
      std::string sni = "x" + std::string(name.substr(1));
      if (sni.size() <= 253 && atsi::find_tls_host(view, sni) == atsi::kNone) std::abort();
    } else if (atsi::find_tls_host(view, name) != h) {
      std::abort();
    }
  }
  return 0;
}
