#include "config.h"

#include <gtest/gtest.h>

namespace atsi::plugin {
namespace {

TEST(PluginConfig, DefaultsAndBothArgumentForms) {
  PluginConfig c;
  EXPECT_EQ(parse_config({}, c), "");
  EXPECT_EQ(c.table, "default");
  EXPECT_FALSE(c.debug_header);
  EXPECT_TRUE(c.pass_unknown_hosts);
  EXPECT_EQ(parse_config({"--table", "prod", "--debug-header", "--poll-ms=5", "--answer-unknown-hosts"}, c), "");
  EXPECT_EQ(c.table, "prod");
  EXPECT_TRUE(c.debug_header);
  EXPECT_EQ(c.poll_ms, 5u);
  EXPECT_FALSE(c.pass_unknown_hosts);
  EXPECT_EQ(parse_config({"--table=x_1"}, c), "");
  EXPECT_EQ(c.table, "x_1");
}

TEST(PluginConfig, ErrorsNameTheArgumentAndLeaveTheConfigAlone) {
  PluginConfig c;
  c.table = "kept";
  EXPECT_EQ(parse_config({"--table"}, c), "--table needs a name");
  EXPECT_EQ(parse_config({"--table=a/b"}, c), "--table \"a/b\": a table name is 1 to 64 letters, digits, '_' or '-'");
  EXPECT_EQ(parse_config({"--poll-ms=0"}, c), "--poll-ms \"0\": expected 1 to 10000 milliseconds");
  EXPECT_EQ(parse_config({"--poll-ms=x"}, c), "--poll-ms \"x\": expected 1 to 10000 milliseconds");
  EXPECT_EQ(parse_config({"--debug-header=1"}, c), "--debug-header takes no value");
  EXPECT_EQ(parse_config({"--tabel=x"}, c),
            "unknown argument \"--tabel=x\" (known: --table NAME, --debug-header, --poll-ms N, --answer-unknown-hosts)");
  EXPECT_EQ(c.table, "kept");
}

}  // namespace
}  // namespace atsi::plugin
