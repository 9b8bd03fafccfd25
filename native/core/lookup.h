// The routing decision of DESIGN.md section 3: host chosen once, then Exact
// over the longest element-wise Prefix, then default backends. No allocation,
// no locks; work grows with the length of host and path only.
#pragma once

#include <cstdint>
#include <string_view>

#include "table_view.h"

namespace atsi {

enum class Outcome : uint8_t { kRouted, kNotFound, kNoEndpoints };
enum class MatchKind : uint8_t { kNone, kExact, kPrefix, kHostDefault, kTableDefault };

struct Match {
  Outcome outcome = Outcome::kNotFound;
  MatchKind kind = MatchKind::kNone;
  uint32_t host = kNone;     // the host selected (kNone when no host matched)
  uint32_t rule = kNone;     // for kExact and kPrefix
  uint32_t backend = kNone;  // for every outcome but kNotFound
  // Static text for 404 and 503 answers: the plugin puts it in the body.
  const char* reason = "";
};

// `raw_host` as the client sent it (any case, maybe with ":port"); `raw_path`
// with or without its leading '/', maybe with a query.
Match lookup(const TableView& table, std::string_view raw_host, std::string_view raw_path);

// "Exact", "Prefix" or "ImplementationSpecific", for people (CLI, debug header).
const char* path_type_name(uint32_t path_type);

// Host selection alone, exposed for tests and the CLI.
uint32_t select_host(const TableView& table, std::string_view normalized_host);

}  // namespace atsi
