#include "config.h"

#include <cstdlib>
#include <utility>

#include "shm_names.h"

namespace atsi::plugin {
namespace {

Error invalid(std::string message) { return {ErrorCode::kInvalidArg, std::move(message)}; }

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
      char* end = nullptr;
      unsigned long ms = std::strtoul(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || ms < 1 || ms > 10000)
        return invalid("--poll-ms \"" + value + "\": expected 1 to 10000 milliseconds");
      c.poll_ms = uint32_t(ms);
    } else {
      return invalid("unknown argument \"" + args[i] +
                     "\" (known: --table NAME, --debug-header, --poll-ms N, --answer-unknown-hosts, --no-tls)");
    }
  }
  out = c;
  return {};
}

}  // namespace atsi::plugin
