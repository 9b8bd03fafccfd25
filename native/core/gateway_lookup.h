// The Gateway API's routing decision (src/model/table-model.ts, "the
// Gateway API", is the contract; src/model/gateway/ the reference it is
// tested against): the listener by the connection's local address and port
// and the request's host, then the first entry of its pool that the request
// meets, then a backend of the rule by weight. No allocation, no locks: the
// plugin calls it per request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "table_view.h"

namespace atsi {

// What the lookup reads of a request. Header values are read through a
// callback so that the plugin can answer from ATS's header heap without
// copying: it returns whether the request's header `lower_name` (repeated
// headers joined with ',', RFC 9110) equals `value` exactly.
struct GatewayRequest {
  uint8_t family = 0;           // 4 or 6: of the local address
  const uint8_t* address = nullptr;  // 16 bytes, network order, IPv4 in the first 4
  uint16_t port = 0;            // local port
  std::string_view host;        // as sent (any case, maybe ":port")
  std::string_view path;        // as lookup() takes it: with or without the leading '/', no query
  std::string_view query;       // without the '?'
  std::string_view method;
  bool (*header_equals)(const void* ctx, std::string_view lower_name, std::string_view value) = nullptr;
  const void* header_ctx = nullptr;
};

enum class GatewayOutcome : uint8_t {
  kNotGateway,     // no listener of any Gateway on this address and port: the Ingress table's
  kNoListener,     // 404: listeners there, none for this host
  kNoRule,         // 404: the listener has no entry this request meets
  kAmbiguousPath,  // 400: as lookup()'s Reason::kAmbiguousPath
  kPathTooLong,    // 404
  kFailure,        // 500: the rule answers 500 (its `failure`)
  kInvalidBackend, // 500: the backend chosen by weight is invalid (its `problem`)
  kNoEndpoints,    // 503: the backend chosen has no ready endpoint
  kRedirect,       // a RequestRedirect filter answers (gateway_redirect_location)
  kRouted,         // forward to `backend`, after the filters
};

struct GatewayMatch {
  GatewayOutcome outcome = GatewayOutcome::kNotGateway;
  uint32_t listener = kNone;
  uint32_t entry = kNone;
  uint32_t rule = kNone;
  uint32_t choice = kNone;   // index into the choices section, when one was chosen
  uint32_t backend = kNone;  // for kRouted and kNoEndpoints
};

// `random` picks among the rule's choices by weight (any 32-bit value; the
// plugin gives its per-thread generator's next one).
GatewayMatch gateway_lookup(const TableView& table, const GatewayRequest& req, uint32_t random);

// Whether any Gateway listener is on this local address and port: cheap, for
// requests of the Ingress table to skip the rest.
bool gateway_listens(const TableView& table, uint8_t family, const uint8_t* address, uint16_t port);

// The Location of a kRedirect match, per HTTPRequestRedirectFilter: scheme,
// hostname, port (left out when it is the scheme's well-known one) and path
// (ReplaceFullPath, ReplacePrefixMatch of the entry's prefix, or the
// request's), then the query as sent. `client_tls` gives the request's
// scheme. Like snprintf: returns the whole length; 0 when the request's host
// cannot stand in a URL. No allocation.
size_t gateway_redirect_location(const TableView& table, const GatewayMatch& m, const GatewayRequest& req,
                                 bool client_tls, char* buf, size_t size);

// The path a URLRewrite filter of a kRouted match sends upstream (with the
// leading '/', without the query), into `buf`; returns its length, or
// SIZE_MAX when no filter rewrites the path (the request's is sent). No
// allocation.
size_t gateway_rewritten_path(const TableView& table, const GatewayMatch& m, const GatewayRequest& req, char* buf,
                              size_t size);

// Why a match that does not route answers as it does, for people (bodies,
// the addon's `reason`): like outcome_text().
size_t gateway_outcome_text(const TableView& table, const GatewayMatch& m, char* buf, size_t size);

// The filters of a matched rule, then of its chosen backend, in order: the
// plugin applies the header modifiers and the URLRewrite hostname from
// these (a filter's headers are table.gateway_pair(first_set + i), ...).
// Calls `fn(const GatewayFilterRecord&)` for each.
template <typename Fn>
void for_each_gateway_filter(const TableView& table, const GatewayMatch& m, Fn&& fn) {
  if (m.rule == kNone) return;
  const GatewayRuleRecord& r = table.gateway_rule(m.rule);
  for (uint32_t f = r.first_filter; f < r.first_filter + r.filter_count; ++f) fn(table.gateway_filter(f));
  if (m.choice == kNone) return;
  const GatewayChoiceRecord& c = table.gateway_choice(m.choice);
  for (uint32_t f = c.first_filter; f < c.first_filter + c.filter_count; ++f) fn(table.gateway_filter(f));
}

// The RequestRedirect filter that answers a kRedirect match (its status
// code is the answer's): the rule's, else the chosen backend's; nullptr
// when there is none.
const GatewayFilterRecord* gateway_redirect_filter(const TableView& table, const GatewayMatch& m);

}  // namespace atsi
