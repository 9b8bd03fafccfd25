// Builds route tables from the addon's encoding (model_decoder.h), one after
// another, taking over the routing sections of the last table when the
// routing part of the encoding is the same: an endpoint-only change then
// decodes and writes the backends alone. One per publisher; not shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "errors.h"
#include "table_input.h"
#include "table_writer.h"

namespace atsi {

class EncodedTableWriter {
 public:
  struct Outcome {
    bool decode_failed = false;    // the error is the encoding's, not the model's
    bool routing_reused = false;   // the last table's routing sections were taken over
  };

  // The table of the encoded model, byte for byte what build_table() makes
  // of decode_model()'s result. The routing sections are kept for the next
  // call once a table is made.
  Error build(std::string_view strings, const uint32_t* ints, size_t count, uint64_t generation,
              uint64_t build_time_ms, std::vector<uint8_t>& out, Outcome& outcome);

 private:
  struct Kept {
    uint32_t first_string = 0;
    std::string strings;            // the routing part's strings
    std::vector<uint32_t> ints;     // and its ints
    RoutingSections sections;
  };
  std::unique_ptr<Kept> kept_;
  // Decoded into again by each build: 100,000 endpoints' memory kept, not
  // allocated and freed each time.
  TableInput scratch_;
};

}  // namespace atsi
