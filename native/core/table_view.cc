#include "table_view.h"

#include <cstring>
#include <string>

#include "blob_check.h"
#include "names.h"
#include "table_writer.h"

namespace atsi {
namespace {

Error refuse(const std::string& why) { return {ErrorCode::kInvalidTable, why}; }

using check::str_ok;

// Where a record says its key entry is: `entry` * 8 into a section of
// `size` bytes, with room for the header `head` bytes long and `length`
// key bytes after it (`length` read from the header once it is known to be
// in bounds). Returns the entry's offset, or -1.
int64_t entry_at(uint32_t entry, uint32_t size, size_t head) {
  uint64_t off = uint64_t(entry) * 8;
  if (off > size || size - off < head) return -1;
  return int64_t(off);
}

// A KeySlot index section: a power-of-two number of slots, at least one
// empty (so that a probe ends), every other one naming an entry that
// `names_entry` accepts.
template <class NamesEntry>
bool key_index_ok(const Section& s, const KeySlot* slots, NamesEntry names_entry) {
  uint32_t cap = s.count;
  if (cap == 0 || (cap & (cap - 1)) != 0 || uint64_t(cap) * sizeof(KeySlot) != s.size) return false;
  bool has_empty = false;
  for (uint32_t i = 0; i < cap; ++i) {
    if (slots[i].entry == kNone) {
      has_empty = true;
    } else if (!names_entry(slots[i].entry)) {
      return false;
    }
  }
  return has_empty;
}

}  // namespace

Error TableView::validate(const uint8_t* data, size_t size, TableView& view) {
  if (size < sizeof(Header)) return refuse("shorter than a header (" + std::to_string(size) + " bytes)");
  if (reinterpret_cast<uintptr_t>(data) % 8 != 0) return refuse("not 8-byte aligned");
  const auto* h = reinterpret_cast<const Header*>(data);
  if (std::memcmp(h->magic, kTableMagic, sizeof h->magic) != 0) return refuse("bad magic");
  if (h->format_version != kFormatVersion)
    return refuse("format version " + std::to_string(h->format_version) + ", this reader knows " +
                  std::to_string(kFormatVersion));
  if (h->header_size != sizeof(Header) || h->section_count != kSectionCount)
    return refuse("unexpected header layout");
  if (h->total_size != size)
    return refuse("size " + std::to_string(size) + " differs from the header's " +
                  std::to_string(h->total_size) + " (truncated?)");
  if (size > kMaxTableBytes) return refuse("larger than 2 GiB");
  if (table_checksum(data, size) != h->checksum) return refuse("checksum mismatch");

  for (uint32_t s = 0; s < kSectionCount; ++s) {
    const Section& sec = h->sections[s];
    if (sec.offset % 8 != 0 || sec.offset < sizeof(Header) || sec.offset > size ||
        sec.size > size - sec.offset)
      return refuse("section " + std::to_string(s) + " out of bounds");
  }
  auto record_count = [&](SectionId id, size_t rec) -> bool {
    const Section& s = h->sections[id];
    return uint64_t(s.count) * rec == s.size;
  };
  if (h->sections[kSectionStrings].count != h->sections[kSectionStrings].size ||
      h->sections[kSectionOptions].count != h->sections[kSectionOptions].size ||
      h->sections[kSectionHostKeys].count != h->sections[kSectionHostKeys].size ||
      h->sections[kSectionRuleKeys].count != h->sections[kSectionRuleKeys].size ||
      !record_count(kSectionHosts, sizeof(HostRecord)) || !record_count(kSectionRules, sizeof(RuleRecord)) ||
      !record_count(kSectionBackends, sizeof(BackendRecord)) ||
      !record_count(kSectionEndpoints, sizeof(EndpointRecord)))
    return refuse("section sizes do not match their record counts");

  TableView v;
  v.header_ = h;
  auto at = [&](SectionId id) { return data + h->sections[id].offset; };
  v.strings_ = reinterpret_cast<const char*>(at(kSectionStrings));
  v.strings_size_ = h->sections[kSectionStrings].size;
  v.hosts_ = reinterpret_cast<const HostRecord*>(at(kSectionHosts));
  v.host_count_ = h->sections[kSectionHosts].count;
  v.rules_ = reinterpret_cast<const RuleRecord*>(at(kSectionRules));
  v.rule_count_ = h->sections[kSectionRules].count;
  v.backends_ = reinterpret_cast<const BackendRecord*>(at(kSectionBackends));
  v.backend_count_ = h->sections[kSectionBackends].count;
  v.endpoints_ = reinterpret_cast<const EndpointRecord*>(at(kSectionEndpoints));
  v.endpoint_count_ = h->sections[kSectionEndpoints].count;
  v.options_ = at(kSectionOptions);
  v.options_size_ = h->sections[kSectionOptions].size;
  v.host_index_ = reinterpret_cast<const KeySlot*>(at(kSectionHostIndex));
  v.wildcard_index_ = reinterpret_cast<const KeySlot*>(at(kSectionWildcardIndex));
  v.rule_index_ = reinterpret_cast<const KeySlot*>(at(kSectionRuleIndex));
  v.host_keys_ = at(kSectionHostKeys);
  v.host_keys_size_ = h->sections[kSectionHostKeys].size;
  v.rule_keys_ = at(kSectionRuleKeys);
  v.rule_keys_size_ = h->sections[kSectionRuleKeys].size;

  const uint32_t pool = v.strings_size_;
  if (h->default_backend != kNone && h->default_backend >= v.backend_count_)
    return refuse("default backend out of range");
  if (h->catch_all_host != kNone &&
      (h->catch_all_host >= v.host_count_ || v.hosts_[h->catch_all_host].kind != kHostCatchAll))
    return refuse("catch-all host out of range");

  for (uint32_t i = 0; i < v.host_count_; ++i) {
    const HostRecord& r = v.hosts_[i];
    if (!str_ok(r.name, pool) || !str_ok(r.default_source, pool) || r.name.length > kMaxHostLength)
      return refuse("host " + std::to_string(i) + ": string out of bounds");
    if (r.kind > kHostCatchAll) return refuse("host " + std::to_string(i) + ": unknown kind");
    if (r.first_rule > v.rule_count_ || r.rule_count > v.rule_count_ - r.first_rule)
      return refuse("host " + std::to_string(i) + ": rules out of range");
    if (r.default_backend != kNone && r.default_backend >= v.backend_count_)
      return refuse("host " + std::to_string(i) + ": default backend out of range");
    // Its key entry: in bounds, and a copy of this record with its key.
    int64_t off = entry_at(r.key, v.host_keys_size_, sizeof(HostKey));
    const HostKey* k = off < 0 ? nullptr : reinterpret_cast<const HostKey*>(v.host_keys_ + off);
    if (!k || k->length > v.host_keys_size_ - uint64_t(off) - sizeof(HostKey))
      return refuse("host " + std::to_string(i) + ": key entry out of bounds");
    std::string_view name = v.str(r.name), key = name;
    // The plugin puts an exact host's name in the routed URL and the cache
    // key as it stands (router.cc): a name the writer would refuse is a
    // table it did not write.
    if (r.kind == kHostExact && !is_valid_host_name(name))
      return refuse("host " + std::to_string(i) + ": not a lowercase host name");
    if (r.kind == kHostWildcard) {
      if (name.substr(0, 2) != "*.") return refuse("host " + std::to_string(i) + ": a wildcard not named \"*.\"");
      key = name.substr(2);
    }
    if (k->host != i || k->kind != r.kind || k->default_backend != r.default_backend || key_bytes(*k) != key)
      return refuse("host " + std::to_string(i) + ": key entry disagrees with the host");
  }
  for (uint32_t i = 0; i < v.rule_count_; ++i) {
    const RuleRecord& r = v.rules_[i];
    if (r.host >= v.host_count_ || r.backend >= v.backend_count_ || r.path_type > kPathImplementationSpecific ||
        !str_ok(r.path, pool) || !str_ok(r.source, pool) || r.match_length > r.path.length)
      return refuse("rule " + std::to_string(i) + ": reference out of range");
    int64_t off = entry_at(r.key, v.rule_keys_size_, sizeof(RuleKey));
    const RuleKey* k = off < 0 ? nullptr : reinterpret_cast<const RuleKey*>(v.rule_keys_ + off);
    if (!k || k->length > v.rule_keys_size_ - uint64_t(off) - sizeof(RuleKey))
      return refuse("rule " + std::to_string(i) + ": key entry out of bounds");
    bool exact = r.path_type == kPathExact;
    if (k->rule != i || k->host != r.host || k->backend != r.backend || k->exact != (exact ? 1 : 0) ||
        key_bytes(*k) != v.rule_match_key(r))
      return refuse("rule " + std::to_string(i) + ": key entry disagrees with the rule");
    // Lookups probe only the lengths their host's hints name.
    const HostKey& hk = v.host_key(r.host);
    uint64_t bit = uint64_t(1) << (r.match_length < 63 ? r.match_length : 63);
    if (((exact ? hk.exact_lengths : hk.prefix_lengths) & bit) == 0)
      return refuse("rule " + std::to_string(i) + ": its length is missing from its host's hints");
  }
  for (uint32_t i = 0; i < v.backend_count_; ++i) {
    const BackendRecord& r = v.backends_[i];
    if (!str_ok(r.service, pool) || !str_ok(r.port, pool) || !str_ok(r.problem, pool) || r.scheme > kSchemeHttps ||
        r.first_endpoint > v.endpoint_count_ || r.endpoint_count > v.endpoint_count_ - r.first_endpoint ||
        r.options_offset > v.options_size_ || r.options_size > v.options_size_ - r.options_offset)
      return refuse("backend " + std::to_string(i) + ": reference out of range");
    uint64_t total = 0;
    bool uniform = true;
    for (uint32_t e = r.first_endpoint; e < r.first_endpoint + r.endpoint_count; ++e) {
      const EndpointRecord& ep = v.endpoints_[e];
      if ((ep.family != 4 && ep.family != 6) || ep.weight == 0 || ep.weight > 65535)
        return refuse("endpoint " + std::to_string(e) + ": invalid");
      if (ep.weight != v.endpoints_[r.first_endpoint].weight) uniform = false;
      total += ep.weight;
    }
    // The balancer relies on these two to stay in bounds and not overflow.
    if (total != r.total_weight || uniform != ((r.flags & kBackendUniformWeights) != 0))
      return refuse("backend " + std::to_string(i) + ": weights disagree with the header");
  }
  // Every slot names an entry that a record names (and so was checked
  // above), of the index's kind.
  auto host_entry = [&](uint32_t kind) {
    return [&v, kind](uint32_t entry) {
      if (entry_at(entry, v.host_keys_size_, sizeof(HostKey)) < 0) return false;
      const HostKey& k = v.host_key_at(entry);
      return k.host < v.host_count_ && v.hosts_[k.host].key == entry && k.kind == kind;
    };
  };
  auto rule_entry = [&v](uint32_t entry) {
    if (entry_at(entry, v.rule_keys_size_, sizeof(RuleKey)) < 0) return false;
    const RuleKey& k = v.rule_key_at(entry);
    return k.rule < v.rule_count_ && v.rules_[k.rule].key == entry;
  };
  if (!key_index_ok(h->sections[kSectionHostIndex], v.host_index_, host_entry(kHostExact)) ||
      !key_index_ok(h->sections[kSectionWildcardIndex], v.wildcard_index_, host_entry(kHostWildcard)) ||
      !key_index_ok(h->sections[kSectionRuleIndex], v.rule_index_, rule_entry))
    return refuse("index malformed");
  v.host_mask_ = h->sections[kSectionHostIndex].count - 1;
  v.wildcard_mask_ = h->sections[kSectionWildcardIndex].count - 1;
  v.rule_mask_ = h->sections[kSectionRuleIndex].count - 1;
  v.catch_all_host_ = h->catch_all_host;
  v.default_backend_ = h->default_backend;
  if (Error e = v.validate_gateway(*h, data)) return e;
  view = v;
  return {};
}

namespace {

// [first, first + count) within `limit` records, without overflow.
bool range_ok(uint32_t first, uint32_t count, uint32_t limit) { return first <= limit && count <= limit - first; }

bool lowercase(std::string_view s) {
  for (char c : s)
    if (c >= 'A' && c <= 'Z') return false;
  return true;
}

// A hostname and the kind a record says it is agree (and the hostname is
// one a table may hold).
bool host_kind_ok(std::string_view name, uint8_t kind) {
  GatewayHostKind k;
  return gateway_host_kind(name, k) && uint8_t(k) == kind;
}

}  // namespace

Error TableView::validate_gateway(const Header& h, const uint8_t* data) {
  auto sized = [&](SectionId id, size_t rec, uint32_t& count) {
    const Section& s = h.sections[id];
    count = s.count;
    return uint64_t(s.count) * rec == s.size;
  };
  if (!sized(kSectionGwListeners, sizeof(GatewayListenerRecord), gw_listener_count_) ||
      !sized(kSectionGwEntries, sizeof(GatewayEntryRecord), gw_entry_count_) ||
      !sized(kSectionGwPairs, sizeof(GatewayPairRecord), gw_pair_count_) ||
      !sized(kSectionGwRules, sizeof(GatewayRuleRecord), gw_rule_count_) ||
      !sized(kSectionGwChoices, sizeof(GatewayChoiceRecord), gw_choice_count_) ||
      !sized(kSectionGwFilters, sizeof(GatewayFilterRecord), gw_filter_count_))
    return refuse("gateway section sizes do not match their record counts");
  auto at = [&](SectionId id) { return data + h.sections[id].offset; };
  gw_listeners_ = reinterpret_cast<const GatewayListenerRecord*>(at(kSectionGwListeners));
  gw_entries_ = reinterpret_cast<const GatewayEntryRecord*>(at(kSectionGwEntries));
  gw_pairs_ = reinterpret_cast<const GatewayPairRecord*>(at(kSectionGwPairs));
  gw_rules_ = reinterpret_cast<const GatewayRuleRecord*>(at(kSectionGwRules));
  gw_choices_ = reinterpret_cast<const GatewayChoiceRecord*>(at(kSectionGwChoices));
  gw_filters_ = reinterpret_cast<const GatewayFilterRecord*>(at(kSectionGwFilters));
  const uint32_t pool = strings_size_;
  auto n = [](uint32_t i) { return std::to_string(i); };

  for (uint32_t i = 0; i < gw_pair_count_; ++i)
    if (!str_ok(gw_pairs_[i].name, pool) || !str_ok(gw_pairs_[i].value, pool))
      return refuse("gateway pair " + n(i) + ": string out of bounds");

  // Lookups binary-search an address's listeners and scan each one's
  // entries: sorted, and the entries partitioned in listener order.
  uint32_t next_entry = 0;
  for (uint32_t i = 0; i < gw_listener_count_; ++i) {
    const GatewayListenerRecord& r = gw_listeners_[i];
    std::string at_l = "gateway listener " + n(i) + ": ";
    if (!str_ok(r.hostname, pool) || !str_ok(r.gateway, pool) || !str_ok(r.listener, pool))
      return refuse(at_l + "string out of bounds");
    if (r.family != 4 && r.family != 6 && r.family != kAnyAddressFamily) return refuse(at_l + "unknown address family");
    if (r.family == 4)
      for (int b = 4; b < 16; ++b)
        if (r.address[b] != 0) return refuse(at_l + "an IPv4 address with bytes after its 4");
    if (r.family == kAnyAddressFamily)
      for (int b = 0; b < 16; ++b)
        if (r.address[b] != 0) return refuse(at_l + "any address with bytes that are not zero");
    if (r.port == 0 || r.listener_port == 0 || r.https > 1) return refuse(at_l + "port or protocol invalid");
    if (!host_kind_ok(str(r.hostname), r.host_kind)) return refuse(at_l + "hostname invalid or of another kind");
    if (r.first_entry != next_entry || !range_ok(r.first_entry, r.entry_count, gw_entry_count_))
      return refuse(at_l + "entries out of range");
    next_entry = r.first_entry + r.entry_count;
    if (i > 0 && gateway_address_order(gw_listeners_[i - 1], r) > 0)
      return refuse(at_l + "not sorted by address and port");
  }
  if (next_entry != gw_entry_count_) return refuse("gateway entries not all of a listener");

  for (uint32_t i = 0; i < gw_entry_count_; ++i) {
    const GatewayEntryRecord& r = gw_entries_[i];
    std::string at_e = "gateway entry " + n(i) + ": ";
    if (!str_ok(r.hostname, pool) || !str_ok(r.path, pool) || !str_ok(r.method, pool))
      return refuse(at_e + "string out of bounds");
    if (!host_kind_ok(str(r.hostname), r.host_kind)) return refuse(at_e + "hostname invalid or of another kind");
    if (r.path_type > uint8_t(GatewayPathType::kPathPrefix)) return refuse(at_e + "unknown path type");
    std::string_view path = str(r.path);
    if (path.empty() || path[0] != '/' || path.size() > kMaxPathLength ||
        r.match_length != gateway_match_length(GatewayPathType(r.path_type), path))
      return refuse(at_e + "path invalid or its match length wrong");
    if (!range_ok(r.first_header, r.header_count, gw_pair_count_) ||
        !range_ok(r.first_query, r.query_count, gw_pair_count_) || r.rule >= gw_rule_count_)
      return refuse(at_e + "reference out of range");
    for (uint32_t p = r.first_header; p < r.first_header + r.header_count; ++p) {
      std::string_view name = str(gw_pairs_[p].name);
      if (!is_header_name(name) || !lowercase(name)) return refuse(at_e + "a header match's name is not a lowercase token");
    }
  }

  // What a filter holds goes into headers, a Location or a request line:
  // nothing there may end or split one.
  auto header_pairs_ok = [&](uint32_t first, uint32_t count, bool values) {
    if (!range_ok(first, count, gw_pair_count_)) return false;
    for (uint32_t p = first; p < first + count; ++p)
      if (!is_header_name(str(gw_pairs_[p].name)) || (values && !is_header_value(str(gw_pairs_[p].value))))
        return false;
    return true;
  };
  for (uint32_t i = 0; i < gw_filter_count_; ++i) {
    const GatewayFilterRecord& r = gw_filters_[i];
    std::string at_f = "gateway filter " + n(i) + ": ";
    if (r.kind < uint8_t(FilterKind::kRequestHeaderModifier) || r.kind > uint8_t(FilterKind::kURLRewrite))
      return refuse(at_f + "unknown kind");
    if (r.path_kind > uint8_t(PathModifierKind::kReplacePrefixMatch) || r.scheme > uint8_t(RedirectScheme::kHttps))
      return refuse(at_f + "unknown path modifier or scheme");
    if (r.kind == uint8_t(FilterKind::kRequestRedirect) && !is_redirect_status(r.status_code))
      return refuse(at_f + "status code " + n(r.status_code) + " is not a redirect's");
    if (!str_ok(r.hostname, pool) || !str_ok(r.path, pool)) return refuse(at_f + "string out of bounds");
    std::string_view host = str(r.hostname);
    if ((!host.empty() && !is_valid_host_name(host)) || !is_path_value(str(r.path)))
      return refuse(at_f + "hostname or path invalid");
    if (!header_pairs_ok(r.first_set, r.set_count, true) || !header_pairs_ok(r.first_add, r.add_count, true) ||
        !header_pairs_ok(r.first_remove, r.remove_count, false))
      return refuse(at_f + "header edits out of range or invalid");
  }

  auto redirects = [&](uint32_t first, uint32_t count) {
    for (uint32_t f = first; f < first + count; ++f)
      if (gw_filters_[f].kind == uint8_t(FilterKind::kRequestRedirect)) return true;
    return false;
  };
  for (uint32_t i = 0; i < gw_choice_count_; ++i) {
    const GatewayChoiceRecord& r = gw_choices_[i];
    std::string at_c = "gateway choice " + n(i) + ": ";
    if ((r.backend != kNone && r.backend >= backend_count_) || !str_ok(r.problem, pool) ||
        !range_ok(r.first_filter, r.filter_count, gw_filter_count_))
      return refuse(at_c + "reference out of range");
    if (r.weight > kMaxGatewayWeight) return refuse(at_c + "weight above " + n(kMaxGatewayWeight));
    if (r.flags != (redirects(r.first_filter, r.filter_count) ? kGatewayRedirects : 0u))
      return refuse(at_c + "flags disagree with its filters");
  }
  for (uint32_t i = 0; i < gw_rule_count_; ++i) {
    const GatewayRuleRecord& r = gw_rules_[i];
    std::string at_r = "gateway rule " + n(i) + ": ";
    if (!str_ok(r.route, pool) || !str_ok(r.failure, pool) ||
        !range_ok(r.first_filter, r.filter_count, gw_filter_count_) ||
        !range_ok(r.first_choice, r.choice_count, gw_choice_count_))
      return refuse(at_r + "reference out of range");
    bool redirect = redirects(r.first_filter, r.filter_count);
    if (r.flags != (redirect ? kGatewayRedirects : 0u)) return refuse(at_r + "flags disagree with its filters");
    // The weighted pick relies on these to stay in bounds and never divide by 0.
    uint64_t total = 0;
    for (uint32_t c = r.first_choice; c < r.first_choice + r.choice_count; ++c) total += gw_choices_[c].weight;
    if (total != r.total_weight) return refuse(at_r + "total weight disagrees with its choices");
    if (total == 0 && r.failure.length == 0 && !redirect)
      return refuse(at_r + "forwards, but to no choice of weight above 0");
  }
  return {};
}

namespace {

// A u32 option: taken when it has the size of one.
inline bool take_u32(const OptionHeader& oh, const uint8_t* val, uint32_t& out) {
  if (oh.length != 4) return false;
  std::memcpy(&out, val, 4);
  return true;
}

}  // namespace

BackendOptionsView TableView::options(const BackendRecord& b) const {
  BackendOptionsView o;
  const uint8_t* p = options_ + b.options_offset;
  size_t left = b.options_size;
  while (left >= sizeof(OptionHeader)) {
    OptionHeader oh;
    std::memcpy(&oh, p, sizeof oh);
    size_t padded = sizeof oh + oh.length + (4 - oh.length % 4) % 4;
    if (sizeof oh + oh.length > left) break;
    const uint8_t* val = p + sizeof oh;
    bool taken = false;
    switch (oh.type) {
      case kOptConnectTimeoutMs:
        taken = take_u32(oh, val, o.connect_timeout_ms);
        break;
      case kOptResponseTimeoutMs:
        taken = take_u32(oh, val, o.response_timeout_ms);
        break;
      case kOptRedirectToHttps:
        if ((taken = oh.length == 1)) o.redirect_to_https = val[0] != 0;
        break;
      case kOptCachePolicy:
        if ((taken = oh.length == 1)) o.cache_policy = val[0];
        break;
      case kOptUpstreamHost:
        o.upstream_host = std::string_view(reinterpret_cast<const char*>(val), oh.length);
        taken = true;
        break;
      case kOptCacheDefaultTtlS:
        taken = take_u32(oh, val, o.cache_default_ttl_s);
        break;
      case kOptCacheMaxTtlS:
        taken = take_u32(oh, val, o.cache_max_ttl_s);
        break;
      case kOptCacheIgnoreQuery:
        if ((taken = oh.length == 1)) o.cache_ignore_query = val[0] != 0;
        break;
      case kOptCacheServeStaleS:
        taken = take_u32(oh, val, o.cache_serve_stale_s);
        break;
      case kOptCacheGeneration:
        taken = take_u32(oh, val, o.cache_generation);
        break;
      case kOptStatsSlot:
        taken = take_u32(oh, val, o.stats_slot);
        break;
      default:
        break;  // a newer writer's option: not ours to read
    }
    if (taken && oh.type < 32) o.present |= 1u << oh.type;
    if (padded >= left) break;
    p += padded;
    left -= padded;
  }
  return o;
}

uint32_t TableView::find_exact_host(std::string_view host) const {
  const HostKey* k = probe_exact_host(host, index_hash(host, host_seed()));
  return k ? k->host : kNone;
}

uint32_t TableView::find_wildcard_host(std::string_view suffix) const {
  const HostKey* k = probe_wildcard_host(suffix, index_hash(suffix, wildcard_seed()));
  return k ? k->host : kNone;
}

uint32_t TableView::find_rule(uint32_t host, bool exact, std::string_view key) const {
  const RuleKey* k = probe_rule(host, exact, key, index_hash(key, rule_seed(host)));
  return k ? k->rule : kNone;
}

}  // namespace atsi
