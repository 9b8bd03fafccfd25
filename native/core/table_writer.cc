#include "table_writer.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "blob_build.h"
#include "hash.h"
#include "names.h"

namespace atsi {
namespace {

using build::align8;
using build::Part;
using build::StringPool;

inline constexpr size_t kLine = 64;

size_t align_line(size_t n) { return (n + kLine - 1) & ~(kLine - 1); }

// A key section (HostKeys, RuleKeys): entries of a header and the key bytes,
// zero-padded to 8. An entry that fits in a 64-byte line never crosses one;
// a longer one starts a line, so that a lookup reads as few lines as can be.
class KeySection {
 public:
  // Appends the entry; returns its offset / 8, as KeySlot and the records
  // refer to it.
  template <class Head>
  uint32_t add(const Head& head, std::string_view key) {
    static_assert(sizeof(Head) % 8 == 0);
    size_t size = align8(sizeof(Head) + key.size());
    size_t pos = bytes_.size();
    size_t used = pos % kLine;
    if (used != 0 && (size > kLine || used + size > kLine)) pos = align_line(pos);
    bytes_.resize(pos, '\0');
    bytes_.append(reinterpret_cast<const char*>(&head), sizeof head);
    bytes_.append(key);
    bytes_.resize(pos + size, '\0');
    return uint32_t(pos / 8);
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

// A KeySlot index of `count` keys (format.h): a power of two of slots, at
// most half of them used.
struct KeyIndex {
  std::vector<KeySlot> slots;
  explicit KeyIndex(size_t count) : slots(build::index_capacity(count), KeySlot{0, kNone}) {}
  void insert(uint64_t hash, uint32_t tag, uint32_t entry) {
    uint32_t mask = uint32_t(slots.size() - 1);
    for (uint32_t i = slot_home(hash, mask);; i = (i + 1) & mask) {
      if (slots[i].entry == kNone) {
        slots[i] = {tag, entry};
        return;
      }
    }
  }
};

// Each section 64-byte aligned (a line: the table's base is page-aligned
// where it is mapped), after a header.
size_t laid_out_size(const Part* parts, size_t n) {
  size_t total = align_line(sizeof(Header));
  for (size_t i = 0; i < n; ++i) total = align_line(total + parts[i].size);
  return total;
}

void lay_out(const Part* parts, size_t n, std::vector<uint8_t>& out, Section* sections) {
  size_t pos = align_line(sizeof(Header));
  for (size_t s = 0; s < n; ++s) {
    sections[s] = {uint32_t(pos), uint32_t(parts[s].size), uint32_t(parts[s].count), 0};
    if (parts[s].size && parts[s].data) std::memcpy(out.data() + pos, parts[s].data, parts[s].size);
    pos = align_line(pos + parts[s].size);
  }
}

Error invalid(std::string where, std::string what) {
  return {ErrorCode::kInvalidModel, where + ": " + what};
}

// Where a field sits, spelled out only for an error: a table has tens of
// thousands of rules and endpoints, and a name made for each one that is
// fine cost more than the rest of their checks.
std::string host_where(size_t h) { return "hosts[" + std::to_string(h) + "]"; }
std::string rule_where(size_t h, size_t r) {
  return host_where(h) + ".rules[" + std::to_string(r) + "]";
}
std::string backend_where(size_t b) { return "backends[" + std::to_string(b) + "]"; }
std::string endpoint_where(size_t b, size_t e) {
  return backend_where(b) + ".endpoints[" + std::to_string(e) + "]";
}

// Whether an earlier rule of the host has the same match key (Exact and
// Prefix apart): a host with a few rules is searched in place, a larger one
// through a set of its keys.
class RuleKeys {
 public:
  bool insert(bool exact, std::string_view key) {
    if (!large_) {
      auto& list = exact ? exact_ : prefix_;
      for (std::string_view k : list)
        if (k == key) return false;
      list.push_back(key);
      if (exact_.size() + prefix_.size() < kSmall) return true;
      large_ = true;
      set_exact_.insert(exact_.begin(), exact_.end());
      set_prefix_.insert(prefix_.begin(), prefix_.end());
      return true;
    }
    return (exact ? set_exact_ : set_prefix_).insert(key).second;
  }
  void clear() {
    large_ = false;
    exact_.clear();
    prefix_.clear();
    set_exact_.clear();
    set_prefix_.clear();
  }

 private:
  static constexpr size_t kSmall = 8;
  bool large_ = false;
  std::vector<std::string_view> exact_, prefix_;
  std::unordered_set<std::string_view> set_exact_, set_prefix_;
};

Error check_backend_ref(uint32_t b, size_t count, const std::string& where) {
  if (b != kNone && b >= count)
    return invalid(where, "backend index " + std::to_string(b) + " is out of range (" +
                              std::to_string(count) + " backends)");
  return {};
}

void put_option(std::string& out, OptionType type, const void* value, uint16_t length) {
  OptionHeader h{type, length};
  out.append(reinterpret_cast<const char*>(&h), sizeof h);
  out.append(static_cast<const char*>(value), length);
  out.append((4 - length % 4) % 4, '\0');
}

void append_options(std::string& out, const InputOptions& o) {
  if (o.connect_timeout_ms) put_option(out, kOptConnectTimeoutMs, &*o.connect_timeout_ms, 4);
  if (o.response_timeout_ms) put_option(out, kOptResponseTimeoutMs, &*o.response_timeout_ms, 4);
  if (o.redirect_to_https) {
    uint8_t v = *o.redirect_to_https ? 1 : 0;
    put_option(out, kOptRedirectToHttps, &v, 1);
  }
  if (o.cache_policy) put_option(out, kOptCachePolicy, &*o.cache_policy, 1);
  if (o.upstream_host)
    put_option(out, kOptUpstreamHost, o.upstream_host->data(), uint16_t(o.upstream_host->size()));
  if (o.cache_default_ttl_s) put_option(out, kOptCacheDefaultTtlS, &*o.cache_default_ttl_s, 4);
  if (o.cache_max_ttl_s) put_option(out, kOptCacheMaxTtlS, &*o.cache_max_ttl_s, 4);
  if (o.cache_ignore_query) {
    uint8_t v = *o.cache_ignore_query ? 1 : 0;
    put_option(out, kOptCacheIgnoreQuery, &v, 1);
  }
  if (o.cache_serve_stale_s) put_option(out, kOptCacheServeStaleS, &*o.cache_serve_stale_s, 4);
  if (o.cache_generation) put_option(out, kOptCacheGeneration, &*o.cache_generation, 4);
  if (o.stats_slot) put_option(out, kOptStatsSlot, &*o.stats_slot, 4);
}

// An optional whole number within [min, max], named as the model names it.
Error check_range(const std::optional<uint32_t>& v, uint32_t min, uint32_t max, size_t b, const char* field) {
  if (v && (*v < min || *v > max))
    return invalid(backend_where(b) + ".options." + field, "must be a whole number from " + std::to_string(min) +
                                                               " to " + std::to_string(max) + ", got " + std::to_string(*v));
  return {};
}

Error check_options(const InputOptions& o, size_t b) {
  if (o.upstream_host && o.upstream_host->size() > kMaxHostLength)
    return invalid(backend_where(b) + ".options.upstreamHost", "longer than 253 bytes");
  if (auto e = check_range(o.cache_default_ttl_s, 1, kMaxCacheSeconds, b, "cacheDefaultTtlS")) return e;
  if (auto e = check_range(o.cache_max_ttl_s, 1, kMaxCacheSeconds, b, "cacheMaxTtlS")) return e;
  if (auto e = check_range(o.cache_serve_stale_s, 1, kMaxCacheSeconds, b, "cacheServeStaleS")) return e;
  if (auto e = check_range(o.cache_generation, 0, kMaxCacheGeneration, b, "cacheGeneration")) return e;
  if (auto e = check_range(o.stats_slot, 0, kMaxStatsSlot, b, "statsSlot")) return e;
  return {};
}

// ------------------------------------------------------------ the Gateway API

std::string gw_where(const char* list, size_t i) { return std::string("gateway.") + list + "[" + std::to_string(i) + "]"; }

// What a run of pairs is, for what its names and values must be.
enum class Pairs { kHeaderMatch, kQueryMatch, kHeaderEdit, kHeaderRemove };

std::string_view name_of(const InputNameValue& p) { return p.name; }
std::string_view value_of(const InputNameValue& p) { return p.value; }
std::string_view name_of(const std::string& name) { return name; }
std::string_view value_of(const std::string&) { return {}; }

// Appends `list` to the pairs and sets `first` to where it starts. A header
// match's name is lowercase (the plugin's callback takes it so); what a
// filter writes must not end or split a header.
template <class Item>
Error add_pairs(const std::vector<Item>& list, Pairs what, const std::string& where, StringPool& strings,
                GatewaySections& gs, uint32_t& first) {
  first = uint32_t(gs.pairs.size());
  for (size_t i = 0; i < list.size(); ++i) {
    std::string_view name = name_of(list[i]);
    std::string_view value = value_of(list[i]);
    auto w = [&] { return where + "[" + std::to_string(i) + "]"; };
    if (what != Pairs::kQueryMatch && !is_header_name(name))
      return invalid(w() + ".name", "\"" + std::string(name) + "\" is not a header name");
    if (what == Pairs::kHeaderMatch)
      for (char c : name)
        if (c >= 'A' && c <= 'Z') return invalid(w() + ".name", "\"" + std::string(name) + "\" is not lowercase");
    if (what == Pairs::kHeaderEdit && !is_header_value(value))
      return invalid(w() + ".value", "holds a control character");
    gs.pairs.push_back({strings.add(name), strings.add(value)});
  }
  return {};
}

Error add_filters(const std::vector<InputFilter>& list, const std::string& where, StringPool& strings,
                  GatewaySections& gs, uint32_t& first, bool& redirects) {
  first = uint32_t(gs.filters.size());
  redirects = false;
  for (size_t i = 0; i < list.size(); ++i) {
    const InputFilter& f = list[i];
    std::string w = where + "[" + std::to_string(i) + "]";
    GatewayFilterRecord r{};
    r.kind = uint8_t(f.kind);
    switch (f.kind) {
      case FilterKind::kRequestHeaderModifier:
      case FilterKind::kResponseHeaderModifier: {
        if (auto e = add_pairs(f.set, Pairs::kHeaderEdit, w + ".set", strings, gs, r.first_set)) return e;
        r.set_count = uint32_t(f.set.size());
        if (auto e = add_pairs(f.add, Pairs::kHeaderEdit, w + ".add", strings, gs, r.first_add)) return e;
        r.add_count = uint32_t(f.add.size());
        if (auto e = add_pairs(f.remove, Pairs::kHeaderRemove, w + ".remove", strings, gs, r.first_remove)) return e;
        r.remove_count = uint32_t(f.remove.size());
        break;
      }
      case FilterKind::kRequestRedirect:
      case FilterKind::kURLRewrite: {
        bool redirect = f.kind == FilterKind::kRequestRedirect;
        if (redirect) {
          redirects = true;
          if (f.scheme.empty()) {
            r.scheme = uint8_t(RedirectScheme::kKeep);
          } else if (f.scheme == "http") {
            r.scheme = uint8_t(RedirectScheme::kHttp);
          } else if (f.scheme == "https") {
            r.scheme = uint8_t(RedirectScheme::kHttps);
          } else {
            return invalid(w + ".scheme", "\"" + f.scheme + "\" is not http or https");
          }
          if (!is_redirect_status(f.status_code))
            return invalid(w + ".statusCode", std::to_string(f.status_code) + " is not 301, 302, 303, 307 or 308");
          r.status_code = f.status_code;
          r.port = f.port;
        }
        if (!f.hostname.empty() && !is_valid_host_name(f.hostname))
          return invalid(w + ".hostname", "\"" + f.hostname + "\" is not a lowercase host name");
        r.hostname = strings.add(f.hostname);
        if (f.path_kind != PathModifierKind::kNone && f.path_kind != PathModifierKind::kReplaceFullPath &&
            f.path_kind != PathModifierKind::kReplacePrefixMatch)
          return invalid(w + ".path", "unknown path modifier");
        if (f.path_kind != PathModifierKind::kNone) {
          if (!is_path_value(f.path))
            return invalid(w + ".path", "\"" + f.path + "\" is not a path the table may hold");
          r.path_kind = uint8_t(f.path_kind);
          r.path = strings.add(f.path);
        }
        break;
      }
      default:
        return invalid(w + ".type", "unknown filter kind " + std::to_string(unsigned(f.kind)));
    }
    gs.filters.push_back(r);
  }
  return {};
}

Error build_gateway(const TableInput& in, size_t nb, StringPool& strings, GatewaySections& gs, uint32_t& max_backend) {
  for (size_t ri = 0; ri < in.gateway_rules.size(); ++ri) {
    const InputGatewayRule& rule = in.gateway_rules[ri];
    std::string w = gw_where("rules", ri);
    GatewayRuleRecord r{};
    r.route = strings.add(rule.route);
    r.failure = strings.add(rule.failure);
    r.rule_index = rule.rule_index;
    bool redirects = false;
    if (auto e = add_filters(rule.filters, w + ".filters", strings, gs, r.first_filter, redirects)) return e;
    r.filter_count = uint32_t(rule.filters.size());
    r.flags = redirects ? kGatewayRedirects : 0;
    r.first_choice = uint32_t(gs.choices.size());
    r.choice_count = uint32_t(rule.choices.size());
    uint64_t total = 0;
    // The choices first, then their filters: a rule's choices stay together.
    for (size_t ci = 0; ci < rule.choices.size(); ++ci) {
      const InputGatewayChoice& c = rule.choices[ci];
      std::string cw = w + ".choices[" + std::to_string(ci) + "]";
      if (auto e = check_backend_ref(c.backend, nb, cw + ".backend")) return e;
      if (c.backend != kNone && (max_backend == kNone || c.backend > max_backend)) max_backend = c.backend;
      if (c.weight > kMaxGatewayWeight)
        return invalid(cw + ".weight", "must be 0 to " + std::to_string(kMaxGatewayWeight));
      total += c.weight;
      GatewayChoiceRecord cr{};
      cr.backend = c.backend;
      cr.weight = c.weight;
      cr.problem = strings.add(c.problem);
      gs.choices.push_back(cr);
    }
    for (size_t ci = 0; ci < rule.choices.size(); ++ci) {
      GatewayChoiceRecord& cr = gs.choices[r.first_choice + ci];
      bool choice_redirects = false;
      uint32_t first = 0;
      if (auto e = add_filters(rule.choices[ci].filters, w + ".choices[" + std::to_string(ci) + "].filters", strings,
                               gs, first, choice_redirects))
        return e;
      cr.first_filter = first;
      cr.filter_count = uint32_t(rule.choices[ci].filters.size());
      cr.flags = choice_redirects ? kGatewayRedirects : 0;
    }
    if (total > 0xFFFFFFFFull) return invalid(w + ".choices", "the weights add up to more than 2^32 - 1");
    r.total_weight = uint32_t(total);
    // Lookups divide by it: a rule that forwards has something to forward to.
    if (rule.failure.empty() && !redirects && total == 0)
      return invalid(w, "no failure, no RequestRedirect and no choice of weight above 0");
    gs.rules.push_back(r);
  }

  // By (family, address, port), so that a lookup finds an address's
  // listeners by a binary search; the model's order kept among those.
  struct Keyed {
    GatewayListenerRecord rec;
    size_t input;
  };
  std::vector<Keyed> keyed;
  keyed.reserve(in.gateway_listeners.size());
  for (size_t li = 0; li < in.gateway_listeners.size(); ++li) {
    const InputGatewayListener& l = in.gateway_listeners[li];
    std::string w = gw_where("listeners", li);
    GatewayListenerRecord r{};
    if (!listener_address(l.family, l.bytes.data(), l.address, r.family, r.address))
      return invalid(w + ".address", "\"" + l.address + "\" is not an IPv4 or IPv6 address, nor * (any)");
    if (l.port == 0) return invalid(w + ".port", "must be 1 to 65535");
    if (l.listener_port == 0) return invalid(w + ".listenerPort", "must be 1 to 65535");
    r.port = l.port;
    r.listener_port = l.listener_port;
    r.https = l.https ? 1 : 0;
    GatewayHostKind kind;
    if (!gateway_host_kind(l.hostname, kind))
      return invalid(w + ".hostname", "\"" + l.hostname + "\" is not a lowercase host name or wildcard");
    r.host_kind = uint8_t(kind);
    r.hostname = strings.add(l.hostname);
    r.gateway = strings.add(l.gateway);
    r.listener = strings.add(l.listener);
    keyed.push_back({r, li});
  }
  std::stable_sort(keyed.begin(), keyed.end(), [](const Keyed& a, const Keyed& b) {
    return gateway_address_order(a.rec, b.rec) < 0;
  });
  for (const Keyed& k : keyed) {
    const InputGatewayListener& l = in.gateway_listeners[k.input];
    std::string w = gw_where("listeners", k.input);
    GatewayListenerRecord r = k.rec;
    r.first_entry = uint32_t(gs.entries.size());
    r.entry_count = uint32_t(l.entries.size());
    for (size_t ei = 0; ei < l.entries.size(); ++ei) {
      const InputGatewayEntry& e = l.entries[ei];
      std::string ew = w + ".entries[" + std::to_string(ei) + "]";
      GatewayEntryRecord er{};
      GatewayHostKind kind;
      if (!gateway_host_kind(e.hostname, kind))
        return invalid(ew + ".hostname", "\"" + e.hostname + "\" is not a lowercase host name or wildcard");
      er.host_kind = uint8_t(kind);
      er.hostname = strings.add(e.hostname);
      if (e.path_type != GatewayPathType::kExact && e.path_type != GatewayPathType::kPathPrefix)
        return invalid(ew + ".pathType", "unknown path type");
      if (e.path.empty() || e.path[0] != '/')
        return invalid(ew + ".path", "\"" + e.path + "\" does not begin with '/'");
      if (e.path.size() > kMaxPathLength)
        return invalid(ew + ".path", "longer than " + std::to_string(kMaxPathLength) + " bytes");
      er.path_type = uint8_t(e.path_type);
      er.path = strings.add(e.path);
      er.match_length = uint32_t(gateway_match_length(e.path_type, e.path));
      er.method = strings.add(e.method);
      if (e.rule >= in.gateway_rules.size())
        return invalid(ew + ".rule", "rule index " + std::to_string(e.rule) + " is out of range (" +
                                         std::to_string(in.gateway_rules.size()) + " rules)");
      er.rule = e.rule;
      if (auto err = add_pairs(e.headers, Pairs::kHeaderMatch, ew + ".headers", strings, gs, er.first_header))
        return err;
      er.header_count = uint32_t(e.headers.size());
      if (auto err = add_pairs(e.query_params, Pairs::kQueryMatch, ew + ".queryParams", strings, gs, er.first_query))
        return err;
      er.query_count = uint32_t(e.query_params.size());
      gs.entries.push_back(er);
    }
    gs.listeners.push_back(r);
  }
  return {};
}

}  // namespace

EndpointAddress endpoint_address(const InputEndpoint& e) {
  EndpointAddress a;
  if (e.family == 4 || e.family == 6) {
    a.family = e.family;
    std::memcpy(a.bytes.data(), e.bytes.data(), e.family == 4 ? 4 : 16);
  } else if (inet_pton(AF_INET, e.address.c_str(), a.bytes.data()) == 1) {
    a.family = 4;
  } else if (inet_pton(AF_INET6, e.address.c_str(), a.bytes.data()) == 1) {
    a.family = 6;
  } else {
    a.bytes = {};
  }
  return a;
}

uint64_t table_checksum(const uint8_t* data, size_t size) {
  constexpr size_t off = offsetof(Header, checksum);
  uint64_t h = hash_bytes(data, off, 0x636b73756dull);
  return hash_bytes(data + off + 8, size - off - 8, h);
}

namespace {

void note_backend(uint32_t b, uint32_t& max_backend) {
  if (b != kNone && (max_backend == kNone || b > max_backend)) max_backend = b;
}

}  // namespace

Error build_routing(const TableInput& in, size_t nb, RoutingSections& out) {
  RoutingSections rs;
  size_t rule_count = 0;
  for (const InputHost& host : in.hosts) rule_count += host.rules.size();
  StringPool strings(in.hosts.size() * 2 + rule_count);
  std::vector<HostRecord>& hosts = rs.hosts;
  std::vector<RuleRecord>& rules = rs.rules;
  hosts.reserve(in.hosts.size());
  rules.reserve(rule_count);
  uint32_t& catch_all = rs.catch_all;
  size_t exact_hosts = 0, wildcard_hosts = 0;
  std::unordered_set<std::string_view> host_names;
  bool hosts_in_order = true;
  std::vector<uint64_t> exact_lengths(in.hosts.size()), prefix_lengths(in.hosts.size());

  for (size_t h = 0; h < in.hosts.size(); ++h) {
    const InputHost& host = in.hosts[h];
    auto where = [h] { return host_where(h); };
    HostKind kind;
    if (host.name.empty()) {
      kind = kHostCatchAll;
      if (catch_all != kNone) return invalid(where() + ".name", "a second catch-all host");
      catch_all = uint32_t(h);
    } else if (std::string_view(host.name).substr(0, 2) == "*.") {
      kind = kHostWildcard;
      // The whole name within kMaxHostLength, as readers check it: a longer
      // one would make every reader refuse the table.
      if (host.name.size() > kMaxHostLength || !is_valid_host_name(std::string_view(host.name).substr(2)))
        return invalid(where() + ".name", "\"" + host.name + "\" is not a valid wildcard host");
      ++wildcard_hosts;
    } else {
      kind = kHostExact;
      if (!is_valid_host_name(host.name))
        return invalid(where() + ".name", "\"" + host.name + "\" is not a lowercase host name");
      ++exact_hosts;
    }
    // The controller sends hosts sorted by name, and a name above the one
    // before cannot repeat an earlier one: names are hashed only once they
    // are out of order (10,000 nodes a routing change otherwise).
    if (hosts_in_order && h > 0 && !(std::string_view(host.name) > std::string_view(in.hosts[h - 1].name))) {
      hosts_in_order = false;
      for (size_t k = 0; k < h; ++k) host_names.insert(in.hosts[k].name);
    }
    if (!hosts_in_order && !host_names.insert(host.name).second)
      return invalid(where() + ".name", "host \"" + host.name + "\" appears twice");
    if (host.default_backend != kNone && host.default_backend >= nb)
      return check_backend_ref(host.default_backend, nb, where() + ".defaultBackend");
    note_backend(host.default_backend, rs.max_backend);

    HostRecord rec{};
    rec.name = strings.add(host.name);
    rec.kind = kind;
    rec.first_rule = uint32_t(rules.size());
    rec.rule_count = uint32_t(host.rules.size());
    rec.default_backend = host.default_backend;
    rec.default_source = strings.add(host.default_source);
    hosts.push_back(rec);

    for (size_t r = 0; r < host.rules.size(); ++r) {
      const InputRule& rule = host.rules[r];
      auto rw = [h, r] { return rule_where(h, r); };
      if (rule.path.empty() || rule.path[0] != '/')
        return invalid(rw() + ".path", "\"" + rule.path + "\" does not begin with '/'");
      if (rule.path.size() > kMaxPathLength)
        return invalid(rw() + ".path", "longer than " + std::to_string(kMaxPathLength) + " bytes");
      if (rule.path_type > kPathImplementationSpecific)
        return invalid(rw() + ".pathType", "unknown path type");
      if (rule.backend >= nb)
        return invalid(rw() + ".backend", "backend index " + std::to_string(rule.backend) +
                                            " is out of range (" + std::to_string(nb) + " backends)");
      note_backend(rule.backend, rs.max_backend);
      RuleRecord rr{};
      rr.host = uint32_t(h);
      rr.path_type = rule.path_type;
      rr.path = strings.add(rule.path);
      rr.match_length = uint32_t(rule.path_type == kPathExact ? rule.path.size()
                                                             : prefix_match_length(rule.path));
      rr.backend = rule.backend;
      rr.source = strings.add(rule.source);
      uint64_t bit = uint64_t(1) << (rr.match_length < 63 ? rr.match_length : 63);
      (rule.path_type == kPathExact ? exact_lengths : prefix_lengths)[h] |= bit;
      rules.push_back(rr);
    }
  }

  if (auto e = build_gateway(in, nb, strings, rs.gateway, rs.max_backend)) return e;

  // Key entries and indexes. Duplicate keys would make one rule
  // unreachable, so they are a model error: the controller resolves
  // conflicts before the table.
  KeySection host_keys, rule_keys;
  KeyIndex host_index(exact_hosts), wildcard_index(wildcard_hosts), rule_index(rules.size());
  for (size_t h = 0; h < in.hosts.size(); ++h) {
    std::string_view name = in.hosts[h].name;
    std::string_view key = hosts[h].kind == kHostWildcard ? name.substr(2) : name;
    HostKey k{};
    k.exact_lengths = exact_lengths[h];
    k.prefix_lengths = prefix_lengths[h];
    k.host = uint32_t(h);
    k.default_backend = hosts[h].default_backend;
    k.length = uint16_t(key.size());
    k.kind = uint8_t(hosts[h].kind);
    hosts[h].key = host_keys.add(k, key);
    if (hosts[h].kind == kHostExact) {
      uint64_t hash = index_hash(key, host_seed());
      host_index.insert(hash, host_tag(hash), hosts[h].key);
    } else if (hosts[h].kind == kHostWildcard) {
      uint64_t hash = index_hash(key, wildcard_seed());
      wildcard_index.insert(hash, host_tag(hash), hosts[h].key);
    }
  }
  {
    RuleKeys keys;
    for (size_t h = 0; h < in.hosts.size(); ++h) {
      uint64_t seed = rule_seed(uint32_t(h));
      for (size_t r = 0; r < in.hosts[h].rules.size(); ++r) {
        uint32_t ri = hosts[h].first_rule + uint32_t(r);
        RuleRecord& rr = rules[ri];
        bool exact = rr.path_type == kPathExact;
        std::string_view key(in.hosts[h].rules[r].path.data(), rr.match_length);
        if (!keys.insert(exact, key))
          return invalid(rule_where(h, r) + ".path",
                         "\"" + in.hosts[h].rules[r].path + "\" (" + (exact ? "Exact" : "Prefix") +
                             ") duplicates an earlier rule of the same host");
        RuleKey k{};
        k.rule = ri;
        k.host = uint32_t(h);
        k.backend = rr.backend;
        k.length = uint16_t(key.size());
        k.exact = exact ? 1 : 0;
        rr.key = rule_keys.add(k, key);
        uint64_t hash = index_hash(key, seed);
        rule_index.insert(hash, rule_tag(hash, exact), rr.key);
      }
      keys.clear();
    }
  }
  rs.strings = strings.bytes();
  rs.host_index = std::move(host_index.slots);
  rs.wildcard_index = std::move(wildcard_index.slots);
  rs.rule_index = std::move(rule_index.slots);
  rs.host_keys = host_keys.bytes();
  rs.rule_keys = rule_keys.bytes();
  out = std::move(rs);
  return {};
}

Error build_table_from(const RoutingSections& routing, const TableInput& in, uint64_t generation,
                       uint64_t build_time_ms, std::vector<uint8_t>& out) {
  const size_t nb = in.backends.size();
  if (auto e = check_backend_ref(in.default_backend, nb, "defaultBackend")) return e;
  if (routing.max_backend != kNone && routing.max_backend >= nb)
    return invalid("backends", "the routing refers to backend " + std::to_string(routing.max_backend) + " of " +
                                   std::to_string(nb));

  size_t endpoint_count = 0;
  for (const InputBackend& be : in.backends) endpoint_count += be.endpoints.size();
  // The backends' strings follow the routing's in the pool: the routing's
  // offsets hold whatever the backends are.
  StringPool strings(nb * 2, routing.strings.size());
  std::vector<BackendRecord> backends;
  std::vector<EndpointRecord> endpoints;
  backends.reserve(nb);
  endpoints.reserve(endpoint_count);
  std::string options;

  for (size_t b = 0; b < nb; ++b) {
    const InputBackend& be = in.backends[b];
    BackendRecord rec{};
    rec.service = strings.add(be.service);
    rec.port = strings.add(be.port);
    rec.problem = strings.add(be.problem);
    if (be.scheme != kSchemeHttp && be.scheme != kSchemeHttps)
      return invalid(backend_where(b) + ".scheme", "unknown scheme");
    rec.scheme = be.scheme;
    rec.first_endpoint = uint32_t(endpoints.size());
    rec.endpoint_count = uint32_t(be.endpoints.size());
    uint64_t total = 0;
    bool uniform = true;
    for (size_t e = 0; e < be.endpoints.size(); ++e) {
      const InputEndpoint& ep = be.endpoints[e];
      auto ew = [b, e] { return endpoint_where(b, e); };
      EndpointRecord er{};
      if (ep.family == 4 || ep.family == 6) {
        er.family = ep.family;
        std::memcpy(er.address, ep.bytes.data(), ep.family == 4 ? 4 : 16);
      } else if (inet_pton(AF_INET, ep.address.c_str(), er.address) == 1) {
        er.family = 4;
      } else if (inet_pton(AF_INET6, ep.address.c_str(), er.address) == 1) {
        er.family = 6;
      } else {
        return invalid(ew() + ".address", "\"" + ep.address + "\" is not an IPv4 or IPv6 address");
      }
      if (ep.port == 0) return invalid(ew() + ".port", "must be 1 to 65535");
      if (ep.weight < 1 || ep.weight > 65535) return invalid(ew() + ".weight", "must be 1 to 65535");
      er.port = ep.port;
      er.weight = ep.weight;
      if (ep.weight != be.endpoints[0].weight) uniform = false;
      total += ep.weight;
      endpoints.push_back(er);
    }
    rec.flags = uniform ? uint32_t(kBackendUniformWeights) : 0u;
    rec.total_weight = uint32_t(total);
    if (auto e = check_options(be.options, b)) return e;
    rec.options_offset = uint32_t(options.size());
    append_options(options, be.options);
    rec.options_size = uint32_t(options.size() - rec.options_offset);
    backends.push_back(rec);
  }
  if (routing.strings.size() + strings.bytes().size() > kMaxTableBytes) return invalid("table", "larger than 2 GiB");

  // Layout: header, then each section 64-byte aligned; the strings are the
  // routing's, then the backends'.
  const std::string& pool = strings.bytes();
  const GatewaySections& gateway = routing.gateway;
  const size_t pool_size = routing.strings.size() + pool.size();
  Part parts[kSectionCount] = {
      {nullptr, pool_size, pool_size},
      {routing.hosts.data(), routing.hosts.size() * sizeof(HostRecord), routing.hosts.size()},
      {routing.rules.data(), routing.rules.size() * sizeof(RuleRecord), routing.rules.size()},
      {backends.data(), backends.size() * sizeof(BackendRecord), backends.size()},
      {endpoints.data(), endpoints.size() * sizeof(EndpointRecord), endpoints.size()},
      {options.data(), options.size(), options.size()},
      {routing.host_index.data(), routing.host_index.size() * sizeof(KeySlot), routing.host_index.size()},
      {routing.wildcard_index.data(), routing.wildcard_index.size() * sizeof(KeySlot), routing.wildcard_index.size()},
      {routing.rule_index.data(), routing.rule_index.size() * sizeof(KeySlot), routing.rule_index.size()},
      {routing.host_keys.data(), routing.host_keys.size(), routing.host_keys.size()},
      {routing.rule_keys.data(), routing.rule_keys.size(), routing.rule_keys.size()},
      {gateway.listeners.data(), gateway.listeners.size() * sizeof(GatewayListenerRecord), gateway.listeners.size()},
      {gateway.entries.data(), gateway.entries.size() * sizeof(GatewayEntryRecord), gateway.entries.size()},
      {gateway.pairs.data(), gateway.pairs.size() * sizeof(GatewayPairRecord), gateway.pairs.size()},
      {gateway.rules.data(), gateway.rules.size() * sizeof(GatewayRuleRecord), gateway.rules.size()},
      {gateway.choices.data(), gateway.choices.size() * sizeof(GatewayChoiceRecord), gateway.choices.size()},
      {gateway.filters.data(), gateway.filters.size() * sizeof(GatewayFilterRecord), gateway.filters.size()},
  };
  static_assert(kSectionCount == 17, "a section without its part");
  size_t total = laid_out_size(parts, kSectionCount);
  if (total > kMaxTableBytes) return invalid("table", "larger than 2 GiB");

  out.assign(total, 0);
  Header header{};
  std::memcpy(header.magic, kTableMagic, sizeof header.magic);
  header.format_version = kFormatVersion;
  header.header_size = sizeof(Header);
  header.total_size = total;
  header.generation = generation;
  header.build_time_ms = build_time_ms;
  header.default_backend = in.default_backend;
  header.catch_all_host = routing.catch_all;
  header.section_count = kSectionCount;
  lay_out(parts, kSectionCount, out, header.sections);
  // The string pool in its two pieces.
  uint8_t* at = out.data() + header.sections[kSectionStrings].offset;
  if (!routing.strings.empty()) std::memcpy(at, routing.strings.data(), routing.strings.size());
  if (!pool.empty()) std::memcpy(at + routing.strings.size(), pool.data(), pool.size());
  std::memcpy(out.data(), &header, sizeof header);
  uint64_t sum = table_checksum(out.data(), out.size());
  std::memcpy(out.data() + offsetof(Header, checksum), &sum, sizeof sum);
  return {};
}

Error build_table(const TableInput& in, uint64_t generation, uint64_t build_time_ms,
                  std::vector<uint8_t>& out) {
  const size_t nb = in.backends.size();
  if (auto e = check_backend_ref(in.default_backend, nb, "defaultBackend")) return e;
  RoutingSections routing;
  if (auto e = build_routing(in, nb, routing)) return e;
  return build_table_from(routing, in, generation, build_time_ms, out);
}

}  // namespace atsi
