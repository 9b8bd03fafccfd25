// Endpoint choice: smooth weighted round robin over a backend's endpoints.
// The state is per reader (per ATS thread), never in shared memory, and is
// sized once per table so that picking never allocates.
#pragma once

#include <cstdint>
#include <vector>

#include "table_view.h"

namespace atsi {

class Balancer {
 public:
  // `seed` staggers the starting endpoint so that readers do not all begin
  // with the first endpoint after a table switch; 0 starts at the first.
  void reset(const TableView& table, uint32_t seed);

  // Index (into the table's endpoints) of the next endpoint of `backend`,
  // or kNone when it has none. reset() must have seen this table.
  uint32_t pick(const TableView& table, uint32_t backend);

 private:
  std::vector<uint32_t> next_;     // per backend: uniform weights
  std::vector<int64_t> current_;   // per endpoint: smooth WRR
};

}  // namespace atsi
