// The shared-memory objects of the publish protocol (DESIGN.md section 3),
// for a table named NAME:
//   /ats-ingress.NAME.ctl        the control block (control_block.h): the
//                                published generation
//   /ats-ingress.NAME.GEN        one immutable table per generation
// and, by the same protocol, for its TLS table (tls_format.h):
//   /ats-ingress.NAME.tls.ctl    its own control block
//   /ats-ingress.NAME.tls.GEN    one immutable TLS table per generation
// and, written the other way (by the plugin, read by the controller):
//   /ats-ingress.NAME.stats      the per-route request counters
//                                (stats_format.h, stats_region.h)
// Table names have no '.', so no route-table object of any table is named
// like a TLS object, and each kind's sweep of old generations (publisher.cc)
// matches only its own objects; "stats" is not a generation (not digits), so
// no sweep ever removes the counters.
// The writer (publisher.h) writes a whole new table object, then stores its
// generation in the control block with one release store; it never touches a
// published table again. It unlinks old objects by name; a reader
// (table_source.h) that mapped one keeps its mapping (the kernel frees it at
// the last munmap), and a reader that lost the race to open it finds a newer
// generation and tries that instead. Readers unmap a table only when their
// last reference to it goes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "errors.h"
#include "format.h"
#include "tls_format.h"

namespace atsi {

// What tells the kinds of blob apart: how their objects are named and who may
// read them.
struct BlobKind {
  std::string_view infix;   // between "NAME." and "ctl" or the generation
  const char* what;         // for messages: "table", "TLS table"
  uint32_t mode;            // of every object, whatever the umask
  uint32_t format_version;  // written in the control block, for people
};
// Route tables: readable by the proxy's user, writable only by the writer.
inline constexpr BlobKind kRouteBlob{"", "table", 0644, kFormatVersion};
// TLS tables hold private keys: owner only (the controller and ATS run as
// the same user in the pod).
inline constexpr BlobKind kTlsBlob{"tls.", "TLS table", 0600, kTlsFormatVersion};

// What every object name starts with, without the leading '/' (as the
// objects appear in /dev/shm).
inline constexpr std::string_view kObjectPrefix = "ats-ingress.";

// Table names become parts of object names: [A-Za-z0-9_-], 1 to 64 bytes.
bool is_valid_table_name(std::string_view name);
// The same check as an error for people: kInvalidName naming the table.
Error check_table_name(std::string_view name);

std::string control_object_name(std::string_view table, const BlobKind& kind = kRouteBlob);
std::string table_object_name(std::string_view table, uint64_t generation, const BlobKind& kind = kRouteBlob);
// The plugin's request counters of `table`.
std::string stats_object_name(std::string_view table);

// The generation named by `entry` (a name in /dev/shm, without the leading
// '/') when it is one of `kind`'s generation objects of `table`.
std::optional<uint64_t> object_generation(std::string_view entry, std::string_view table, const BlobKind& kind);

}  // namespace atsi
