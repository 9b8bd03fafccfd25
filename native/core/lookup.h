// The routing decision of DESIGN.md section 3: host chosen once, then Exact
// over the longest element-wise Prefix, then default backends. No allocation,
// no locks; work grows with the length of host and path only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "table_view.h"

namespace atsi {

enum class Outcome : uint8_t { kRouted, kNotFound, kNoEndpoints };
enum class MatchKind : uint8_t { kNone, kExact, kPrefix, kHostDefault, kTableDefault };
// Why a lookup did not route; outcome_text() says it for people.
enum class Reason : uint8_t {
  kNone,            // routed
  kNoHost,          // 404: no host matched and there is no default backend
  kNoPath,          // 404: the host matched, none of its rules did, no default backend
  kPathTooLong,     // 404: longer than kMaxPathLength
  kAmbiguousPath,   // 400: a "." or ".." segment with parameters ("..;x"): normalize_path
  kNoEndpoints,     // 503: the backend has no ready endpoint
  kBackendProblem,  // 503: the backend cannot serve, for the reason its `problem` names
};

struct Match {
  Outcome outcome = Outcome::kNotFound;
  MatchKind kind = MatchKind::kNone;
  uint32_t host = kNone;     // the host selected (kNone when no host matched)
  uint32_t rule = kNone;     // for kExact and kPrefix
  uint32_t backend = kNone;  // for every outcome but kNotFound
  Reason reason = Reason::kNone;
};

// `raw_host` as the client sent it (any case, maybe with ":port"); `raw_path`
// with or without its leading '/', maybe with a query.
Match lookup(const TableView& table, std::string_view raw_host, std::string_view raw_path);

// Why `m` did not route, for people: the text of the plugin's 404 and 503
// bodies and of the addon's lookup() `reason`, one of
//   "no route for this host", "no route for this path", "path too long",
//   "ambiguous path: ...",
//   "no ready endpoints for this backend", "the backend cannot serve: <problem>"
// and "" for a routed match. Like snprintf: writes at most `size` bytes
// including a terminating NUL (nothing when `size` is 0) and returns the
// length of the whole text, so a result >= `size` means it was cut. No
// allocation: the plugin calls it per request. `m` must come from `table`.
size_t outcome_text(const TableView& table, const Match& m, char* buf, size_t size);

// "Exact", "Prefix" or "ImplementationSpecific", for people (CLI, debug header).
const char* path_type_name(uint32_t path_type);

// Host selection alone, exposed for tests and the CLI.
uint32_t select_host(const TableView& table, std::string_view normalized_host);

}  // namespace atsi
