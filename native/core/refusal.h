// Why a reader (table_source.h) refused a blob or a control object: one
// counter per reason in SourceStats, and in the plugin's ATS metrics
// (plugin.ats_ingress.tables_refused.REASON, control_objects_refused.REASON,
// and the same with tls_ for the TLS table). The rules are in
// docs/security.md ("The shared-memory objects").
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace atsi {

enum class Refusal : uint8_t {
  kMissing,  // the published generation's object does not exist
  kOwner,    // owned by a user other than the reader's own or root
  kMode,     // writable by group or others, not a regular file, or not readable
  kSize,     // a table smaller than a header or larger than kMaxTableBytes; a
             // control object other than kControlSize, or left empty
  kChanged,  // changed (size, or written) while the reader copied it
  kVersion,  // a table of a format version this reader does not know
  kInvalid,  // anything else validation refuses (checksum, bounds, header,
             // generation); a control object with a wrong magic or layout, or
             // whose generation went back
};
inline constexpr size_t kRefusalCount = 7;

using RefusalCounts = std::array<uint64_t, kRefusalCount>;

// The metric suffix and the word in log lines.
inline const char* refusal_name(Refusal r) {
  switch (r) {
    case Refusal::kMissing: return "missing";
    case Refusal::kOwner: return "owner";
    case Refusal::kMode: return "mode";
    case Refusal::kSize: return "size";
    case Refusal::kChanged: return "changed";
    case Refusal::kVersion: return "version";
    case Refusal::kInvalid: return "invalid";
  }
  return "invalid";
}

}  // namespace atsi
