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

namespace {

std::string stem(std::string_view table, const BlobKind& kind) {
  return std::string(kObjectPrefix) + std::string(table) + "." + std::string(kind.infix);
}

}  // namespace

std::string control_object_name(std::string_view table, const BlobKind& kind) {
  return "/" + stem(table, kind) + "ctl";
}

std::string table_object_name(std::string_view table, uint64_t generation, const BlobKind& kind) {
  return "/" + stem(table, kind) + std::to_string(generation);
}

std::string stats_object_name(std::string_view table) {
  return "/" + std::string(kObjectPrefix) + std::string(table) + ".stats";
}

std::optional<uint64_t> object_generation(std::string_view entry, std::string_view table, const BlobKind& kind) {
  std::string prefix = stem(table, kind);
  if (entry.substr(0, prefix.size()) != prefix) return std::nullopt;
  std::string_view rest = entry.substr(prefix.size());
  // 19 digits always fit in 64 bits; no writer gets near them.
  if (rest.empty() || rest.size() > 19 || rest.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  uint64_t g = 0;
  for (char c : rest) g = g * 10 + uint64_t(c - '0');
  return g;
}

}  // namespace atsi
