// The ATS side of routing: reads the request, asks decide(), carries the
// decision out on the transaction. Shared by the global and remap modes.
#pragma once

#include <ts/ts.h>
// remap.h uses ts.h types without including it.
#include <ts/remap.h>

#include "config.h"
#include "errors.h"
#include "table_source.h"

namespace atsi::plugin {

struct TxnNote;
class TlsService;

class Router {
 public:
  // Builds a router for `config`, or returns null with `error` set; the
  // table source is shared per name in the process and polled in the
  // background (table_registry.h).
  static Router* create(const PluginConfig& config, Error& error);
  ~Router();

  // Global mode: called on TS_HTTP_READ_REQUEST_HDR_HOOK, before remap (skipping
  // remap must be decided before ATS starts it); reenables the transaction.
  // With a TLS service, its client-certificate headers are set first, and a
  // request whose host's TLS policy is not its connection's gets 421.
  void on_read_request(TSHttpTxn txn);
  // Global mode: the TLS service whose request headers to apply.
  void set_tls(TlsService* tls) { tls_ = tls; }
  // Remap mode.
  TSRemapStatus on_remap(TSHttpTxn txn, TSRemapRequestInfo* rri);

 private:
  explicit Router(const PluginConfig& config, TableSource& source) : config_(config), source_(source) {}

  enum class Result { kRouted, kAnswered, kDeclined };
  // Decides and applies the decision to the request in (buf, hdr, url).
  Result route(TSHttpTxn txn, TSMBuffer buf, TSMLoc hdr, TSMLoc url);
  // Answers 421 Misdirected Request (TlsService::on_request said so).
  Result misdirected(TSHttpTxn txn);

  // The transaction's note of response headers to add, created on first use.
  TxnNote* note(TSHttpTxn txn);

  const PluginConfig config_;
  TableSource& source_;
  TSCont txn_cont_ = nullptr;  // debug header and clean-up hooks
  TSCont cache_cont_ = nullptr;  // the cache's hooks (cache_policy.h), when the cache is on
  TlsService* tls_ = nullptr;  // global mode only
};

}  // namespace atsi::plugin
