// What to do with one request, decided from the table alone, and the texts
// that carry it out (answer body, cache key, redirect Location, debug
// header). No ts.h: the ATS glue (router.cc) only applies the decision, and
// this part is tested without ATS.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "balancer.h"
#include "gateway_lookup.h"
#include "lookup.h"
#include "names.h"
#include "table_view.h"

namespace atsi::plugin {

struct RequestFacts {
  std::string_view host;   // Host header (or URL host), as sent
  std::string_view path;   // without the leading '/', as ATS gives it, with ";" and the params (path_of)
  bool client_tls = false;
};

enum class Action : uint8_t {
  kDecline,   // not ours: global mode lets remap.config have it
  kRoute,     // send to `endpoint`
  kAnswer,    // answer `status`, saying why (answer_body)
  kRedirect,  // 308 to https
};

struct Decision {
  Action action = Action::kAnswer;
  int status = 0;
  const TableView* table = nullptr;  // null: nothing published yet
  Match match;
  const EndpointRecord* endpoint = nullptr;
  Scheme scheme = kSchemeHttp;
  // The backend's options: for kRoute and kRedirect, and for a 503 of a
  // backend that has no ready endpoint (its stats slot counts the answer).
  BackendOptionsView options;
};

// `table` may be null (nothing published yet): 503.
Decision decide(const TableView* table, Balancer& balancer, const RequestFacts& req, bool decline_unknown_hosts);

// "10.0.0.1" or "2001:db8::1" into `buf` (at least 46 bytes); returns the length.
size_t endpoint_address_text(const EndpointRecord& e, char* buf, size_t size);

// The body of an answer: "<status> <outcome_text>\n", or "503 no route table
// has been published yet\n" before there is a table. Returns the length
// written, cut to fit `size` (a body is for people; a cut one still says
// why). No allocation.
size_t answer_body(const Decision& d, char* buf, size_t size);

// The same for a Gateway API answer of `status` (gateway_lookup.h): "<status>
// <gateway_outcome_text>\n", cut to fit. No allocation.
size_t gateway_answer_body(int status, const TableView& table, const GatewayMatch& m, char* buf, size_t size);

// The body of a 502 (or 504) when no pod of the backend accepted the
// connection: `tried` of the backend's `count` endpoints were tried, the
// last at `last` (may be null), and the last failure was a refusal or, with
// `timed_out`, a connect timeout. Returns the length written, cut to fit
// like answer_body(). No allocation.
size_t unreachable_body(std::string_view service, std::string_view port, uint32_t tried, uint32_t count,
                        const EndpointRecord* last, bool timed_out, char* buf, size_t size);

// The URLs below are "<scheme>://<host>/<path>[?<query>]", with `query` as
// ATS gives it (without the '?'; an empty one adds no '?'). Each returns the
// length written, or 0 with `buf` emptied when the URL does not fit `size`:
// a cut URL would name another resource. No allocation.

// The cache key: the URL the client asked for, so that a cached object does
// not depend on the pod that served it, with the host as matched (lowercase,
// without a port or a trailing dot: `A.com:80` and `a.com` share objects),
// the scheme kept (http and https objects stay apart), and the query left
// out when the backend's options say cacheIgnoreQuery. 0 as well when the
// host cannot be part of a URL (empty, too long, or with a character no
// host name or IPv6 literal has, such as '/' or '?', which could make the
// key of another URL): the caller must then not cache.
size_t cache_key_url(const RequestFacts& req, const BackendOptionsView& options, std::string_view query, char* buf,
                     size_t size);
// The same for a request whose host routed_url_host() gave already (empty:
// no key), so that the host is normalized once per request.
size_t cache_key_url(std::string_view key_host, const RequestFacts& req, const BackendOptionsView& options,
                     std::string_view query, char* buf, size_t size);

// The length cache_key_url() gives (0: no key), without writing it: the
// router sets the key as a URL object when it can, and needs only to know
// that the text would fit.
size_t cache_key_size(std::string_view key_host, const RequestFacts& req, const BackendOptionsView& options,
                      std::string_view query);

// The host a routed request's URL carries: the host as matched (as in the
// cache key), or empty when it could not stand in a URL. Not the pod's
// address: ATS sends a request whose URL host is "127.0.0.1" straight to
// its origin, past the next hop that retries on another pod (router.cc).
// `buf` holds the result.
std::string_view routed_url_host(std::string_view host, char (&buf)[kHostBufferSize]);

// The Location of a redirect to https: the host as matched (lowercase,
// without the client's port or a trailing dot), the path and query as sent.
size_t redirect_location(const RequestFacts& req, std::string_view query, char* buf, size_t size);

// The X-ATS-Ingress-Route header (off by default): "host=... path=...
// type=... ingress=... service=ns/name:port endpoint=addr:port
// generation=N", with the parts the decision has. Allocates: debug only.
std::string route_description(const TableView& table, const Decision& d);

}  // namespace atsi::plugin
