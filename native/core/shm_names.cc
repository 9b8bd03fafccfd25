#include "shm_names.h"

namespace atsi {

bool is_valid_table_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Error check_table_name(std::string_view name) {
  if (is_valid_table_name(name)) return {};
  return {ErrorCode::kInvalidName,
          "table name \"" + std::string(name) + "\" must be 1 to 64 letters, digits, '_' or '-'"};
}

std::string control_object_name(std::string_view table) {
  return "/" + std::string(kObjectPrefix) + std::string(table) + ".ctl";
}

std::string table_object_name(std::string_view table, uint64_t generation) {
  return "/" + std::string(kObjectPrefix) + std::string(table) + "." + std::to_string(generation);
}

}  // namespace atsi
