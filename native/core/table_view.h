// A read-only view of table bytes that has passed validation. Once
// validate() accepts a buffer, every offset, length and index in it is known
// to be in bounds, so lookups follow them without further checks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "errors.h"
#include "format.h"
#include "hash.h"

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

  // The Gateway API's records (format.h), in bounds once validated: every
  // index a record holds names a record of its section (or is kNone where
  // the format allows it), every StrRef lies in the pool.
  uint32_t gateway_listener_count() const { return gw_listener_count_; }
  uint32_t gateway_entry_count() const { return gw_entry_count_; }
  uint32_t gateway_pair_count() const { return gw_pair_count_; }
  uint32_t gateway_rule_count() const { return gw_rule_count_; }
  uint32_t gateway_choice_count() const { return gw_choice_count_; }
  uint32_t gateway_filter_count() const { return gw_filter_count_; }
  const GatewayListenerRecord& gateway_listener(uint32_t i) const { return gw_listeners_[i]; }
  const GatewayEntryRecord& gateway_entry(uint32_t i) const { return gw_entries_[i]; }
  const GatewayPairRecord& gateway_pair(uint32_t i) const { return gw_pairs_[i]; }
  const GatewayRuleRecord& gateway_rule(uint32_t i) const { return gw_rules_[i]; }
  const GatewayChoiceRecord& gateway_choice(uint32_t i) const { return gw_choices_[i]; }
  const GatewayFilterRecord& gateway_filter(uint32_t i) const { return gw_filters_[i]; }
  std::string_view gateway_match_key(const GatewayEntryRecord& e) const {
    return {strings_ + e.path.offset, e.match_length};
  }

  // Index probes; kNone when absent.
  uint32_t find_exact_host(std::string_view host) const;
  uint32_t find_wildcard_host(std::string_view suffix) const;
  uint32_t find_rule(uint32_t host, bool exact, std::string_view key) const;

  // What lookups read (format.h's HostKey and RuleKey, checked against
  // their records by validate()): the entries, and probes that return them
  // (nullptr when absent) given the key's index_hash with the index's seed
  // (host_seed(), wildcard_seed(), rule_seed(host)).
  const HostKey& host_key(uint32_t host) const { return host_key_at(hosts_[host].key); }
  const RuleKey& rule_key(uint32_t rule) const { return rule_key_at(rules_[rule].key); }
  static std::string_view key_bytes(const HostKey& k) { return {reinterpret_cast<const char*>(&k + 1), k.length}; }
  static std::string_view key_bytes(const RuleKey& k) { return {reinterpret_cast<const char*>(&k + 1), k.length}; }
  const HostKey* probe_exact_host(std::string_view host, uint64_t hash) const {
    return probe_host(host_index_, host_mask_, kHostExact, host, hash);
  }
  const HostKey* probe_wildcard_host(std::string_view suffix, uint64_t hash) const {
    return probe_host(wildcard_index_, wildcard_mask_, kHostWildcard, suffix, hash);
  }
  const RuleKey* probe_rule(uint32_t host, bool exact, std::string_view key, uint64_t hash) const {
    const uint32_t tag = rule_tag(hash, exact);
    for (uint32_t i = slot_home(hash, rule_mask_), n = 0; n <= rule_mask_; i = (i + 1) & rule_mask_, ++n) {
      const KeySlot s = rule_index_[i];
      if (s.entry == kNone) return nullptr;
      if (s.tag != tag) continue;
      const RuleKey& k = rule_key_at(s.entry);
      if (k.host == host && k.length == key.size() && k.exact == (exact ? 1 : 0) &&
          same_bytes(&k + 1, key.data(), key.size()))
        return &k;
    }
    return nullptr;
  }
  // The header's catch-all host and default backend, kept here so that a
  // lookup does not read the header's line.
  uint32_t catch_all_host() const { return catch_all_host_; }
  uint32_t default_backend() const { return default_backend_; }

 private:
  // The Gateway API's sections, for validate(): the rest of the view is
  // set and checked.
  Error validate_gateway(const Header& h, const uint8_t* data);
  const HostKey& host_key_at(uint32_t entry) const {
    return *reinterpret_cast<const HostKey*>(host_keys_ + uint64_t(entry) * 8);
  }
  const RuleKey& rule_key_at(uint32_t entry) const {
    return *reinterpret_cast<const RuleKey*>(rule_keys_ + uint64_t(entry) * 8);
  }
  const HostKey* probe_host(const KeySlot* slots, uint32_t mask, uint32_t kind, std::string_view key,
                            uint64_t hash) const {
    const uint32_t tag = host_tag(hash);
    for (uint32_t i = slot_home(hash, mask), n = 0; n <= mask; i = (i + 1) & mask, ++n) {
      const KeySlot s = slots[i];
      if (s.entry == kNone) return nullptr;
      if (s.tag != tag) continue;
      const HostKey& k = host_key_at(s.entry);
      if (k.kind == kind && k.length == key.size() && same_bytes(&k + 1, key.data(), key.size())) return &k;
    }
    return nullptr;
  }

  const Header* header_ = nullptr;
  const char* strings_ = nullptr;
  const HostRecord* hosts_ = nullptr;
  const RuleRecord* rules_ = nullptr;
  const BackendRecord* backends_ = nullptr;
  const EndpointRecord* endpoints_ = nullptr;
  const uint8_t* options_ = nullptr;
  const KeySlot* host_index_ = nullptr;
  const KeySlot* wildcard_index_ = nullptr;
  const KeySlot* rule_index_ = nullptr;
  const uint8_t* host_keys_ = nullptr;
  const uint8_t* rule_keys_ = nullptr;
  uint32_t strings_size_ = 0, host_count_ = 0, rule_count_ = 0, backend_count_ = 0,
           endpoint_count_ = 0, options_size_ = 0, host_keys_size_ = 0, rule_keys_size_ = 0;
  uint32_t host_mask_ = 0, wildcard_mask_ = 0, rule_mask_ = 0;
  const GatewayListenerRecord* gw_listeners_ = nullptr;
  const GatewayEntryRecord* gw_entries_ = nullptr;
  const GatewayPairRecord* gw_pairs_ = nullptr;
  const GatewayRuleRecord* gw_rules_ = nullptr;
  const GatewayChoiceRecord* gw_choices_ = nullptr;
  const GatewayFilterRecord* gw_filters_ = nullptr;
  uint32_t gw_listener_count_ = 0, gw_entry_count_ = 0, gw_pair_count_ = 0, gw_rule_count_ = 0,
           gw_choice_count_ = 0, gw_filter_count_ = 0;
  uint32_t catch_all_host_ = kNone, default_backend_ = kNone;
};

}  // namespace atsi
