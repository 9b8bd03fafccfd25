// A read-only view of table bytes that has passed validation. Once
// validate() accepts a buffer, every offset, length and index in it is known
// to be in bounds, so lookups follow them without further checks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "errors.h"
#include "format.h"

namespace atsi {

// A backend's options as the plugin applies them: read from the table per
// request by TableView::options(), a few words on the stack, no allocation.
struct BackendOptionsView {
  uint32_t connect_timeout_ms = 0;   // 0: ATS's default
  uint32_t response_timeout_ms = 0;  // 0: ATS's default
  bool redirect_to_https = false;
  uint8_t cache_policy = 0;
  bool cache_ignore_query = false;
  std::string_view upstream_host;
  uint32_t cache_default_ttl_s = 0;  // 0: none (ATS stores only explicit freshness)
  uint32_t cache_max_ttl_s = 0;      // 0: none (ATS's own bound)
  uint32_t cache_serve_stale_s = 0;  // 0: none
  uint32_t cache_generation = kNone;  // kNone: none (ATS's default generation)
  uint32_t stats_slot = kNone;        // kNone: not counted
  // Bit 1 << OptionType for each option the table carries with a value of
  // the right size: what was written, for readers that give the options
  // back (the addon's read()), where false and absent differ.
  uint32_t present = 0;

  bool has(OptionType t) const { return (present >> t) & 1u; }
  // Whether any per-route cache option is set (bypass aside).
  bool any_cache_option() const {
    return cache_default_ttl_s || cache_max_ttl_s || cache_serve_stale_s || cache_ignore_query ||
           cache_generation != kNone;
  }
};

class TableView {
 public:
  TableView() = default;

  // Checks magic, version, sizes, checksum and every reference. On failure
  // returns kInvalidTable with the reason and leaves `view` untouched.
  static Error validate(const uint8_t* data, size_t size, TableView& view);

  const Header& header() const { return *header_; }
  uint64_t generation() const { return header_->generation; }

  uint32_t host_count() const { return host_count_; }
  uint32_t rule_count() const { return rule_count_; }
  uint32_t backend_count() const { return backend_count_; }
  uint32_t endpoint_count() const { return endpoint_count_; }

  const HostRecord& host(uint32_t i) const { return hosts_[i]; }
  const RuleRecord& rule(uint32_t i) const { return rules_[i]; }
  const BackendRecord& backend(uint32_t i) const { return backends_[i]; }
  const EndpointRecord& endpoint(uint32_t i) const { return endpoints_[i]; }
  std::string_view str(StrRef r) const { return {strings_ + r.offset, r.length}; }
  std::string_view rule_match_key(const RuleRecord& r) const {
    return {strings_ + r.path.offset, r.match_length};
  }

  BackendOptionsView options(const BackendRecord& b) const;

  // Index probes; kNone when absent.
  uint32_t find_exact_host(std::string_view host) const;
  uint32_t find_wildcard_host(std::string_view suffix) const;
  uint32_t find_rule(uint32_t host, bool exact, std::string_view key) const;

 private:
  const Header* header_ = nullptr;
  const char* strings_ = nullptr;
  const HostRecord* hosts_ = nullptr;
  const RuleRecord* rules_ = nullptr;
  const BackendRecord* backends_ = nullptr;
  const EndpointRecord* endpoints_ = nullptr;
  const uint8_t* options_ = nullptr;
  const IndexSlot* host_index_ = nullptr;
  const IndexSlot* wildcard_index_ = nullptr;
  const IndexSlot* rule_index_ = nullptr;
  uint32_t strings_size_ = 0, host_count_ = 0, rule_count_ = 0, backend_count_ = 0,
           endpoint_count_ = 0, options_size_ = 0;
  uint32_t host_mask_ = 0, wildcard_mask_ = 0, rule_mask_ = 0;
};

}  // namespace atsi
