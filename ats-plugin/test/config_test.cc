#include "config.h"

#include <gtest/gtest.h>

namespace atsi::plugin {
namespace {

// "" when parse_config accepts `args`, else its message; every refusal is
// kInvalidArg with a message.
std::string parse(const std::vector<std::string>& args, PluginConfig& c) {
  Error e = parse_config(args, c);
  if (!e) {
    EXPECT_EQ(e.message, "");
    return "";
  }
  EXPECT_EQ(e.code, ErrorCode::kInvalidArg) << e.message;
  EXPECT_NE(e.message, "");
  return e.message;
}

TEST(PluginConfig, DefaultsAndBothArgumentForms) {
  PluginConfig c;
  EXPECT_EQ(parse({}, c), "");
  EXPECT_EQ(c.table, "default");
  EXPECT_FALSE(c.debug_header);
  EXPECT_TRUE(c.pass_unknown_hosts);
  EXPECT_TRUE(c.serve_tls);
  EXPECT_EQ(parse({"--no-tls"}, c), "");
  EXPECT_FALSE(c.serve_tls);
  EXPECT_EQ(parse({"--no-tls=1"}, c), "--no-tls takes no value");
  EXPECT_EQ(parse({"--table", "prod", "--debug-header", "--poll-ms=5", "--answer-unknown-hosts"}, c), "");
  EXPECT_EQ(c.table, "prod");
  EXPECT_TRUE(c.debug_header);
  EXPECT_EQ(c.poll_ms, 5u);
  EXPECT_FALSE(c.pass_unknown_hosts);
  EXPECT_EQ(parse({"--table=x_1"}, c), "");
  EXPECT_EQ(c.table, "x_1");
}

TEST(PluginConfig, ErrorsNameTheArgumentAndLeaveTheConfigAlone) {
  PluginConfig c;
  c.table = "kept";
  EXPECT_EQ(parse({"--table"}, c), "--table needs a name");
  EXPECT_EQ(parse({"--table=a/b"}, c), "--table \"a/b\": a table name is 1 to 64 letters, digits, '_' or '-'");
  EXPECT_EQ(parse({"--poll-ms=0"}, c), "--poll-ms \"0\": expected 1 to 10000 milliseconds");
  EXPECT_EQ(parse({"--poll-ms=x"}, c), "--poll-ms \"x\": expected 1 to 10000 milliseconds");
  EXPECT_EQ(parse({"--debug-header=1"}, c), "--debug-header takes no value");
  EXPECT_EQ(parse({"--tabel=x"}, c),
            "unknown argument \"--tabel=x\" (known: --table NAME, --debug-header, --poll-ms N, --answer-unknown-hosts, "
            "--no-tls, --stats-slots N, --stats-threads N)");
  EXPECT_EQ(c.table, "kept");
}

TEST(PluginConfig, TheCountersSizeIsBoundedByTheRegionsLimits) {
  PluginConfig c;
  EXPECT_EQ(parse({}, c), "");
  EXPECT_EQ(c.stats_slots, 16384u);
  EXPECT_EQ(c.stats_threads, 64u);
  EXPECT_EQ(parse({"--stats-slots", "65536", "--stats-threads=1"}, c), "");
  EXPECT_EQ(c.stats_slots, 65536u);
  EXPECT_EQ(c.stats_threads, 1u);
  EXPECT_EQ(parse({"--stats-slots=1", "--stats-threads", "1024"}, c), "");
  EXPECT_EQ(c.stats_slots, 1u);
  EXPECT_EQ(c.stats_threads, 1024u);
  EXPECT_EQ(parse({"--stats-slots=65537"}, c), "--stats-slots \"65537\": expected 1 to 65536 slots");
  EXPECT_EQ(parse({"--stats-slots=0"}, c), "--stats-slots \"0\": expected 1 to 65536 slots");
  EXPECT_EQ(parse({"--stats-slots=-1"}, c), "--stats-slots \"-1\": expected 1 to 65536 slots");
  EXPECT_EQ(parse({"--stats-slots=99999999999"}, c), "--stats-slots \"99999999999\": expected 1 to 65536 slots");
  EXPECT_EQ(parse({"--stats-threads=1025"}, c), "--stats-threads \"1025\": expected 1 to 1024 threads");
  EXPECT_EQ(parse({"--stats-threads= 8"}, c), "--stats-threads \" 8\": expected 1 to 1024 threads");
  EXPECT_EQ(parse({"--stats-threads"}, c), "--stats-threads needs a number");
  EXPECT_EQ(parse({"--stats-slots"}, c), "--stats-slots needs a number");
}

TEST(PluginConfig, ErrorsAreOfTheCoresErrorType) {
  PluginConfig c;
  Error e = parse_config({"--answer-unknown-hosts=yes"}, c);
  EXPECT_EQ(e.code, ErrorCode::kInvalidArg);
  EXPECT_STREQ(error_code_name(e.code), "ERR_INVALID_ARG");
  EXPECT_EQ(e.message, "--answer-unknown-hosts takes no value");
  EXPECT_EQ(parse_config({"--poll-ms"}, c).message, "--poll-ms needs a number");
  e = parse_config({"--table", "t", "--poll-ms", "10000"}, c);
  EXPECT_FALSE(e);
  EXPECT_EQ(e.code, ErrorCode::kOk);
  EXPECT_EQ(c.poll_ms, 10000u);
  EXPECT_EQ(parse_config({"--poll-ms=10001"}, c).message, "--poll-ms \"10001\": expected 1 to 10000 milliseconds");
}

}  // namespace
}  // namespace atsi::plugin
