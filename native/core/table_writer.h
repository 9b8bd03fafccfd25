// Turns a TableInput into table bytes. Pure: no I/O, no global state.
#pragma once

#include <cstdint>
#include <vector>

#include "errors.h"
#include "table_input.h"

namespace atsi {

// Fills `out` with a complete table, or returns kInvalidModel with a message
// naming the offending element (e.g. "hosts[2].rules[0].path: ...").
Error build_table(const TableInput& input, uint64_t generation, uint64_t build_time_ms,
                  std::vector<uint8_t>& out);

// The checksum stored in Header::checksum, computed over `size` bytes.
uint64_t table_checksum(const uint8_t* data, size_t size);

}  // namespace atsi
