#include "router.h"

#include <ts/parentselectdefs.h>
#include <sys/random.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cache_control.h"
#include "cache_policy.h"
#include "client_policy.h"
#include "common.h"
#include "decision.h"
#include "gateway_headers.h"
#include "gateway_lookup.h"
#include "metrics.h"
#include "table_registry.h"
#include "table_source.h"
#include "tls_hooks.h"
#include "ts_helpers.h"
#include "txn_state.h"

namespace atsi::plugin {

static_assert(int(Lookup::kMiss) == TS_CACHE_LOOKUP_MISS && int(Lookup::kHitStale) == TS_CACHE_LOOKUP_HIT_STALE &&
              int(Lookup::kHitFresh) == TS_CACHE_LOOKUP_HIT_FRESH && int(Lookup::kSkipped) == TS_CACHE_LOOKUP_SKIPPED);

// What one transaction needs beyond its two words (txn_state.h): allocated
// only for redirects, misdirected requests, the debug header, and when a
// pod did not accept the connection. Freed at TXN_CLOSE.
struct TxnNote {
  std::string location;
  int redirect_status = 308;  // of `location`: 308 to https, or a Gateway API RequestRedirect's
  // A Gateway API ResponseHeaderModifier's edits, copied from the table
  // (which may have changed by the time the response comes).
  struct HeaderEdit {
    uint8_t op;  // 0 set, 1 add, 2 remove
    std::string name, value;
  };
  std::vector<HeaderEdit> response_edits;
  std::string route;
  const char* reason = nullptr;  // a reason phrase ATS does not know
  // A pod did not accept the connection: if ATS itself then answers 502 or
  // 504 (its retries spent), the body says so (unreachable_body()).
  bool unreachable = false;
  std::string service, port;
  uint32_t tried = 0, count = 0;
  EndpointRecord last{};
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

// A per-thread xorshift32: picks a Gateway API rule's backend by weight. Not
// for anything that needs to be unpredictable, only evenly spread.
// Seeded once per thread from the kernel, so that ATS's restarts do not all
// draw the same sequence.
uint32_t thread_seed() {
  uint32_t x = 0;
  if (getrandom(&x, sizeof x, 0) != ssize_t(sizeof x)) x = next_seed.fetch_add(1) * 2654435761u;
  return x | 1u;
}

uint32_t next_random() {
  thread_local uint32_t x = thread_seed();
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return x;
}

// ------------------------------------------------------------ per transaction

// The transaction's words (txn_state.h) and its note, reserved once per
// process. Each under a name of its own: ATS 9.2 gives one index per name
// (a second reservation with the same name returns the first's index).
struct ArgIndexes {
  int state = -1, hop = -1, note = -1;
};
const ArgIndexes& args() {
  static const ArgIndexes a = [] {
    ArgIndexes x;
    TSUserArgIndexReserve(TS_USER_ARGS_TXN, ATSI_PLUGIN_NAME ".state", "routing state: flags, table, stats slot",
                          &x.state);
    TSUserArgIndexReserve(TS_USER_ARGS_TXN, ATSI_PLUGIN_NAME ".hop", "next hop: backend, first endpoint, hops",
                          &x.hop);
    TSUserArgIndexReserve(TS_USER_ARGS_TXN, ATSI_PLUGIN_NAME ".note", "response headers to add", &x.note);
    if (x.state == x.hop || x.hop == x.note || x.state == x.note) x.state = x.hop = x.note = -1;
    return x;
  }();
  return a;
}

TSCont note_cont = nullptr;  // SEND_RESPONSE_HDR of transactions with a note; made with the global hooks

// The transaction's note, created on first use; kTxnNote in its state
// word says there is one, so that TXN_CLOSE reads the note word only then.
// route() sets its state word last: it passes its own flags to keep in step.
TxnNote* note(TSHttpTxn txn, TxnState* st = nullptr) {
  const ArgIndexes& a = args();
  auto* n = reinterpret_cast<TxnNote*>(txn_word(txn, a.note));
  if (!n) {
    n = new TxnNote();
    set_txn_word(txn, a.note, reinterpret_cast<uintptr_t>(n));
    TSHttpTxnHookAdd(txn, TS_HTTP_SEND_RESPONSE_HDR_HOOK, note_cont);
    if (st) {
      st->flags |= kTxnNote;
    } else {
      TxnState now = unpack_state(txn_word(txn, a.state));
      now.flags |= kTxnNote;
      set_txn_word(txn, a.state, pack_state(now));
    }
  }
  return n;
}

// ------------------------------------------------------------ the cache

std::string_view query_of(TSMBuffer buf, TSMLoc url) {
  int qlen = 0;
  const char* q = TSUrlHttpQueryGet(buf, url, &qlen);
  return q && qlen > 0 ? std::string_view(q, size_t(qlen)) : std::string_view();
}

void set(TSHttpTxn txn, TSOverridableConfigKey key, int64_t value) {
  if (value != kLeave) TSHttpTxnConfigIntSet(txn, key, TSMgmtInt(value));
}

// Sets the cache key (cache_key_url, decision.h). The request's own URL
// given the client's scheme, `key_host` and no port is that key whenever it
// has no user of its own and the query stays in: ATS copies it as an
// object, where TSCacheUrlSet would parse the key's text (about 1,400 of the
// 4,900 instructions the plugin adds to a cache hit, by callgrind). The port
// is cleared, not a reason to parse: in remap mode the URL already has one
// when the plugin is called, which sent every request to the text
// (TSCacheUrlSet was 1,560 instructions of a hit, by callgrind), and
// forward() sets the pod's port after. The key has no port either way; ATS
// hashes the scheme's default for none. Returns whether the URL now has that
// scheme and host; false when the text was set.
bool set_cache_key(TSHttpTxn txn, TSMBuffer buf, TSMLoc url, const RequestFacts& req, std::string_view key_host,
                   const BackendOptionsView& o, std::string_view query) {
  int ulen = 0;
  if (!o.cache_ignore_query && !(TSUrlUserGet(buf, url, &ulen) && ulen > 0)) {
    if (TSUrlRawPortGet(buf, url) != 0) TSUrlPortSet(buf, url, 0);
    TSUrlSchemeSet(buf, url, req.client_tls ? TS_URL_SCHEME_HTTPS : TS_URL_SCHEME_HTTP,
                   req.client_tls ? TS_URL_LEN_HTTPS : TS_URL_LEN_HTTP);
    TSUrlHostSet(buf, url, key_host.data(), int(key_host.size()));
    if (TSHttpTxnCacheLookupUrlSet(txn, buf, url) == TS_SUCCESS) return true;
  }
  char key[kUrlBufferSize];
  size_t n = cache_key_url(key_host, req, o, query, key, sizeof key);
  if (n > 0) TSCacheUrlSet(txn, key, int(n));
  return false;
}

// The cache for one routed transaction, before its URL is changed: bypassed
// (cache: bypass), or on with the key the client's URL gives and the
// route's policy (cache_policy.h), and the pod's response looked at before
// ATS decides to store it (on_cache_event below). `cache_cont` is added only
// to transactions whose cache is on. Returns the state flags it learnt
// (kTxnAuthorized); `url_keyed` says set_cache_key gave the URL the key's
// scheme and host.
uint32_t apply_cache(TSHttpTxn txn, TSMBuffer buf, TSMLoc hdr, TSMLoc url, const RequestFacts& req,
                     std::string_view key_host, const BackendOptionsView& o, TSCont cache_cont, bool& url_keyed) {
  url_keyed = false;
  if (o.cache_policy == 1) {
    TSHttpTxnConfigIntSet(txn, TS_CONFIG_HTTP_CACHE_HTTP, 0);
    TSHttpTxnServerRespNoStoreSet(txn, 1);
    return 0;
  }
  TSMgmtInt cache_on = 0;
  if (TSHttpTxnConfigIntGet(txn, TS_CONFIG_HTTP_CACHE_HTTP, &cache_on) != TS_SUCCESS || !cache_on) return 0;
  const std::string_view query = query_of(buf, url);
  const size_t n = cache_key_size(key_host, req, o, query);
  if (n == 0 || n >= kUrlBufferSize) {
    // No key that names this URL alone: ATS's own would be the pod's URL,
    // shared by every host routed there. Not cached at all.
    TSHttpTxnConfigIntSet(txn, TS_CONFIG_HTTP_CACHE_HTTP, 0);
    return 0;
  }
  url_keyed = set_cache_key(txn, buf, url, req, key_host, o, query);
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
      TSHttpTxnHookAdd(txn, TS_HTTP_READ_CACHE_HDR_HOOK, cache_cont);
      return kTxnAuthorized;
    }
  }
  return 0;
}

void apply_options(TSHttpTxn txn, TSMBuffer buf, TSMLoc hdr, const BackendOptionsView& o) {
  // In milliseconds, for the origin and the next-hop paths alike (the
  // record ATS reads for a next hop is another: parent_proxy.connect_attempts_timeout).
  if (o.connect_timeout_ms) TSHttpTxnConnectTimeoutSet(txn, int(std::min<uint32_t>(o.connect_timeout_ms, INT32_MAX)));
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
//     For a counted miss, whether ATS will store it (kTxnStorable): the
//     counters' `miss` means the next request is a hit.
int on_cache_event(TSCont, TSEvent event, void* edata) {
  auto txn = static_cast<TSHttpTxn>(edata);
  const int state_arg = args().state;
  TxnState st = unpack_state(txn_word(txn, state_arg));
  const bool authorized = (st.flags & kTxnAuthorized) != 0;
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
    const bool refused = refuse_to_store(cookie, authorized, cc);
    if (refused) {
      TSHttpTxnServerRespNoStoreSet(txn, 1);
      ATSI_DEBUG("not stored: %s", cookie ? "the response sets a cookie"
                                          : "a response to a request with Authorization says neither public nor s-maxage");
    }
    int lookup = -1;
    if ((st.flags & kTxnCounted) && !refused && TSHttpTxnCacheLookupStatusGet(txn, &lookup) == TS_SUCCESS &&
        lookup == TS_CACHE_LOOKUP_MISS && TSHttpTxnIsCacheable(txn, nullptr, nullptr)) {
      st.flags |= kTxnStorable;
      set_txn_word(txn, state_arg, pack_state(st));
    }
    TSHandleMLocRelease(buf, TS_NULL_MLOC, hdr);
  }
  TSHttpTxnReenable(txn, TS_EVENT_HTTP_CONTINUE);
  return 0;
}

// ------------------------------------------------------------ a pod that does not accept the connection
//
// ATS 9.2 retries a failed connection itself, and its OS_DNS hook runs
// before each retry; but on its origin path (TSHttpTxnServerAddrSet alone)
// a plugin cannot send that retry elsewhere: HttpTransact::OSDNSLookup
// copies back the address its host lookup produced, which for an address a
// plugin gave is the first one (seen: a second address set in the hook was
// ignored, every retry went to the first pod). Worse, with the cache on and
// doc_in_cache_skip_dns 1 (ATS's default) there was no host lookup at all,
// and OSDNSLookup answers the retry 500 "Cannot find server" (the "Unknown
// Host" page).
//
// Its next-hop API does what a balancer needs: TSHttpTxnResponseActionSet
// names the next hop, ATS takes it before each attempt (ATS's parent_select
// plugin works this way), and with parentIsProxy false it is an origin:
// requests in origin form, the client's Host. So a routed request carries
// two things for its first attempt: the server address (which the next
// hop's host lookup takes instead of resolving its name, HttpSM's
// SM_ACTION_DNS_LOOKUP) and the next hop (for its port). ATS's OS_DNS hook
// then runs after that lookup and before each attempt, and on_os_dns
// prepares the attempt after it: the next endpoint of the same backend, in
// table order from the balancer's first pick. ATS tries each pod
// parent_proxy.per_parent_connect_attempts times (2 by default) and retries
// parent_proxy.total_connect_attempts times (4) in all: up to three pods
// with the defaults. When every endpoint has failed, or ATS's attempts are
// spent, the answer is 502 (504 for a connect timeout) with a body that
// says so, never the 500.
//
// A backend of one pod has nowhere else to go: it stays on the origin
// path, and a failed connection is answered 502 at the first retry rather
// than retried on the same pod. ATS takes the origin path too when the
// request's URL host is the literal 127.0.0.1 (HttpTransact::is_localhost),
// so the URL carries the request's host, not the pod's address
// (routed_url_host()); a request whose Host is 127.0.0.1 still goes the
// origin path.

// The body of a 502 from what the transaction's words say.
void answer_unreachable(TSHttpTxn txn, const TableView* view, const BackendRecord* b, uint32_t tried,
                        uint32_t last_position, bool timed_out) {
  char body[512];
  size_t n;
  if (view && b && b->endpoint_count) {
    n = unreachable_body(view->str(b->service), view->str(b->port), tried, b->endpoint_count,
                         &view->endpoint(b->first_endpoint + last_position % b->endpoint_count), timed_out, body,
                         sizeof body);
  } else {
    n = unreachable_body("?", "?", tried, tried, nullptr, timed_out, body, sizeof body);
  }
  set_error_body(txn, 502, body, n);
  TSStatIntIncrement(metrics().requests_unreachable, 1);
  ATSI_DEBUG("%.*s", int(n > 0 ? n - 1 : 0), body);
}

TSEvent next_hop(TSHttpTxn txn) {
  const sockaddr* hop_addr = TSHttpTxnNextHopAddrGet(txn);
  if (!hop_addr) return TS_EVENT_HTTP_CONTINUE;  // a host lookup before the cache lookup: no attempt yet
  const TSServerState state = TSHttpTxnServerStateGet(txn);
  const bool failed = state != TS_SRVSTATE_STATE_UNDEFINED;
  const bool timed_out = state == TS_SRVSTATE_INACTIVE_TIMEOUT || state == TS_SRVSTATE_ACTIVE_TIMEOUT;
  const bool origin = hop_addr == TSHttpTxnServerAddrGet(txn);  // ATS's current server is the origin, not the next hop
  if (origin && !failed) return TS_EVENT_HTTP_CONTINUE;

  const ArgIndexes& a = args();
  const TxnState st = unpack_state(txn_word(txn, a.state));
  HopState h = unpack_hop(txn_word(txn, a.hop));
  // The table routed with, if this thread still serves it.
  TableEntry* entry = table_at(st.table);
  const MappedTable* table = entry ? cursor_for(*entry->source).get() : nullptr;
  const TableView* view = table ? &table->view() : nullptr;
  const BackendRecord* b = nullptr;
  if (view && generation_tag(view->generation()) == h.generation_tag && h.backend < view->backend_count() &&
      h.first < view->backend(h.backend).endpoint_count)
    b = &view->backend(h.backend);

  // A stale copy ATS may serve when no pod answers (cacheServeStaleS): the
  // failure is ATS's to handle once its attempts are spent (it serves the
  // copy if the route allows one that old, else answers 502 itself).
  int lookup = -1;
  const bool stale_copy =
      TSHttpTxnCacheLookupStatusGet(txn, &lookup) == TS_SUCCESS && lookup == TS_CACHE_LOOKUP_HIT_STALE;
  HopPlan plan = origin ? HopPlan{HopPlan::kGiveUp}
                 : b    ? plan_hop(h.hop, h.first, b->endpoint_count)
                        : HopPlan{failed ? HopPlan::kGiveUp : HopPlan::kLast};
  uint32_t tried = origin || !b ? 1 : std::max(1u, std::min(h.hop, std::min(b->endpoint_count, kMaxHops)));
  uint32_t last = origin ? h.first : h.first + (h.hop ? h.hop - 1 : 0);
  if (plan.kind != HopPlan::kGiveUp) {
    tried = h.hop + 1;  // once this attempt has failed too
    last = h.first + h.hop;
  }
  if (failed && b) {
    // Should ATS answer itself (its attempts spent), the note gives that
    // answer its body.
    TxnNote* n = note(txn);
    n->unreachable = true;
    n->service.assign(view->str(b->service));
    n->port.assign(view->str(b->port));
    n->count = b->endpoint_count;
    n->tried = tried;
    n->last = view->endpoint(b->first_endpoint + last % b->endpoint_count);
  }
  if (plan.kind == HopPlan::kGiveUp) {
    if (stale_copy) return TS_EVENT_HTTP_CONTINUE;
    answer_unreachable(txn, view, b, tried, last, timed_out);
    if (failed && b) note(txn)->unreachable = false;  // answered here, with the body already
    return TS_EVENT_HTTP_ERROR;
  }
  if (failed) {
    TSStatIntIncrement(metrics().connect_retries, 1);
    ATSI_DEBUG("a pod did not accept the connection: trying another (%u of %u)", tried, b ? b->endpoint_count : 0);
  }
  if (plan.kind == HopPlan::kPrepare) {
    const EndpointRecord& next = view->endpoint(b->first_endpoint + plan.position);
    set_server_address(txn, next);
    set_next_hop(txn, next);
  }
  h.hop = std::min(h.hop + 1, kMaxHops);
  set_txn_word(txn, a.hop, pack_hop(h));
  return TS_EVENT_HTTP_CONTINUE;
}

// TS_HTTP_OS_DNS_HOOK, for every transaction: before each attempt of one
// the plugin routed.
int on_os_dns(TSCont, TSEvent, void* edata) {
  auto txn = static_cast<TSHttpTxn>(edata);
  TSEvent next = TS_EVENT_HTTP_CONTINUE;
  if (unpack_state(txn_word(txn, args().state)).flags & kTxnRouted) next = next_hop(txn);
  TSHttpTxnReenable(txn, next);
  return 0;
}

// ------------------------------------------------------------ counting

// Counts a finished transaction in its table's counters (txn_state.h says
// what each counter means). Lock-free, no allocation: a few ATS calls and
// StatsWriter::Thread::count().
void count(TSHttpTxn txn, const TxnState& st) {
  TableEntry* entry = table_at(st.table);
  StatsWriter* writer = entry ? entry->stats.load(std::memory_order_acquire) : nullptr;
  if (!writer) return;  // not (yet) made: before PORTS_INITIALIZED, or it failed (logged)
  uint32_t status = kStatusClientClosed;
  TSMBuffer buf;
  TSMLoc hdr;
  if (TSHttpTxnClientRespGet(txn, &buf, &hdr) == TS_SUCCESS) {
    status = uint32_t(TSHttpHdrStatusGet(buf, hdr));
    TSHandleMLocRelease(buf, TS_NULL_MLOC, hdr);
  }
  int lookup = int(Lookup::kNone);
  if (TSHttpTxnCacheLookupStatusGet(txn, &lookup) != TS_SUCCESS) lookup = int(Lookup::kNone);
  StatsWriter::Thread& t = writer->thread();
  if (t.shared() && !entry->overflow_logged.exchange(true, std::memory_order_relaxed)) [[unlikely]]
    ATSI_ERROR("more threads count requests than --stats-threads %u gives blocks to: the rest share one, counted "
               "with atomic adds; raise --stats-threads to ATS's net threads",
               entry->stats_options.max_threads);
  t.count(st.slot, status, cache_result(Lookup(lookup), (st.flags & kTxnStorable) != 0));
}

// TS_HTTP_TXN_CLOSE_HOOK, for every transaction: counts those that carry a
// stats slot and frees the note.
int on_txn_close(TSCont, TSEvent, void* edata) {
  auto txn = static_cast<TSHttpTxn>(edata);
  const ArgIndexes& a = args();
  if (uintptr_t w = txn_word(txn, a.state)) {
    TxnState st = unpack_state(w);
    if (st.flags & kTxnCounted) count(txn, st);
    if (st.flags & kTxnNote) {
      delete reinterpret_cast<TxnNote*>(txn_word(txn, a.note));
      set_txn_word(txn, a.note, 0);
    }
  }
  TSHttpTxnReenable(txn, TS_EVENT_HTTP_CONTINUE);
  return 0;
}

// TS_HTTP_SEND_RESPONSE_HDR_HOOK of a transaction with a note.
int on_send_response(TSCont, TSEvent, void* edata) {
  auto txn = static_cast<TSHttpTxn>(edata);
  auto* note = reinterpret_cast<TxnNote*>(txn_word(txn, args().note));
  TSMBuffer buf;
  TSMLoc hdr;
  if (note && TSHttpTxnClientRespGet(txn, &buf, &hdr) == TS_SUCCESS) {
    if (!note->location.empty()) {
      // Global mode answers through TS_EVENT_HTTP_ERROR, after which ATS
      // keeps only a status of 400 or more (else 500 "INKApi Error"): set
      // the redirect's status here, where both modes pass.
      const auto status = TSHttpStatus(note->redirect_status);
      TSHttpHdrStatusSet(buf, hdr, status);
      const char* reason = TSHttpHdrReasonLookup(status);
      if (reason) TSHttpHdrReasonSet(buf, hdr, reason, int(std::strlen(reason)));
      add_header(buf, hdr, "Location", note->location);
    }
    if (note->reason) TSHttpHdrReasonSet(buf, hdr, note->reason, int(std::strlen(note->reason)));
    for (const TxnNote::HeaderEdit& e : note->response_edits) apply_header_edit(buf, hdr, e.op, e.name, e.value);
    if (!note->route.empty()) add_header(buf, hdr, "X-ATS-Ingress-Route", note->route);
    if (note->unreachable) {
      // ATS's own 502 or 504 after its attempts were spent (no pod answered:
      // no server response): our body instead of its page. ATS sends the
      // body it holds after this hook and sizes it then.
      TSHttpStatus status = TSHttpHdrStatusGet(buf, hdr);
      TSMBuffer sbuf;
      TSMLoc shdr;
      bool pod_answered = TSHttpTxnServerRespGet(txn, &sbuf, &shdr) == TS_SUCCESS;
      if (pod_answered) TSHandleMLocRelease(sbuf, TS_NULL_MLOC, shdr);
      if (!pod_answered && (status == TS_HTTP_STATUS_BAD_GATEWAY || status == TS_HTTP_STATUS_GATEWAY_TIMEOUT)) {
        TSServerState state = TSHttpTxnServerStateGet(txn);
        char body[512];
        size_t n = unreachable_body(note->service, note->port, note->tried, note->count, &note->last,
                                    state == TS_SRVSTATE_INACTIVE_TIMEOUT || state == TS_SRVSTATE_ACTIVE_TIMEOUT,
                                    body, sizeof body);
        TSHttpTxnErrorBodySet(txn, TSstrndup(body, int64_t(n)), n, TSstrdup("text/plain; charset=utf-8"));
        TSStatIntIncrement(metrics().requests_unreachable, 1);
      }
    }
    TSHandleMLocRelease(buf, TS_NULL_MLOC, hdr);
  }
  TSHttpTxnReenable(txn, TS_EVENT_HTTP_CONTINUE);
  return 0;
}

// The process's global hooks, added once (by the first router, in either
// mode; verify runs add them too and never call them).
void install_global_hooks() {
  static std::once_flag once;
  std::call_once(once, [] {
    args();
    note_cont = TSContCreate(on_send_response, nullptr);
    TSHttpHookAdd(TS_HTTP_OS_DNS_HOOK, TSContCreate(on_os_dns, nullptr));
    TSHttpHookAdd(TS_HTTP_TXN_CLOSE_HOOK, TSContCreate(on_txn_close, nullptr));
  });
}

// PURGE and PUSH (client_policy.h): kRefused has answered 403.
enum class CacheAdmin { kNo, kLocal, kRefused };
CacheAdmin check_cache_admin(TSHttpTxn txn, TSMBuffer buf, TSMLoc hdr) {
  int len = 0;
  const char* m = TSHttpHdrMethodGet(buf, hdr, &len);
  if (!m || len <= 0 || !is_cache_admin_method(std::string_view(m, size_t(len)))) return CacheAdmin::kNo;
  if (is_loopback(TSHttpTxnClientAddrGet(txn))) return CacheAdmin::kLocal;
  set_error_body(txn, 403, kCacheAdminRefused.data(), kCacheAdminRefused.size());
  TSStatIntIncrement(metrics().cache_admin_refused, 1);
  ATSI_DEBUG("%.*s from outside the pod: refused", len, m);
  return CacheAdmin::kRefused;
}

}  // namespace

Router* Router::create(const PluginConfig& config, Error& error) {
  metrics();
  const ArgIndexes& a = args();
  if (a.state < 0 || a.hop < 0 || a.note < 0) {
    error = {ErrorCode::kSystem, "cannot reserve a transaction argument"};
    return nullptr;
  }
  TableEntry* table = shared_table(config, error);
  if (!table) return nullptr;
  install_global_hooks();
  auto* r = new Router(config, *table);
  r->cache_cont_ = TSContCreate(on_cache_event, nullptr);
  ATSI_DEBUG("router for table %s (debug header %s, poll %u ms, stats %u slots x %u threads)", config.table.c_str(),
             config.debug_header ? "on" : "off", config.poll_ms, config.stats_slots, config.stats_threads);
  return r;
}

Router::~Router() {
  if (cache_cont_) TSContDestroy(cache_cont_);
}

Router::Result Router::route(TSHttpTxn txn, TSMBuffer buf, TSMLoc hdr, TSMLoc url, std::string_view host, bool count) {
  ReaderCursor& cursor = cursor_for(*table_.source);
  const MappedTable* table = cursor.get();
  RequestFacts req;
  req.host = host;
  // The path with its params: matched on as the pod will read it (names.h).
  char path_buf[kPathBufferSize];
  req.path = path_of(buf, url, path_buf);
  req.client_tls = TSHttpTxnClientProtocolStackContains(txn, "tls") != nullptr;

  const TableView* view = table ? &table->view() : nullptr;
  // A connection to a Gateway's address and port is the Gateway API's; the
  // local address is read only when the table has Gateways at all.
  if (view && view->gateway_listener_count() > 0) {
    uint8_t bytes[16];
    GatewayRequest g;
    if (local_address(txn, bytes, g)) {
      if (std::optional<Result> r = route_gateway(txn, buf, hdr, url, count, cursor, *view, req, g)) return *r;
    }
  }
  Decision d = decide(view, cursor.balancer(), req, config_.pass_unknown_hosts);
  const Metrics& m = metrics();
  // The state word: which table, and the stats slot when the decision had
  // a backend that names one (routed, redirected, or 503 for it).
  TxnState st;
  st.table = table_.index;
  if (count && d.options.stats_slot != kNone && d.match.backend != kNone) {
    st.flags |= kTxnCounted;
    st.slot = d.options.stats_slot;
  }
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
      if (st.flags) set_txn_word(txn, args().state, pack_state(st));
      return Result::kAnswered;
    }
    case Action::kRedirect: {
      TSStatIntIncrement(m.redirected, 1);
      char location[kUrlBufferSize];
      size_t n = redirect_location(req, query_of(buf, url), location, sizeof location);
      if (n > 0) note(txn, &st)->location.assign(location, n);
      static constexpr char kBody[] = "308 use https\n";
      set_error_body(txn, 308, kBody, sizeof kBody - 1);
      if (st.flags) set_txn_word(txn, args().state, pack_state(st));
      return Result::kAnswered;
    }
    case Action::kRoute:
      break;
  }
  return forward(txn, buf, hdr, url, req, *view, d, st, nullptr);
}

Router::Result Router::forward(TSHttpTxn txn, TSMBuffer buf, TSMLoc hdr, TSMLoc url, const RequestFacts& req,
                               const TableView& table, const Decision& d, TxnState st, const GatewayForward* gw) {
  const TableView* view = &table;
  const Metrics& m = metrics();
  // The pod's address as text only when it is needed (a Host that is not a
  // name, and debug lines): inet_ntop is a quarter of route()'s own cost.
  char address[64];
  size_t alen = 0;
  // The host as matched: in the cache key and in the URL (routed_url_host
  // says why not the pod's address, which ATS gets below). A request that
  // matched an exact host has it in the table already, normalized and
  // checked by the writer: the lookup found it by those very bytes, so
  // normalizing the Host again (and checking its characters) is skipped,
  // about 240 of the plugin's 2,000 instructions of a cache hit.
  char host_buf[kHostBufferSize];
  const HostRecord* matched = !gw && d.match.host != kNone ? &view->host(d.match.host) : nullptr;
  std::string_view url_host = matched && matched->kind == kHostExact ? view->str(matched->name)
                                                                     : routed_url_host(req.host, host_buf);
  bool url_keyed = false;
  st.flags |= kTxnRouted | apply_cache(txn, buf, hdr, url, req, url_host, d.options, cache_cont_,
                                       url_keyed);  // before the URL changes
  if (gw) {
    // URLRewrite: the path and Host the pod receives; the cache key (set
    // above) stays the client's URL.
    if (gw->has_path) {
      std::string_view p = gw->path.substr(gw->path.empty() || gw->path[0] != '/' ? 0 : 1);
      TSUrlPathSet(buf, url, p.data(), int(p.size()));
    }
    if (!gw->host.empty()) set_host_header(buf, hdr, gw->host);
    if (config_.debug_header) note(txn, &st)->route = gw->description;
  } else if (config_.debug_header) {
    note(txn, &st)->route = route_description(*view, d);
  }
  if (url_host.empty()) {
    alen = endpoint_address_text(*d.endpoint, address, sizeof address);
    url_host = std::string_view(address, alen);
  }
  // A URL that carries the cache key has the host already, and the scheme
  // too when the client's is the pod's.
  if (!url_keyed || (d.scheme == kSchemeHttps) != req.client_tls)
    TSUrlSchemeSet(buf, url, d.scheme == kSchemeHttps ? TS_URL_SCHEME_HTTPS : TS_URL_SCHEME_HTTP,
                   d.scheme == kSchemeHttps ? TS_URL_LEN_HTTPS : TS_URL_LEN_HTTP);
  if (!url_keyed) TSUrlHostSet(buf, url, url_host.data(), int(url_host.size()));
  TSUrlPortSet(buf, url, d.endpoint->port);
  // The address, so ATS looks nothing up, and when the backend has another
  // pod to retry on, the next hop (see "a pod that does not accept the
  // connection" above). A backend of one pod stays on ATS's origin path,
  // which costs less per request; its OS_DNS hook answers a refused
  // connection 502 at once.
  set_server_address(txn, *d.endpoint);
  const BackendRecord& b = view->backend(d.match.backend);
  const uint32_t position = uint32_t(d.endpoint - &view->endpoint(0)) - b.first_endpoint;
  if (fits_hop_word(d.match.backend, position)) {
    if (b.endpoint_count > 1) set_next_hop(txn, *d.endpoint);
    set_txn_word(txn, args().hop, pack_hop(HopState{generation_tag(view->generation()), 0, position, d.match.backend}));
  }
  apply_options(txn, buf, hdr, d.options);
  set_txn_word(txn, args().state, pack_state(st));
  TSStatIntIncrement(m.routed, 1);
  if (TSIsDebugTagSet(kDebugTag)) {
    if (alen == 0) alen = endpoint_address_text(*d.endpoint, address, sizeof address);
    ATSI_DEBUG("\"%.*s\" \"/%.*s\" -> %.*s:%u", int(req.host.size()), req.host.data(), int(req.path.size()),
               req.path.data(), int(alen), address, unsigned(d.endpoint->port));
  }
  return Result::kRouted;
}

std::optional<Router::Result> Router::route_gateway(TSHttpTxn txn, TSMBuffer buf, TSMLoc hdr, TSMLoc url, bool count,
                                     ReaderCursor& cursor, const TableView& view, const RequestFacts& req,
                                     GatewayRequest& g) {
  const Metrics& m = metrics();
  g.host = req.host;
  g.path = req.path;
  g.query = query_of(buf, url);
  int mlen = 0;
  const char* method = TSHttpHdrMethodGet(buf, hdr, &mlen);
  g.method = method && mlen > 0 ? std::string_view(method, size_t(mlen)) : std::string_view();
  HeaderSource headers{buf, hdr};
  g.header_equals = header_equals;
  g.header_ctx = &headers;
  const GatewayMatch gm = gateway_lookup(view, g, next_random());

  TxnState st;
  st.table = table_.index;
  int status = 0;
  switch (gm.outcome) {
    case GatewayOutcome::kNotGateway:
      return std::nullopt;  // no listener on this address and port: the Ingress routes'
    case GatewayOutcome::kRouted:
      break;
    case GatewayOutcome::kRedirect: {
      const GatewayFilterRecord* f = gateway_redirect_filter(view, gm);
      char location[kUrlBufferSize];
      size_t n = gateway_redirect_location(view, gm, g, req.client_tls, location, sizeof location);
      if (n == 0 || n >= sizeof location) {
        static constexpr char kBody[] = "500 the redirect's Location cannot be made from this request\n";
        set_error_body(txn, 500, kBody, sizeof kBody - 1);
        TSStatIntIncrement(m.unavailable, 1);
        return Result::kAnswered;
      }
      TxnNote* nt = note(txn, &st);
      nt->location.assign(location, n);
      nt->redirect_status = f ? int(f->status_code) : 302;
      char body[64];
      int bn = std::snprintf(body, sizeof body, "%d redirected\n", nt->redirect_status);
      set_error_body(txn, nt->redirect_status, body, size_t(std::max(bn, 0)));
      TSStatIntIncrement(m.redirected, 1);
      set_txn_word(txn, args().state, pack_state(st));
      return Result::kAnswered;
    }
    case GatewayOutcome::kAmbiguousPath:
      status = 400;
      break;
    case GatewayOutcome::kFailure:
    case GatewayOutcome::kInvalidBackend:
      status = 500;
      break;
    case GatewayOutcome::kNoEndpoints:
      status = 503;
      break;
    case GatewayOutcome::kNoListener:
    case GatewayOutcome::kNoRule:
    case GatewayOutcome::kPathTooLong:
      status = 404;
      break;
  }
  if (status != 0) {
    char body[512];
    size_t n = gateway_answer_body(status, view, gm, body, sizeof body);
    ATSI_DEBUG("gateway: host \"%.*s\" path \"/%.*s\": %.*s", int(req.host.size()), req.host.data(),
               int(req.path.size()), req.path.data(), int(n > 0 && body[n - 1] == '\n' ? n - 1 : n), body);
    set_error_body(txn, status, body, n);
    TSStatIntIncrement(status == 404 ? m.not_found : m.unavailable, 1);
    return Result::kAnswered;
  }

  Decision d;
  d.table = &view;
  d.action = Action::kRoute;
  d.status = 200;
  d.match.outcome = Outcome::kRouted;
  d.match.backend = gm.backend;
  const BackendRecord& b = view.backend(gm.backend);
  d.options = view.options(b);
  d.scheme = Scheme(b.scheme);
  d.endpoint = &view.endpoint(cursor.balancer().pick(view, gm.backend));
  if (count && d.options.stats_slot != kNone) {
    st.flags |= kTxnCounted;
    st.slot = d.options.stats_slot;
  }
  GatewayForward fw;
  for_each_gateway_filter(view, gm, [&](const GatewayFilterRecord& f) {
    switch (FilterKind(f.kind)) {
      case FilterKind::kRequestHeaderModifier:
        apply_header_edits(view, f, buf, hdr);
        break;
      case FilterKind::kResponseHeaderModifier: {
        TxnNote* nt = note(txn, &st);
        for (uint32_t i = 0; i < f.set_count; ++i) {
          const GatewayPairRecord& p = view.gateway_pair(f.first_set + i);
          nt->response_edits.push_back({kHeaderSet, std::string(view.str(p.name)), std::string(view.str(p.value))});
        }
        for (uint32_t i = 0; i < f.add_count; ++i) {
          const GatewayPairRecord& p = view.gateway_pair(f.first_add + i);
          nt->response_edits.push_back({kHeaderAdd, std::string(view.str(p.name)), std::string(view.str(p.value))});
        }
        for (uint32_t i = 0; i < f.remove_count; ++i)
          nt->response_edits.push_back({kHeaderRemove, std::string(view.str(view.gateway_pair(f.first_remove + i).name)), {}});
        break;
      }
      case FilterKind::kURLRewrite:
        if (f.hostname.length) fw.host = view.str(f.hostname);
        break;
      case FilterKind::kRequestRedirect:
        break;
    }
  });
  char path_buf[kPathBufferSize];
  size_t pn = gateway_rewritten_path(view, gm, g, path_buf, sizeof path_buf);
  if (pn != SIZE_MAX && pn < sizeof path_buf) {
    fw.has_path = true;
    fw.path = std::string_view(path_buf, pn);
  }
  if (config_.debug_header) {
    const GatewayListenerRecord& l = view.gateway_listener(gm.listener);
    const GatewayRuleRecord& r = view.gateway_rule(gm.rule);
    char address[64];
    size_t alen = endpoint_address_text(*d.endpoint, address, sizeof address);
    fw.description = "gateway=" + std::string(view.str(l.gateway)) + " listener=" + std::string(view.str(l.listener)) +
                     " httproute=" + std::string(view.str(r.route)) + " rule=" + std::to_string(r.rule_index) +
                     " service=" + std::string(view.str(b.service)) + ":" + std::string(view.str(b.port)) +
                     " endpoint=" + std::string(address, alen) + ":" + std::to_string(d.endpoint->port) +
                     " generation=" + std::to_string(view.generation());
  }
  return forward(txn, buf, hdr, url, req, view, d, st, &fw);
}

void Router::on_read_request(TSHttpTxn txn) {
  TSEvent next = TS_EVENT_HTTP_CONTINUE;
  TSMBuffer buf;
  TSMLoc hdr, url;
  if (!TSHttpTxnIsInternal(txn) && TSHttpTxnClientReqGet(txn, &buf, &hdr) == TS_SUCCESS) {
    CacheAdmin admin = check_cache_admin(txn, buf, hdr);
    if (admin == CacheAdmin::kRefused) {
      next = TS_EVENT_HTTP_ERROR;
    } else if (TSHttpHdrUrlGet(buf, hdr, &url) == TS_SUCCESS) {
      const std::string_view host = host_of(buf, hdr, url);
      Result result = tls_ && !tls_->on_request(txn, buf, hdr, host)
                          ? misdirected(txn)
                          : route(txn, buf, hdr, url, host, admin == CacheAdmin::kNo);
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
  CacheAdmin admin = check_cache_admin(txn, rri->requestBufp, rri->requestHdrp);
  if (admin == CacheAdmin::kRefused) return TSREMAP_NO_REMAP_STOP;
  switch (route(txn, rri->requestBufp, rri->requestHdrp, rri->requestUrl,
                host_of(rri->requestBufp, rri->requestHdrp, rri->requestUrl), admin == CacheAdmin::kNo)) {
    case Result::kRouted:
      return TSREMAP_DID_REMAP;
    case Result::kDeclined:  // remap mode answers every request itself
    case Result::kAnswered:
      return TSREMAP_NO_REMAP_STOP;
  }
  return TSREMAP_NO_REMAP_STOP;
}

}  // namespace atsi::plugin
