#include "router.h"

#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cache_control.h"
#include "cache_policy.h"
#include "common.h"
#include "decision.h"
#include "metrics.h"
#include "table_registry.h"
#include "table_source.h"
#include "tls_hooks.h"
#include "ts_helpers.h"

namespace atsi::plugin {

// Response headers to add to one transaction: allocated only for redirects,
// misdirected requests, and when the debug header is on.
struct TxnNote {
  std::string location;
  std::string route;
  const char* reason = nullptr;  // a reason phrase ATS does not know
};

namespace {

// Room for any URL we build: the host as sent, a path lookup accepted, and
// the query. A longer one is not built (decision.h says why).
constexpr size_t kUrlBufferSize = kMaxHostLength + kMaxPathLength + 64;

// ------------------------------------------------------------ per thread

std::atomic<uint32_t> next_seed{1};

ReaderCursor& cursor_for(TableSource& source) {
  thread_local std::vector<std::unique_ptr<ReaderCursor>> cursors;
  for (auto& c : cursors)
    if (&c->source() == &source) return *c;
  cursors.push_back(std::make_unique<ReaderCursor>(source, next_seed.fetch_add(1)));
  return *cursors.back();
}

// ------------------------------------------------------------ per request

std::string_view query_of(TSMBuffer buf, TSMLoc url) {
  int qlen = 0;
  const char* q = TSUrlHttpQueryGet(buf, url, &qlen);
  return q && qlen > 0 ? std::string_view(q, size_t(qlen)) : std::string_view();
}

void set(TSHttpTxn txn, TSOverridableConfigKey key, int64_t value) {
  if (value != kLeave) TSHttpTxnConfigIntSet(txn, key, TSMgmtInt(value));
}

// Per transaction, in a user argument (a small number, no allocation): what
// the cache hooks below need to know of the request.
enum CacheFlags : uintptr_t {
  // The request has Authorization and ignore_authentication is 0: the
  // response is stored only when it says public or s-maxage, and a stored
  // one that says s-maxage may answer (cache_policy.h).
  kAuthorizedRequest = 1,
};

int cache_arg_index() {
  static int idx = [] {
    int i = -1;
    TSUserArgIndexReserve(TS_USER_ARGS_TXN, kPluginName, "cache policy flags", &i);
    return i;
  }();
  return idx;
}

// The cache for one routed transaction, before its URL is changed: bypassed
// (cache: bypass), or on with the key the client's URL gives and the
// route's policy (cache_policy.h), and the pod's response looked at before
// ATS decides to store it (on_cache_event below). `cache_cont` is added only
// to transactions whose cache is on.
void apply_cache(TSHttpTxn txn, TSMBuffer buf, TSMLoc hdr, TSMLoc url, const RequestFacts& req,
                 const BackendOptionsView& o, TSCont cache_cont) {
  if (o.cache_policy == 1) {
    TSHttpTxnConfigIntSet(txn, TS_CONFIG_HTTP_CACHE_HTTP, 0);
    TSHttpTxnServerRespNoStoreSet(txn, 1);
    return;
  }
  TSMgmtInt cache_on = 0;
  if (TSHttpTxnConfigIntGet(txn, TS_CONFIG_HTTP_CACHE_HTTP, &cache_on) != TS_SUCCESS || !cache_on) return;
  char key[kUrlBufferSize];
  size_t n = cache_key_url(req, o, query_of(buf, url), key, sizeof key);
  if (n == 0) {
    // No key that names this URL alone: ATS's own would be the pod's URL,
    // shared by every host routed there. Not cached at all.
    TSHttpTxnConfigIntSet(txn, TS_CONFIG_HTTP_CACHE_HTTP, 0);
    return;
  }
  TSCacheUrlSet(txn, key, int(n));
  if (o.any_cache_option()) {
    CacheOverrides c = cache_overrides(o);
    set(txn, TS_CONFIG_HTTP_CACHE_REQUIRED_HEADERS, c.required_headers);
    set(txn, TS_CONFIG_HTTP_CACHE_HEURISTIC_MIN_LIFETIME, c.heuristic_min_lifetime);
    set(txn, TS_CONFIG_HTTP_CACHE_HEURISTIC_MAX_LIFETIME, c.heuristic_max_lifetime);
    set(txn, TS_CONFIG_HTTP_CACHE_GUARANTEED_MAX_LIFETIME, c.guaranteed_max_lifetime);
    set(txn, TS_CONFIG_HTTP_CACHE_MAX_STALE_AGE, c.max_stale_age);
    set(txn, TS_CONFIG_HTTP_NEGATIVE_REVALIDATING_ENABLED, c.negative_revalidating_enabled);
    set(txn, TS_CONFIG_HTTP_NEGATIVE_REVALIDATING_LIFETIME, c.negative_revalidating_lifetime);
    set(txn, TS_CONFIG_HTTP_CACHE_GENERATION, c.generation);
  }
  TSHttpTxnHookAdd(txn, TS_HTTP_READ_RESPONSE_HDR_HOOK, cache_cont);
  if (has_field(buf, hdr, TS_MIME_FIELD_AUTHORIZATION, TS_MIME_LEN_AUTHORIZATION)) {
    TSMgmtInt ignore_auth = 0;
    if (TSHttpTxnConfigIntGet(txn, TS_CONFIG_HTTP_CACHE_IGNORE_AUTHENTICATION, &ignore_auth) == TS_SUCCESS &&
        !ignore_auth) {
      TSUserArgSet(txn, cache_arg_index(), reinterpret_cast<void*>(uintptr_t(kAuthorizedRequest)));
      TSHttpTxnHookAdd(txn, TS_HTTP_READ_CACHE_HDR_HOOK, cache_cont);
    }
  }
}

void apply_options(TSHttpTxn txn, TSMBuffer buf, TSMLoc hdr, const BackendOptionsView& o) {
  if (o.connect_timeout_ms)
    TSHttpTxnConfigIntSet(txn, TS_CONFIG_HTTP_CONNECT_ATTEMPTS_TIMEOUT, TSMgmtInt((o.connect_timeout_ms + 999) / 1000));
  if (o.response_timeout_ms)
    TSHttpTxnConfigIntSet(txn, TS_CONFIG_HTTP_TRANSACTION_NO_ACTIVITY_TIMEOUT_OUT,
                          TSMgmtInt((o.response_timeout_ms + 999) / 1000));
  if (!o.upstream_host.empty()) set_host_header(buf, hdr, o.upstream_host);
}

// The hooks of a transaction whose cache is on (cache_policy.h says why):
//   READ_CACHE_HDR (requests with Authorization only): a stored response
//     found; ATS is about to decide whether it may answer. One that says
//     s-maxage may (ignore_authentication 1 for this lookup).
//   READ_RESPONSE_HDR: the pod's response headers are in; ATS has not yet
//     decided whether to store the response. Refused when it sets a cookie,
//     or answers a request with Authorization without public or s-maxage.
int on_cache_event(TSCont, TSEvent event, void* edata) {
  auto txn = static_cast<TSHttpTxn>(edata);
  const bool authorized =
      (reinterpret_cast<uintptr_t>(TSUserArgGet(txn, cache_arg_index())) & kAuthorizedRequest) != 0;
  TSMBuffer buf;
  TSMLoc hdr;
  if (event == TS_EVENT_HTTP_READ_CACHE_HDR && authorized && TSHttpTxnCachedRespGet(txn, &buf, &hdr) == TS_SUCCESS) {
    CacheControl cc;
    read_cache_control(buf, hdr, cc);
    if (reusable_for_authorized(cc)) {
      TSHttpTxnConfigIntSet(txn, TS_CONFIG_HTTP_CACHE_IGNORE_AUTHENTICATION, 1);
      ATSI_DEBUG("the stored response says s-maxage: it may answer a request with Authorization");
    }
    TSHandleMLocRelease(buf, TS_NULL_MLOC, hdr);
  } else if (event == TS_EVENT_HTTP_READ_RESPONSE_HDR && TSHttpTxnServerRespGet(txn, &buf, &hdr) == TS_SUCCESS) {
    bool cookie = has_field(buf, hdr, TS_MIME_FIELD_SET_COOKIE, TS_MIME_LEN_SET_COOKIE);
    CacheControl cc;
    if (authorized && !cookie) read_cache_control(buf, hdr, cc);
    if (refuse_to_store(cookie, authorized, cc)) {
      TSHttpTxnServerRespNoStoreSet(txn, 1);
      ATSI_DEBUG("not stored: %s", cookie ? "the response sets a cookie"
                                          : "a response to a request with Authorization says neither public nor s-maxage");
    }
    TSHandleMLocRelease(buf, TS_NULL_MLOC, hdr);
  }
  TSHttpTxnReenable(txn, TS_EVENT_HTTP_CONTINUE);
  return 0;
}

int txn_arg_index() {
  static int idx = [] {
    int i = -1;
    TSUserArgIndexReserve(TS_USER_ARGS_TXN, kPluginName, "response headers to add", &i);
    return i;
  }();
  return idx;
}

int on_txn_event(TSCont, TSEvent event, void* edata) {
  auto txn = static_cast<TSHttpTxn>(edata);
  auto* note = static_cast<TxnNote*>(TSUserArgGet(txn, txn_arg_index()));
  if (event == TS_EVENT_HTTP_SEND_RESPONSE_HDR && note) {
    TSMBuffer buf;
    TSMLoc hdr;
    if (TSHttpTxnClientRespGet(txn, &buf, &hdr) == TS_SUCCESS) {
      if (!note->location.empty()) {
        // Global mode answers through TS_EVENT_HTTP_ERROR, after which ATS
        // keeps only a status of 400 or more (else 500 "INKApi Error"): set
        // the redirect's status here, where both modes pass.
        TSHttpHdrStatusSet(buf, hdr, TS_HTTP_STATUS_PERMANENT_REDIRECT);
        const char* reason = TSHttpHdrReasonLookup(TS_HTTP_STATUS_PERMANENT_REDIRECT);
        if (reason) TSHttpHdrReasonSet(buf, hdr, reason, int(std::strlen(reason)));
        add_header(buf, hdr, "Location", note->location);
      }
      if (note->reason) TSHttpHdrReasonSet(buf, hdr, note->reason, int(std::strlen(note->reason)));
      if (!note->route.empty()) add_header(buf, hdr, "X-ATS-Ingress-Route", note->route);
      TSHandleMLocRelease(buf, TS_NULL_MLOC, hdr);
    }
  } else if (event == TS_EVENT_HTTP_TXN_CLOSE) {
    delete note;
    TSUserArgSet(txn, txn_arg_index(), nullptr);
  }
  TSHttpTxnReenable(txn, TS_EVENT_HTTP_CONTINUE);
  return 0;
}

}  // namespace

Router* Router::create(const PluginConfig& config, Error& error) {
  metrics();
  if (txn_arg_index() < 0 || cache_arg_index() < 0) {
    error = {ErrorCode::kSystem, "cannot reserve a transaction argument"};
    return nullptr;
  }
  auto* r = new Router(config, shared_source(config.table, config.poll_ms));
  r->txn_cont_ = TSContCreate(on_txn_event, nullptr);
  r->cache_cont_ = TSContCreate(on_cache_event, nullptr);
  ATSI_DEBUG("router for table %s (debug header %s, poll %u ms)", config.table.c_str(),
             config.debug_header ? "on" : "off", config.poll_ms);
  return r;
}

Router::~Router() {
  if (txn_cont_) TSContDestroy(txn_cont_);
  if (cache_cont_) TSContDestroy(cache_cont_);
}

TxnNote* Router::note(TSHttpTxn txn) {
  auto* n = static_cast<TxnNote*>(TSUserArgGet(txn, txn_arg_index()));
  if (!n) {
    n = new TxnNote();
    TSUserArgSet(txn, txn_arg_index(), n);
    TSHttpTxnHookAdd(txn, TS_HTTP_SEND_RESPONSE_HDR_HOOK, txn_cont_);
    TSHttpTxnHookAdd(txn, TS_HTTP_TXN_CLOSE_HOOK, txn_cont_);
  }
  return n;
}

Router::Result Router::route(TSHttpTxn txn, TSMBuffer buf, TSMLoc hdr, TSMLoc url) {
  ReaderCursor& cursor = cursor_for(source_);
  const MappedTable* table = cursor.get();
  RequestFacts req;
  req.host = host_of(buf, hdr, url);
  int plen = 0;
  const char* p = TSUrlPathGet(buf, url, &plen);
  req.path = p && plen > 0 ? std::string_view(p, size_t(plen)) : std::string_view();
  req.client_tls = TSHttpTxnClientProtocolStackContains(txn, "tls") != nullptr;

  const TableView* view = table ? &table->view() : nullptr;
  Decision d = decide(view, cursor.balancer(), req, config_.pass_unknown_hosts);
  const Metrics& m = metrics();
  switch (d.action) {
    case Action::kDecline:
      TSStatIntIncrement(m.declined, 1);
      return Result::kDeclined;
    case Action::kAnswer: {
      TSStatIntIncrement(d.status == 404 ? m.not_found : m.unavailable, 1);
      // Our own answers: a short plain body that says why.
      char body[512];
      size_t n = answer_body(d, body, sizeof body);
      ATSI_DEBUG("host \"%.*s\" path \"/%.*s\": %.*s", int(req.host.size()), req.host.data(), int(req.path.size()),
                 req.path.data(), int(n > 0 && body[n - 1] == '\n' ? n - 1 : n), body);
      set_error_body(txn, d.status, body, n);
      return Result::kAnswered;
    }
    case Action::kRedirect: {
      TSStatIntIncrement(m.redirected, 1);
      char location[kUrlBufferSize];
      size_t n = redirect_location(req, query_of(buf, url), location, sizeof location);
      if (n > 0) note(txn)->location.assign(location, n);
      static constexpr char kBody[] = "308 use https\n";
      set_error_body(txn, 308, kBody, sizeof kBody - 1);
      return Result::kAnswered;
    }
    case Action::kRoute:
      break;
  }
  char address[64];
  size_t alen = endpoint_address_text(*d.endpoint, address, sizeof address);
  apply_cache(txn, buf, hdr, url, req, d.options, cache_cont_);  // before the URL changes
  if (config_.debug_header && view) note(txn)->route = route_description(*view, d);
  TSUrlSchemeSet(buf, url, d.scheme == kSchemeHttps ? TS_URL_SCHEME_HTTPS : TS_URL_SCHEME_HTTP,
                 d.scheme == kSchemeHttps ? TS_URL_LEN_HTTPS : TS_URL_LEN_HTTP);
  TSUrlHostSet(buf, url, address, int(alen));
  TSUrlPortSet(buf, url, d.endpoint->port);
  // The URL says where the request goes (and ATS's self-loop check reads it);
  // giving ATS the address as well skips its host database, which otherwise
  // delays the first request to a new pod address by an event-loop turn.
  set_server_address(txn, *d.endpoint);
  apply_options(txn, buf, hdr, d.options);
  TSStatIntIncrement(m.routed, 1);
  ATSI_DEBUG("\"%.*s\" \"/%.*s\" -> %s:%u", int(req.host.size()), req.host.data(), int(req.path.size()),
             req.path.data(), address, unsigned(d.endpoint->port));
  return Result::kRouted;
}

void Router::on_read_request(TSHttpTxn txn) {
  TSEvent next = TS_EVENT_HTTP_CONTINUE;
  TSMBuffer buf;
  TSMLoc hdr, url;
  if (!TSHttpTxnIsInternal(txn) && TSHttpTxnClientReqGet(txn, &buf, &hdr) == TS_SUCCESS) {
    if (TSHttpHdrUrlGet(buf, hdr, &url) == TS_SUCCESS) {
      Result result = tls_ && !tls_->on_request(txn, buf, hdr, host_of(buf, hdr, url)) ? misdirected(txn)
                                                                                      : route(txn, buf, hdr, url);
      switch (result) {
        case Result::kRouted:
          TSSkipRemappingSet(txn, 1);
          break;
        case Result::kAnswered:
          next = TS_EVENT_HTTP_ERROR;
          break;
        case Result::kDeclined:
          break;
      }
      TSHandleMLocRelease(buf, hdr, url);
    }
    TSHandleMLocRelease(buf, TS_NULL_MLOC, hdr);
  }
  TSHttpTxnReenable(txn, next);
}

Router::Result Router::misdirected(TSHttpTxn txn) {
  static constexpr char kBody[] = "421 this connection was made for another host; connect again for this one\n";
  set_error_body(txn, 421, kBody, sizeof kBody - 1);
  note(txn)->reason = "Misdirected Request";  // ATS 9.2 would say "Error"
  return Result::kAnswered;
}

TSRemapStatus Router::on_remap(TSHttpTxn txn, TSRemapRequestInfo* rri) {
  switch (route(txn, rri->requestBufp, rri->requestHdrp, rri->requestUrl)) {
    case Result::kRouted:
      return TSREMAP_DID_REMAP;
    case Result::kDeclined:  // remap mode answers every request itself
    case Result::kAnswered:
      return TSREMAP_NO_REMAP_STOP;
  }
  return TSREMAP_NO_REMAP_STOP;
}

}  // namespace atsi::plugin
