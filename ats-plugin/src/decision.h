// What to do with one request, decided from the table alone. No ts.h: the
// ATS glue (router.cc) only carries the decision out, and this part is tested
// without ATS.
#pragma once

#include <cstddef>
#include <string_view>

#include "balancer.h"
#include "lookup.h"
#include "table_view.h"

namespace atsi::plugin {

struct RequestFacts {
  std::string_view host;   // Host header (or URL host), as sent
  std::string_view path;   // without the leading '/', as ATS gives it
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

}  // namespace atsi::plugin
