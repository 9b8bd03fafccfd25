// The shared-memory objects of the publish protocol (DESIGN.md section 3),
// for a table named NAME:
//   /ats-ingress.NAME.ctl        the control block (control_block.h): the
//                                published generation
//   /ats-ingress.NAME.GEN        one immutable table per generation
// The writer (publisher.h) writes a whole new table object, then stores its
// generation in the control block with one release store; it never touches a
// published table again. It unlinks old objects by name; a reader
// (table_source.h) that mapped one keeps its mapping (the kernel frees it at
// the last munmap), and a reader that lost the race to open it finds a newer
// generation and tries that instead. Readers unmap a table only when their
// last reference to it goes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "errors.h"

namespace atsi {

// What every object name starts with, without the leading '/' (as the
// objects appear in /dev/shm).
inline constexpr std::string_view kObjectPrefix = "ats-ingress.";

// Table names become parts of object names: [A-Za-z0-9_-], 1 to 64 bytes.
bool is_valid_table_name(std::string_view name);
// The same check as an error for people: kInvalidName naming the table.
Error check_table_name(std::string_view name);

std::string control_object_name(std::string_view table);
std::string table_object_name(std::string_view table, uint64_t generation);

}  // namespace atsi
