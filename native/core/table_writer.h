// Turns a TableInput into table bytes. Pure: no I/O, no global state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "errors.h"
#include "format.h"
#include "table_input.h"

namespace atsi {

// Fills `out` with a complete table, or returns kInvalidModel with a message
// naming the offending element (e.g. "hosts[2].rules[0].path: ...").
// build_routing() then build_table_from().
Error build_table(const TableInput& input, uint64_t generation, uint64_t build_time_ms,
                  std::vector<uint8_t>& out);

struct GatewaySections {
  std::vector<GatewayListenerRecord> listeners;
  std::vector<GatewayEntryRecord> entries;
  std::vector<GatewayPairRecord> pairs;
  std::vector<GatewayRuleRecord> rules;
  std::vector<GatewayChoiceRecord> choices;
  std::vector<GatewayFilterRecord> filters;
};

// What a table's hosts, rules and Gateway part make, apart from the
// backends: their records, key entries and indexes, and their strings, which
// come first in the string pool. It refers to backends by index only, so
// one kept from an earlier build serves a model with other backends (other
// endpoints, options, problems) as long as every index it names exists.
struct RoutingSections {
  std::string strings;
  std::vector<HostRecord> hosts;
  std::vector<RuleRecord> rules;
  std::vector<KeySlot> host_index, wildcard_index, rule_index;
  std::string host_keys, rule_keys;
  GatewaySections gateway;
  uint32_t catch_all = kNone;
  uint32_t max_backend = kNone;  // the highest backend index it names, or kNone
};

// The routing of `input` (its hosts and Gateway part), checked against
// `backend_count` backends; kInvalidModel naming the element otherwise.
Error build_routing(const TableInput& input, size_t backend_count, RoutingSections& out);

// The table of `routing` and the backends and default backend of `input`
// (its hosts and Gateway part are not read). Byte for byte what
// build_table() makes of a model with that routing and those backends.
Error build_table_from(const RoutingSections& routing, const TableInput& input, uint64_t generation,
                       uint64_t build_time_ms, std::vector<uint8_t>& out);

// The checksum stored in Header::checksum, computed over `size` bytes.
uint64_t table_checksum(const uint8_t* data, size_t size);

}  // namespace atsi
