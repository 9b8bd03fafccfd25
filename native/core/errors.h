// Error codes shared by the core, the addon (as JS error codes) and the
// plugin (in TSError lines).
#pragma once

#include <string>

namespace atsi {

enum class ErrorCode {
  kOk = 0,
  kInvalidModel,     // the input cannot make a table
  kInvalidName,      // a table name that cannot name a shared-memory object
  kSystem,           // a system call failed (errno in the message)
  kNotFound,         // nothing published under that name
  kInvalidTable,     // a mapped table failed validation
};

inline const char* error_code_name(ErrorCode c) {
  switch (c) {
    case ErrorCode::kOk: return "OK";
    case ErrorCode::kInvalidModel: return "ERR_INVALID_MODEL";
    case ErrorCode::kInvalidName: return "ERR_INVALID_TABLE_NAME";
    case ErrorCode::kSystem: return "ERR_SYSTEM";
    case ErrorCode::kNotFound: return "ERR_TABLE_NOT_FOUND";
    case ErrorCode::kInvalidTable: return "ERR_INVALID_TABLE";
  }
  return "ERR_UNKNOWN";
}

struct Error {
  ErrorCode code = ErrorCode::kOk;
  std::string message;
  explicit operator bool() const { return code != ErrorCode::kOk; }
};

}  // namespace atsi
