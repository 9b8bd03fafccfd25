// libFuzzer target: any bytes given to the model decoder (framed as
// model_encoder.h's frame() does) must be refused or decoded without reading
// out of bounds; what it accepts must re-encode to the same input, and the
// writer must either refuse it or build a table the reader accepts.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "model_decoder.h"
#include "model_encoder.h"
#include "table_view.h"
#include "table_writer.h"

namespace {

// Decodes from copies of exactly the right sizes, so that AddressSanitizer
// sees any read past either end.
atsi::Error decode_exact(const atsi::testing::EncodedModel& m, atsi::TableInput& out) {
  std::unique_ptr<char[]> s(new char[m.strings.size()]);
  std::memcpy(s.get(), m.strings.data(), m.strings.size());
  std::unique_ptr<uint32_t[]> ints(new uint32_t[m.ints.size()]);
  if (!m.ints.empty()) std::memcpy(ints.get(), m.ints.data(), m.ints.size() * sizeof(uint32_t));
  return atsi::decode_model(std::string_view(s.get(), m.strings.size()), ints.get(), m.ints.size(), out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  atsi::testing::EncodedModel m =
      atsi::testing::unframe(std::string_view(reinterpret_cast<const char*>(data), size));
  atsi::TableInput in;
  if (decode_exact(m, in)) return 0;
  atsi::TableInput again;
  if (decode_exact(atsi::testing::encode_model(in), again) || !(again == in)) std::abort();
  std::vector<uint8_t> bytes;
  if (atsi::build_table(in, 1, 0, bytes)) return 0;
  std::vector<uint64_t> aligned((bytes.size() + 7) / 8);
  std::memcpy(aligned.data(), bytes.data(), bytes.size());
  atsi::TableView view;
  if (atsi::TableView::validate(reinterpret_cast<const uint8_t*>(aligned.data()), bytes.size(), view)) std::abort();
  return 0;
}
