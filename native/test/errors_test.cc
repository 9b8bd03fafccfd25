#include "errors.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace atsi {
namespace {

TEST(ErrorCodes, TheListHoldsEveryCodeButOkInEnumOrder) {
  // kErrorCodes[i] is the code whose value is i + 1, up to the last one: a
  // code added to the enum but not to the list fails here (the next value
  // past the list has no name of its own).
  for (size_t i = 0; i < kErrorCodes.size(); ++i) EXPECT_EQ(int(kErrorCodes[i]), int(i) + 1) << i;
  EXPECT_STREQ(error_code_name(ErrorCode(int(kErrorCodes.size()) + 1)), "ERR_UNKNOWN");
  EXPECT_STREQ(error_code_name(ErrorCode::kOk), "OK");
}

TEST(ErrorCodes, NamesAreDistinctAndSayWhat) {
  std::set<std::string> names;
  for (ErrorCode c : kErrorCodes) {
    std::string n = error_code_name(c);
    EXPECT_EQ(n.rfind("ERR_", 0), 0u) << n;
    EXPECT_NE(n, "ERR_UNKNOWN");
    EXPECT_TRUE(names.insert(n).second) << n << " twice";
  }
  std::set<std::string> want = {"ERR_INVALID_MODEL", "ERR_INVALID_TABLE_NAME", "ERR_SYSTEM",
                                "ERR_TABLE_NOT_FOUND", "ERR_INVALID_TABLE",     "ERR_INVALID_ARG",
                                "ERR_TABLE_CLOSED",    "ERR_ADDON_LOAD",        "ERR_STATS_NOT_FOUND",
                                "ERR_INVALID_STATS"};
  EXPECT_EQ(names, want);
}

TEST(ErrorCodes, AnErrorIsTrueUnlessOk) {
  EXPECT_FALSE(Error{});
  EXPECT_TRUE((Error{ErrorCode::kInvalidArg, "x"}));
}

}  // namespace
}  // namespace atsi
