#include "table_view.h"

#include <cstring>
#include <string>

#include "blob_check.h"
#include "hash.h"
#include "table_writer.h"

namespace atsi {
namespace {

Error refuse(const std::string& why) { return {ErrorCode::kInvalidTable, why}; }

using check::index_ok;
using check::str_ok;

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
  v.host_index_ = reinterpret_cast<const IndexSlot*>(at(kSectionHostIndex));
  v.wildcard_index_ = reinterpret_cast<const IndexSlot*>(at(kSectionWildcardIndex));
  v.rule_index_ = reinterpret_cast<const IndexSlot*>(at(kSectionRuleIndex));

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
  }
  for (uint32_t i = 0; i < v.rule_count_; ++i) {
    const RuleRecord& r = v.rules_[i];
    if (r.host >= v.host_count_ || r.backend >= v.backend_count_ || r.path_type > kPathImplementationSpecific ||
        !str_ok(r.path, pool) || !str_ok(r.source, pool) || r.match_length > r.path.length)
      return refuse("rule " + std::to_string(i) + ": reference out of range");
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
  if (!index_ok(h->sections[kSectionHostIndex], v.host_count_, v.host_index_) ||
      !index_ok(h->sections[kSectionWildcardIndex], v.host_count_, v.wildcard_index_) ||
      !index_ok(h->sections[kSectionRuleIndex], v.rule_count_, v.rule_index_))
    return refuse("index malformed");
  v.host_mask_ = h->sections[kSectionHostIndex].count - 1;
  v.wildcard_mask_ = h->sections[kSectionWildcardIndex].count - 1;
  v.rule_mask_ = h->sections[kSectionRuleIndex].count - 1;
  view = v;
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
  return check::probe(host_index_, host_mask_, key_hash(host, host_seed()), [&](uint32_t h) {
    return hosts_[h].kind == kHostExact && str(hosts_[h].name) == host;
  });
}

uint32_t TableView::find_wildcard_host(std::string_view suffix) const {
  return check::probe(wildcard_index_, wildcard_mask_, key_hash(suffix, wildcard_seed()), [&](uint32_t i) {
    const HostRecord& h = hosts_[i];
    std::string_view name = str(h.name);
    return h.kind == kHostWildcard && name.size() == suffix.size() + 2 && name.substr(2) == suffix;
  });
}

uint32_t TableView::find_rule(uint32_t host, bool exact, std::string_view key) const {
  return check::probe(rule_index_, rule_mask_, key_hash(key, rule_seed(host, exact)), [&](uint32_t i) {
    const RuleRecord& r = rules_[i];
    return r.host == host && (r.path_type == kPathExact) == exact && rule_match_key(r) == key;
  });
}

}  // namespace atsi
