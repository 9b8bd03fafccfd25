// Entry points only: the global plugin (plugin.config) and the remap plugin
// (remap.config) share one Router; the global plugin also serves
// certificates (TlsService).
#include <ts/ts.h>
// remap.h uses ts.h types without including it.
#include <ts/remap.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common.h"
#include "config.h"
#include "router.h"
#include "tls_hooks.h"

using atsi::plugin::kPluginName;
using atsi::plugin::PluginConfig;
using atsi::plugin::Router;
using atsi::plugin::TlsService;

namespace {

int on_global_event(TSCont cont, TSEvent, void* edata) {
  static_cast<Router*>(TSContDataGet(cont))->on_read_request(static_cast<TSHttpTxn>(edata));
  return 0;
}

}  // namespace

void TSPluginInit(int argc, const char* argv[]) {
  TSPluginRegistrationInfo info{kPluginName, "ats-ingress", "ats-ingress@users.noreply.github.com"};
  if (TSPluginRegister(&info) != TS_SUCCESS) {
    ATSI_ERROR("plugin registration failed");
    return;
  }
  std::vector<std::string> args(argv + 1, argv + argc);
  PluginConfig config;
  atsi::Error error = atsi::plugin::parse_config(args, config);
  Router* router = error ? nullptr : Router::create(config, error);
  if (!router) {
    // TSPluginInit cannot report failure: a TSError alone would leave ATS
    // running without routing. Stop it, as a missing plugin.config .so does.
    ATSI_EMERGENCY("not loaded: %s", error.message.c_str());
    return;
  }
  // Certificates by SNI and per-host TLS policy, from the TLS table: global
  // mode only. TLS hooks are global (per connection, before any remap rule
  // is known), so the remap mode below serves no certificates: loaded only
  // from remap.config, ATS serves ssl_multicert.config's. --no-tls does the
  // same in global mode.
  if (config.serve_tls) {
    TlsService* tls = TlsService::create(config, error);
    if (!tls) {
      ATSI_EMERGENCY("not loaded: %s", error.message.c_str());
      return;
    }
    router->set_tls(tls);
  }
  TSCont cont = TSContCreate(on_global_event, nullptr);
  TSContDataSet(cont, router);
  TSHttpHookAdd(TS_HTTP_READ_REQUEST_HDR_HOOK, cont);
}

TSReturnCode TSRemapInit(TSRemapInterface* api, char* errbuf, int errbuf_size) {
  if (!api || api->tsremap_version < TSREMAP_VERSION) {
    std::snprintf(errbuf, size_t(errbuf_size), "[%s] needs remap API version %d", kPluginName, TSREMAP_VERSION);
    return TS_ERROR;
  }
  return TS_SUCCESS;
}

TSReturnCode TSRemapNewInstance(int argc, char* argv[], void** ih, char* errbuf, int errbuf_size) {
  // argv[0] and argv[1] are the rule's from and to URLs.
  std::vector<std::string> args(argc > 2 ? argv + 2 : argv + argc, argv + argc);
  PluginConfig config;
  atsi::Error error = atsi::plugin::parse_config(args, config);
  // Set after parsing (parse_config starts from the defaults): nothing comes
  // after the catch-all rule, so remap mode answers unknown hosts itself.
  config.pass_unknown_hosts = false;
  Router* router = error ? nullptr : Router::create(config, error);
  if (!router) {
    std::snprintf(errbuf, size_t(errbuf_size), "[%s] %s", kPluginName, error.message.c_str());
    ATSI_ERROR("remap instance not created: %s", error.message.c_str());
    return TS_ERROR;
  }
  *ih = router;
  return TS_SUCCESS;
}

TSRemapStatus TSRemapDoRemap(void* ih, TSHttpTxn txn, TSRemapRequestInfo* rri) {
  return static_cast<Router*>(ih)->on_remap(txn, rri);
}

void TSRemapDeleteInstance(void* ih) { delete static_cast<Router*>(ih); }
