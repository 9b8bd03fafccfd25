// The ATS side of routing: reads the request, asks decide(), carries the
// decision out on the transaction, retries on another pod when one does not
// accept the connection, and counts the request when it closes. Shared by
// the global and remap modes.
#pragma once

#include <ts/ts.h>
// remap.h uses ts.h types without including it.
#include <ts/remap.h>

#include <optional>
#include <string>
#include <string_view>

#include "config.h"
#include "decision.h"
#include "errors.h"
#include "gateway_lookup.h"
#include "txn_state.h"

namespace atsi {
class ReaderCursor;
}

namespace atsi::plugin {

struct TxnNote;
struct TableEntry;
class TlsService;

class Router {
 public:
  // Builds a router for `config`, or returns null with `error` set; the
  // table and its counters are shared per name in the process
  // (table_registry.h). The first router also adds the process's global
  // hooks (OS_DNS for retries, TXN_CLOSE for counting), once.
  static Router* create(const PluginConfig& config, Error& error);
  ~Router();

  // Global mode: called on TS_HTTP_READ_REQUEST_HDR_HOOK, before remap (skipping
  // remap must be decided before ATS starts it); reenables the transaction.
  // PURGE and PUSH from outside the pod get 403 first (client_policy.h).
  // With a TLS service, its client-certificate headers are set next, and a
  // request whose host's TLS policy is not its connection's gets 421.
  void on_read_request(TSHttpTxn txn);
  // Global mode: the TLS service whose request headers to apply.
  void set_tls(TlsService* tls) { tls_ = tls; }
  // Remap mode.
  TSRemapStatus on_remap(TSHttpTxn txn, TSRemapRequestInfo* rri);

 private:
  explicit Router(const PluginConfig& config, TableEntry& table) : config_(config), table_(table) {}

  enum class Result { kRouted, kAnswered, kDeclined };
  // Decides and applies the decision to the request in (buf, hdr, url);
  // `count` false leaves the request out of the counters (PURGE and PUSH
  // from loopback: cache administration, not traffic).
  // `host`: host_of(buf, hdr, url), read once by the caller.
  Result route(TSHttpTxn txn, TSMBuffer buf, TSMLoc hdr, TSMLoc url, std::string_view host, bool count);
  // A request to a Gateway's address and port (gateway_lookup.h): answered,
  // redirected, or forwarded after its filters; nullopt when no Gateway
  // listens on the connection's address and port (one lookup decides both).
  std::optional<Result> route_gateway(TSHttpTxn txn, TSMBuffer buf, TSMLoc hdr, TSMLoc url, bool count, ReaderCursor& cursor,
                       const TableView& view, const RequestFacts& req, GatewayRequest& g);
  // What a Gateway API rule changes in a request it forwards (URLRewrite), and the debug header's text.
  struct GatewayForward {
    std::string_view host;
    bool has_path = false;
    std::string_view path;
    std::string description;
  };
  // Sends a routed request to `d.endpoint`: cache key, URL, server address,
  // next hop, the backend's options, and the state word.
  Result forward(TSHttpTxn txn, TSMBuffer buf, TSMLoc hdr, TSMLoc url, const RequestFacts& req, const TableView& table,
                 const Decision& d, TxnState st, const GatewayForward* gw);
  // Answers 421 Misdirected Request (TlsService::on_request said so).
  Result misdirected(TSHttpTxn txn);

  const PluginConfig config_;
  TableEntry& table_;
  TSCont cache_cont_ = nullptr;  // the cache's hooks (cache_policy.h), when the cache is on
  TlsService* tls_ = nullptr;    // global mode only
};

}  // namespace atsi::plugin
