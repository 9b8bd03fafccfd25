// The Gateway API's per-request work on ATS's headers: reading the
// connection's local address (which Gateway a request belongs to), matching
// header values for gateway_lookup(), and applying a header modifier's set,
// add and remove. No routing logic: that is native/core/gateway_lookup.h.
#pragma once

#include <ts/ts.h>

#include <cstdint>
#include <string_view>

#include "gateway_lookup.h"

namespace atsi::plugin {

// The local address and port the transaction's client connection arrived
// on, into `req` (family, address, port); `bytes` holds the address. False
// when ATS gives none or it is not IPv4 or IPv6.
bool local_address(TSHttpTxn txn, uint8_t (&bytes)[16], GatewayRequest& req);

// The request headers gateway_lookup() reads header matches from.
struct HeaderSource {
  TSMBuffer buf;
  TSMLoc hdr;
};

// GatewayRequest::header_equals over a HeaderSource: the values of every
// field named `lower_name` (any case), joined with ',' as RFC 9110 combines
// them, equal to `value`. No copy: compared piece by piece.
bool header_equals(const void* source, std::string_view lower_name, std::string_view value);

// A header modifier on (buf, hdr): every `set` replaces the field's values
// (added when absent); every `add` appends its value to the field's, as
// "old,new" (added when absent); every `remove` drops the field. `table`
// gives the names and values.
void apply_header_edits(const TableView& table, const GatewayFilterRecord& f, TSMBuffer buf, TSMLoc hdr);

// One edit of a header modifier: op 0 set, 1 add, 2 remove (value unused).
enum HeaderEditOp : uint8_t { kHeaderSet = 0, kHeaderAdd = 1, kHeaderRemove = 2 };
void apply_header_edit(TSMBuffer buf, TSMLoc hdr, uint8_t op, std::string_view name, std::string_view value);

}  // namespace atsi::plugin
