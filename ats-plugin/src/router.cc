#include "router.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "decision.h"
#include "names.h"

namespace atsi::plugin {

// Response headers to add to one transaction: allocated only for redirects
// and when the debug header is on.
struct TxnNote {
  std::string location;
  std::string route;
};

namespace {

// ------------------------------------------------------------ per process

Metrics create_metrics() {
  Metrics m;
  auto counter = [](const char* name) {
    int id = -1;
    if (TSStatFindName(name, &id) == TS_ERROR)
      id = TSStatCreate(name, TS_RECORDDATATYPE_INT, TS_STAT_NON_PERSISTENT, TS_STAT_SYNC_SUM);
    return id;
  };
  m.routed = counter("plugin.ats_ingress.requests_routed");
  m.not_found = counter("plugin.ats_ingress.requests_not_found");
  m.unavailable = counter("plugin.ats_ingress.requests_unavailable");
  m.redirected = counter("plugin.ats_ingress.requests_redirected");
  m.declined = counter("plugin.ats_ingress.requests_declined");
  m.switches = counter("plugin.ats_ingress.table_switches");
  m.refused = counter("plugin.ats_ingress.tables_refused");
  m.generation = counter("plugin.ats_ingress.table_generation");
  return m;
}

// One TableSource per table name for the life of the process: routers come
// and go with remap reloads, but per-thread cursors keep pointing at sources.
struct PolledSource {
  std::unique_ptr<TableSource> source;
  TSCont poller = nullptr;
  uint64_t refused_logged = 0;
};

std::mutex registry_mu;
std::map<std::string, PolledSource>& registry() {
  static auto* r = new std::map<std::string, PolledSource>();  // never freed: outlives every thread
  return *r;
}

int poll_source(TSCont cont, TSEvent, void*) {
  auto* ps = static_cast<PolledSource*>(TSContDataGet(cont));
  TableSource& s = *ps->source;
  s.refresh(/*wait=*/true);
  SourceStats st = s.stats();
  const Metrics& m = metrics();
  TSStatIntSet(m.switches, TSMgmtInt(st.switches));
  TSStatIntSet(m.refused, TSMgmtInt(st.refused));
  TSStatIntSet(m.generation, TSMgmtInt(st.serving));
  if (st.refused != ps->refused_logged) {
    ps->refused_logged = st.refused;
    TSError("[%s] refused table: %s; still serving generation %llu", kPluginName, s.last_error().c_str(),
            static_cast<unsigned long long>(st.serving));
  }
  return 0;
}

TableSource& shared_source(const std::string& name, uint32_t poll_ms) {
  std::lock_guard<std::mutex> lk(registry_mu);
  PolledSource& ps = registry()[name];
  if (!ps.source) {
    ps.source = std::make_unique<TableSource>(name);
    ps.source->refresh();  // a table published before ATS started serves at once
    // Scheduled continuations need a mutex; this one is the poller's alone.
    ps.poller = TSContCreate(poll_source, TSMutexCreate());
    TSContDataSet(ps.poller, &ps);
    TSContScheduleEveryOnPool(ps.poller, poll_ms, TS_THREAD_POOL_TASK);
  }
  return *ps.source;
}

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

std::string_view host_of(TSMBuffer buf, TSMLoc hdr, TSMLoc url) {
  int len = 0;
  const char* v = nullptr;
  TSMLoc field = TSMimeHdrFieldFind(buf, hdr, TS_MIME_FIELD_HOST, TS_MIME_LEN_HOST);
  if (field != TS_NULL_MLOC) {
    v = TSMimeHdrFieldValueStringGet(buf, hdr, field, -1, &len);
    TSHandleMLocRelease(buf, hdr, field);
  }
  if (!v || len == 0) v = TSUrlHostGet(buf, url, &len);
  return v && len > 0 ? std::string_view(v, size_t(len)) : std::string_view();
}

void set_host_header(TSMBuffer buf, TSMLoc hdr, std::string_view value) {
  TSMLoc field = TSMimeHdrFieldFind(buf, hdr, TS_MIME_FIELD_HOST, TS_MIME_LEN_HOST);
  if (field == TS_NULL_MLOC) {
    if (TSMimeHdrFieldCreateNamed(buf, hdr, TS_MIME_FIELD_HOST, TS_MIME_LEN_HOST, &field) != TS_SUCCESS) return;
    TSMimeHdrFieldAppend(buf, hdr, field);
  }
  TSMimeHdrFieldValueStringSet(buf, hdr, field, -1, value.data(), int(value.size()));
  TSHandleMLocRelease(buf, hdr, field);
}

// The cache key is the URL the client asked for, not the pod we chose.
void set_cache_key(TSHttpTxn txn, TSMBuffer buf, TSMLoc url, const RequestFacts& req) {
  TSMgmtInt cache_on = 0;
  if (TSHttpTxnConfigIntGet(txn, TS_CONFIG_HTTP_CACHE_HTTP, &cache_on) != TS_SUCCESS || !cache_on) return;
  int qlen = 0;
  const char* q = TSUrlHttpQueryGet(buf, url, &qlen);
  char key[kMaxHostLength + kMaxPathLength + 64];
  int n = std::snprintf(key, sizeof key, "%s://%.*s/%.*s%s%.*s", req.client_tls ? "https" : "http",
                        int(req.host.size()), req.host.data(), int(req.path.size()), req.path.data(),
                        qlen > 0 ? "?" : "", qlen, q ? q : "");
  if (n > 0 && size_t(n) < sizeof key) TSCacheUrlSet(txn, key, n);
}

void set_server_address(TSHttpTxn txn, const EndpointRecord& e) {
  sockaddr_storage ss{};
  if (e.family == 4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(e.port);
    std::memcpy(&sin->sin_addr, e.address, 4);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(e.port);
    std::memcpy(&sin6->sin6_addr, e.address, 16);
  }
  TSHttpTxnServerAddrSet(txn, reinterpret_cast<const sockaddr*>(&ss));
}

void apply_options(TSHttpTxn txn, TSMBuffer buf, TSMLoc hdr, const BackendOptionsView& o) {
  if (o.connect_timeout_ms)
    TSHttpTxnConfigIntSet(txn, TS_CONFIG_HTTP_CONNECT_ATTEMPTS_TIMEOUT, TSMgmtInt((o.connect_timeout_ms + 999) / 1000));
  if (o.response_timeout_ms)
    TSHttpTxnConfigIntSet(txn, TS_CONFIG_HTTP_TRANSACTION_NO_ACTIVITY_TIMEOUT_OUT,
                          TSMgmtInt((o.response_timeout_ms + 999) / 1000));
  if (o.cache_policy == 1) {
    TSHttpTxnConfigIntSet(txn, TS_CONFIG_HTTP_CACHE_HTTP, 0);
    TSHttpTxnServerRespNoStoreSet(txn, 1);
  }
  if (!o.upstream_host.empty()) set_host_header(buf, hdr, o.upstream_host);
}

// Our own answers: a short plain body that says why. ATS frees both buffers.
void set_answer(TSHttpTxn txn, const Decision& d, const char* body, size_t n) {
  TSHttpTxnStatusSet(txn, TSHttpStatus(d.status));
  TSHttpTxnErrorBodySet(txn, TSstrndup(body, int64_t(n)), n, TSstrdup("text/plain; charset=utf-8"));
}

int txn_arg_index() {
  static int idx = [] {
    int i = -1;
    TSUserArgIndexReserve(TS_USER_ARGS_TXN, kPluginName, "response headers to add", &i);
    return i;
  }();
  return idx;
}

void add_header(TSMBuffer buf, TSMLoc hdr, std::string_view name, const std::string& value) {
  TSMLoc field;
  if (TSMimeHdrFieldCreateNamed(buf, hdr, name.data(), int(name.size()), &field) != TS_SUCCESS) return;
  TSMimeHdrFieldValueStringSet(buf, hdr, field, -1, value.data(), int(value.size()));
  TSMimeHdrFieldAppend(buf, hdr, field);
  TSHandleMLocRelease(buf, hdr, field);
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

std::string describe(const TableView& t, const Decision& d, std::string_view address) {
  const Match& m = d.match;
  std::string s;
  if (m.host != kNone) s += "host=" + std::string(t.str(t.host(m.host).name)) + " ";
  if (m.rule != kNone) {
    const RuleRecord& r = t.rule(m.rule);
    s += "path=" + std::string(t.str(r.path)) + " type=" + path_type_name(r.path_type) + " ingress=" + std::string(t.str(r.source)) + " ";
  } else if (m.kind == MatchKind::kHostDefault || m.kind == MatchKind::kTableDefault) {
    s += "rule=default ";
  }
  if (m.backend != kNone) {
    const BackendRecord& b = t.backend(m.backend);
    s += "service=" + std::string(t.str(b.service)) + ":" + std::string(t.str(b.port)) + " ";
  }
  if (d.endpoint) {
    s += "endpoint=" + (d.endpoint->family == 6 ? "[" + std::string(address) + "]" : std::string(address)) + ":" +
         std::to_string(d.endpoint->port) + " ";
  }
  s += "generation=" + std::to_string(t.generation());
  return s;
}

}  // namespace

const Metrics& metrics() {
  static const Metrics m = create_metrics();
  return m;
}

Router* Router::create(const PluginConfig& config, Error& error) {
  metrics();
  if (txn_arg_index() < 0) {
    error = {ErrorCode::kSystem, "cannot reserve a transaction argument"};
    return nullptr;
  }
  auto* r = new Router(config, shared_source(config.table, config.poll_ms));
  r->txn_cont_ = TSContCreate(on_txn_event, nullptr);
  TSDebug(kDebugTag, "router for table %s (debug header %s, poll %u ms)", config.table.c_str(),
          config.debug_header ? "on" : "off", config.poll_ms);
  return r;
}

Router::~Router() {
  if (txn_cont_) TSContDestroy(txn_cont_);
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
      char body[512];
      size_t n = answer_body(d, body, sizeof body);
      TSDebug(kDebugTag, "host \"%.*s\" path \"/%.*s\": %.*s", int(req.host.size()), req.host.data(),
              int(req.path.size()), req.path.data(), int(n > 0 && body[n - 1] == '\n' ? n - 1 : n), body);
      set_answer(txn, d, body, n);
      return Result::kAnswered;
    }
    case Action::kRedirect: {
      TSStatIntIncrement(m.redirected, 1);
      TSHttpTxnStatusSet(txn, TS_HTTP_STATUS_PERMANENT_REDIRECT);
      int qlen = 0;
      const char* q = TSUrlHttpQueryGet(buf, url, &qlen);
      // The https URL of the same resource: the host as matched (lowercase,
      // without the client's http port), the path and query as sent.
      char host_buf[kHostBufferSize];
      std::string_view host;
      normalize_host(req.host, host_buf, host);
      char location[kMaxHostLength + kMaxPathLength + 64];
      int n = std::snprintf(location, sizeof location, "https://%.*s/%.*s%s%.*s", int(host.size()), host.data(),
                            int(req.path.size()), req.path.data(), qlen > 0 ? "?" : "", qlen, q ? q : "");
      if (n > 0 && size_t(n) < sizeof location) note(txn)->location.assign(location, size_t(n));
      TSHttpTxnErrorBodySet(txn, TSstrdup("308 use https\n"), 14, TSstrdup("text/plain; charset=utf-8"));
      return Result::kAnswered;
    }
    case Action::kRoute:
      break;
  }
  char address[64];
  size_t alen = endpoint_address_text(*d.endpoint, address, sizeof address);
  set_cache_key(txn, buf, url, req);  // before the URL changes
  if (config_.debug_header && view) note(txn)->route = describe(*view, d, {address, alen});
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
  if (TSIsDebugTagSet(kDebugTag)) {
    TSDebug(kDebugTag, "\"%.*s\" \"/%.*s\" -> %s:%u", int(req.host.size()), req.host.data(), int(req.path.size()),
            req.path.data(), address, unsigned(d.endpoint->port));
  }
  return Result::kRouted;
}

void Router::on_read_request(TSHttpTxn txn) {
  TSEvent next = TS_EVENT_HTTP_CONTINUE;
  TSMBuffer buf;
  TSMLoc hdr, url;
  if (!TSHttpTxnIsInternal(txn) && TSHttpTxnClientReqGet(txn, &buf, &hdr) == TS_SUCCESS) {
    if (TSHttpHdrUrlGet(buf, hdr, &url) == TS_SUCCESS) {
      switch (route(txn, buf, hdr, url)) {
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
