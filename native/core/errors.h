// Error codes: the one list, shared by the core, the addon (as the `code` of
// its JS errors, and exported as `errorCodes` so that the TypeScript union
// can be checked against it) and the plugin (in TSError lines).
#pragma once

#include <array>
#include <string>

namespace atsi {

enum class ErrorCode {
  kOk = 0,
  kInvalidModel,     // the input cannot make a table
  kInvalidName,      // a table name that cannot name a shared-memory object
  kSystem,           // a system call failed (errno in the message)
  kNotFound,         // nothing published under that name
  kInvalidTable,     // a mapped table failed validation
  kInvalidArg,       // an argument of the wrong type or value (addon call, plugin argument)
  kTableClosed,      // a table used after close()
  kAddonLoad,        // the addon could not be loaded (raised by the TypeScript wrapper)
  kStatsNotFound,    // no request counters under that name (the plugin has not created them yet)
  kInvalidStats,     // a mapped counters object failed validation
};

// Every code but kOk, in enum order. A code added above goes here too (the
// errors test checks that the list is complete).
inline constexpr std::array kErrorCodes = {
    ErrorCode::kInvalidModel, ErrorCode::kInvalidName, ErrorCode::kSystem,
    ErrorCode::kNotFound,     ErrorCode::kInvalidTable, ErrorCode::kInvalidArg,
    ErrorCode::kTableClosed,  ErrorCode::kAddonLoad,   ErrorCode::kStatsNotFound,
    ErrorCode::kInvalidStats,
};

inline const char* error_code_name(ErrorCode c) {
  switch (c) {
    case ErrorCode::kOk: return "OK";
    case ErrorCode::kInvalidModel: return "ERR_INVALID_MODEL";
    case ErrorCode::kInvalidName: return "ERR_INVALID_TABLE_NAME";
    case ErrorCode::kSystem: return "ERR_SYSTEM";
    case ErrorCode::kNotFound: return "ERR_TABLE_NOT_FOUND";
    case ErrorCode::kInvalidTable: return "ERR_INVALID_TABLE";
    case ErrorCode::kInvalidArg: return "ERR_INVALID_ARG";
    case ErrorCode::kTableClosed: return "ERR_TABLE_CLOSED";
    case ErrorCode::kAddonLoad: return "ERR_ADDON_LOAD";
    case ErrorCode::kStatsNotFound: return "ERR_STATS_NOT_FOUND";
    case ErrorCode::kInvalidStats: return "ERR_INVALID_STATS";
  }
  return "ERR_UNKNOWN";
}

struct Error {
  ErrorCode code = ErrorCode::kOk;
  std::string message;
  explicit operator bool() const { return code != ErrorCode::kOk; }
};

}  // namespace atsi
