#include "config.h"

#include <cstdlib>
#include <string>
#include <utility>

#include "shm_names.h"

namespace atsi::plugin {
namespace {

Error invalid(std::string message) { return {ErrorCode::kInvalidArg, std::move(message)}; }

// A whole decimal number from `lo` to `hi`.
bool parse_number(const std::string& value, unsigned long lo, unsigned long hi, uint32_t& out) {
  if (value.empty() || value.size() > 10 || value.find_first_not_of("0123456789") != std::string::npos) return false;
  unsigned long n = std::strtoul(value.c_str(), nullptr, 10);
  if (n < lo || n > hi) return false;
  out = uint32_t(n);
  return true;
}

}  // namespace

Error parse_config(const std::vector<std::string>& args, PluginConfig& out) {
  PluginConfig c;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    std::string value;
    bool has_value = false;
    size_t eq = arg.find('=');
    if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    auto take_value = [&]() -> bool {
      if (has_value) return true;
      if (i + 1 >= args.size()) return false;
      value = args[++i];
      return true;
    };
    if (arg == "--table") {
      if (!take_value()) return invalid("--table needs a name");
      if (!is_valid_table_name(value))
        return invalid("--table \"" + value + "\": a table name is 1 to 64 letters, digits, '_' or '-'");
      c.table = value;
    } else if (arg == "--debug-header") {
      if (has_value) return invalid("--debug-header takes no value");
      c.debug_header = true;
    } else if (arg == "--no-tls") {
      if (has_value) return invalid("--no-tls takes no value");
      c.serve_tls = false;
    } else if (arg == "--answer-unknown-hosts") {
      if (has_value) return invalid("--answer-unknown-hosts takes no value");
      c.pass_unknown_hosts = false;
    } else if (arg == "--poll-ms") {
      if (!take_value()) return invalid("--poll-ms needs a number");
      if (!parse_number(value, 1, 10000, c.poll_ms))
        return invalid("--poll-ms \"" + value + "\": expected 1 to 10000 milliseconds");
    } else if (arg == "--stats-slots") {
      if (!take_value()) return invalid("--stats-slots needs a number");
      if (!parse_number(value, 1, kStatsSlotLimit, c.stats_slots))
        return invalid("--stats-slots \"" + value + "\": expected 1 to " + std::to_string(kStatsSlotLimit) + " slots");
    } else if (arg == "--stats-threads") {
      if (!take_value()) return invalid("--stats-threads needs a number");
      if (!parse_number(value, 1, kStatsThreadLimit, c.stats_threads))
        return invalid("--stats-threads \"" + value + "\": expected 1 to " + std::to_string(kStatsThreadLimit) +
                       " threads");
    } else {
      return invalid("unknown argument \"" + args[i] +
                     "\" (known: --table NAME, --debug-header, --poll-ms N, --answer-unknown-hosts, --no-tls, "
                     "--stats-slots N, --stats-threads N)");
    }
  }
  out = c;
  return {};
}

}  // namespace atsi::plugin
