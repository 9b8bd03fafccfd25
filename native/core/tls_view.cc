#include "tls_view.h"

#include <cstring>
#include <string>

#include "blob_check.h"
#include "hash.h"
#include "names.h"
#include "table_writer.h"

namespace atsi {
namespace {

using check::index_ok;
using check::str_ok;

Error refuse(const std::string& why) { return {ErrorCode::kInvalidTable, why}; }

}  // namespace

Error TlsView::validate(const uint8_t* data, size_t size, TlsView& view) {
  if (size < sizeof(TlsHeader)) return refuse("shorter than a header (" + std::to_string(size) + " bytes)");
  if (reinterpret_cast<uintptr_t>(data) % 8 != 0) return refuse("not 8-byte aligned");
  const auto* h = reinterpret_cast<const TlsHeader*>(data);
  if (std::memcmp(h->magic, kTlsMagic, sizeof h->magic) != 0) return refuse("bad magic");
  if (h->format_version != kTlsFormatVersion)
    return refuse("format version " + std::to_string(h->format_version) + ", this reader knows " +
                  std::to_string(kTlsFormatVersion));
  if (h->header_size != sizeof(TlsHeader) || h->section_count != kTlsSectionCount)
    return refuse("unexpected header layout");
  if (h->total_size != size)
    return refuse("size " + std::to_string(size) + " differs from the header's " + std::to_string(h->total_size) +
                  " (truncated?)");
  if (size > kMaxTableBytes) return refuse("larger than 2 GiB");
  if (table_checksum(data, size) != h->checksum) return refuse("checksum mismatch");

  for (uint32_t s = 0; s < kTlsSectionCount; ++s) {
    const Section& sec = h->sections[s];
    if (sec.offset % 8 != 0 || sec.offset < sizeof(TlsHeader) || sec.offset > size || sec.size > size - sec.offset)
      return refuse("section " + std::to_string(s) + " out of bounds");
  }
  auto records = [&](TlsSectionId id, size_t rec) { return uint64_t(h->sections[id].count) * rec == h->sections[id].size; };
  if (h->sections[kTlsSectionStrings].count != h->sections[kTlsSectionStrings].size ||
      !records(kTlsSectionCertificates, sizeof(CertificateRecord)) || !records(kTlsSectionPolicies, sizeof(PolicyRecord)) ||
      !records(kTlsSectionHosts, sizeof(TlsHostRecord)) || !records(kTlsSectionListeners, sizeof(TlsListenerRecord)))
    return refuse("section sizes do not match their record counts");

  TlsView v;
  v.header_ = h;
  auto at = [&](TlsSectionId id) { return data + h->sections[id].offset; };
  v.strings_ = reinterpret_cast<const char*>(at(kTlsSectionStrings));
  v.strings_size_ = h->sections[kTlsSectionStrings].size;
  v.certificates_ = reinterpret_cast<const CertificateRecord*>(at(kTlsSectionCertificates));
  v.certificate_count_ = h->sections[kTlsSectionCertificates].count;
  v.policies_ = reinterpret_cast<const PolicyRecord*>(at(kTlsSectionPolicies));
  v.policy_count_ = h->sections[kTlsSectionPolicies].count;
  v.hosts_ = reinterpret_cast<const TlsHostRecord*>(at(kTlsSectionHosts));
  v.host_count_ = h->sections[kTlsSectionHosts].count;
  v.listeners_ = reinterpret_cast<const TlsListenerRecord*>(at(kTlsSectionListeners));
  v.listener_count_ = h->sections[kTlsSectionListeners].count;
  v.host_index_ = reinterpret_cast<const IndexSlot*>(at(kTlsSectionHostIndex));
  v.wildcard_index_ = reinterpret_cast<const IndexSlot*>(at(kTlsSectionWildcardIndex));

  const uint32_t pool = v.strings_size_;
  if (h->default_certificate != kNone && h->default_certificate >= v.certificate_count_)
    return refuse("default certificate out of range");
  for (uint32_t i = 0; i < v.certificate_count_; ++i) {
    const CertificateRecord& r = v.certificates_[i];
    if (!str_ok(r.secret, pool) || !str_ok(r.chain, pool) || !str_ok(r.key, pool) || r.chain.length == 0 ||
        r.key.length == 0)
      return refuse("certificate " + std::to_string(i) + ": string out of bounds or empty");
  }
  for (uint32_t i = 0; i < v.policy_count_; ++i) {
    const PolicyRecord& r = v.policies_[i];
    bool version_ok = r.min_version == kTlsMinNone || r.min_version == kTlsMin12 || r.min_version == kTlsMin13;
    bool verifies = r.verify_client == kVerifyOptional || r.verify_client == kVerifyOn;
    if (!version_ok || r.verify_client > kVerifyRefuse || !str_ok(r.ca, pool) || (verifies && r.ca.length == 0) || r.verify_depth < 1 || r.verify_depth > kMaxVerifyDepth)
      return refuse("policy " + std::to_string(i) + ": invalid");
  }
  for (uint32_t i = 0; i < v.host_count_; ++i) {
    const TlsHostRecord& r = v.hosts_[i];
    if (!str_ok(r.name, pool) || r.name.length > kMaxHostLength)
      return refuse("host " + std::to_string(i) + ": string out of bounds");
    bool starred = v.str(r.name).substr(0, 2) == "*.";
    if (r.kind > kTlsHostWildcard || starred != (r.kind == kTlsHostWildcard))
      return refuse("host " + std::to_string(i) + ": kind does not match its name");
    if ((r.certificate != kNone && r.certificate >= v.certificate_count_) ||
        (r.policy != kNone && r.policy >= v.policy_count_))
      return refuse("host " + std::to_string(i) + ": reference out of range");
  }
  for (uint32_t i = 0; i < v.listener_count_; ++i) {
    const TlsListenerRecord& r = v.listeners_[i];
    std::string who = "gateway listener " + std::to_string(i);
    if (!str_ok(r.hostname, pool) || !str_ok(r.gateway, pool) || !str_ok(r.listener, pool))
      return refuse(who + ": string out of bounds");
    if (r.family != 4 && r.family != 6 && r.family != kAnyAddressFamily)
      return refuse(who + ": address family " + std::to_string(r.family));
    for (int b = r.family == 4 ? 4 : r.family == 6 ? 16 : 0; b < 16; ++b)
      if (r.address[b] != 0)
        return refuse(who + (r.family == 4 ? ": an IPv4 address with bytes after the fourth" : ": any address with bytes that are not zero"));
    if (r.port == 0) return refuse(who + ": port 0");
    GatewayHostKind kind;
    if (!gateway_host_kind(v.str(r.hostname), kind) || uint8_t(kind) != r.host_kind)
      return refuse(who + ": hostname invalid or not of its kind");
    if (r.certificate >= v.certificate_count_ || (r.policy != kNone && r.policy >= v.policy_count_))
      return refuse(who + ": reference out of range");
    // The lookup's binary search and its first-match-is-most-specific rest on it.
    if (i > 0 && tls_listener_order(v.listeners_[i - 1], v.str(v.listeners_[i - 1].hostname), r, v.str(r.hostname)) >= 0)
      return refuse(who + ": not after the one before it (order, or the same hostname twice on one address and port)");
  }
  if (!index_ok(h->sections[kTlsSectionHostIndex], v.host_count_, v.host_index_) ||
      !index_ok(h->sections[kTlsSectionWildcardIndex], v.host_count_, v.wildcard_index_))
    return refuse("index malformed");
  v.host_mask_ = h->sections[kTlsSectionHostIndex].count - 1;
  v.wildcard_mask_ = h->sections[kTlsSectionWildcardIndex].count - 1;
  view = v;
  return {};
}

uint32_t TlsView::find_exact(std::string_view name) const {
  return check::probe(host_index_, host_mask_, key_hash(name, host_seed()), [&](uint32_t i) {
    return hosts_[i].kind == kTlsHostExact && str(hosts_[i].name) == name;
  });
}

uint32_t TlsView::find_wildcard(std::string_view suffix) const {
  return check::probe(wildcard_index_, wildcard_mask_, key_hash(suffix, wildcard_seed()), [&](uint32_t i) {
    std::string_view name = str(hosts_[i].name);
    return hosts_[i].kind == kTlsHostWildcard && name.size() == suffix.size() + 2 && name.substr(2) == suffix;
  });
}

uint32_t find_tls_host(const TlsView& view, std::string_view sni) {
  if (!sni.empty() && sni.back() == '.') sni.remove_suffix(1);
  if (sni.empty() || sni.size() > kMaxHostLength) return kNone;
  char buf[kHostBufferSize];
  for (size_t i = 0; i < sni.size(); ++i) {
    char c = sni[i];
    buf[i] = (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
  }
  std::string_view name(buf, sni.size());
  uint32_t h = view.find_exact(name);
  if (h != kNone) return h;
  size_t dot = name.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 >= name.size()) return kNone;
  return view.find_wildcard(name.substr(dot + 1));
}

namespace {

// The rank of a hostname in a group of listeners, the smaller the more
// specific: exact, wildcards by their labels (most first), none.
uint32_t name_rank(uint8_t kind, std::string_view name) {
  switch (GatewayHostKind(kind)) {
    case GatewayHostKind::kExact: return 0;
    case GatewayHostKind::kWildcard: {
      uint32_t dots = 0;
      for (char c : name) dots += c == '.';
      return 1 + (kMaxHostLength - dots);  // "*.a.b" (2 dots) before "*.b" (1)
    }
    default: return 2 + kMaxHostLength;
  }
}

// The Gateway API's hostname match of a normalized SNI (`ok` false: empty
// or too long, which only a listener with no hostname takes).
bool sni_matches(uint8_t kind, std::string_view pattern, std::string_view sni, bool ok) {
  switch (GatewayHostKind(kind)) {
    case GatewayHostKind::kAny: return true;
    case GatewayHostKind::kExact: return ok && pattern == sni;
    case GatewayHostKind::kWildcard: {
      std::string_view suffix = pattern.substr(1);  // ".example.com"
      return ok && sni.size() > suffix.size() && sni.compare(sni.size() - suffix.size(), suffix.size(), suffix) == 0;
    }
  }
  return false;
}

}  // namespace

int tls_listener_order(const TlsListenerRecord& a, std::string_view name_a, const TlsListenerRecord& b,
                       std::string_view name_b) {
  if (int c = gateway_address_order(a.family, a.address, a.port, b.family, b.address, b.port)) return c;
  uint32_t ra = name_rank(a.host_kind, name_a), rb = name_rank(b.host_kind, name_b);
  if (ra != rb) return ra < rb ? -1 : 1;
  int c = name_a.compare(name_b);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

namespace {

// The first listener record on exactly (family, address, port), or kNone.
uint32_t first_listener_at(const TlsView& view, uint8_t family, const uint8_t* address, uint16_t port) {
  const uint32_t n = view.listener_count();
  uint32_t lo = 0, hi = n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    const TlsListenerRecord& l = view.listener(mid);
    if (gateway_address_order(l.family, l.address, l.port, family, address, port) < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == n) return kNone;
  const TlsListenerRecord& l = view.listener(lo);
  return gateway_address_order(l.family, l.address, l.port, family, address, port) == 0 ? lo : kNone;
}

}  // namespace

TlsListenerMatch find_tls_listener(const TlsView& view, uint8_t family, const uint8_t* address, uint16_t port,
                                   std::string_view sni) {
  TlsListenerMatch m;
  const uint32_t n = view.listener_count();
  if (n == 0 || address == nullptr || (family != 4 && family != 6)) return m;
  // Its own address's listeners, else those on every address of the port
  // (sorted first: a second search of the same cost).
  uint32_t lo = first_listener_at(view, family, address, port);
  if (lo == kNone && view.listener(0).family == kAnyAddressFamily) {
    static constexpr uint8_t kZero[16] = {};
    lo = first_listener_at(view, kAnyAddressFamily, kZero, port);
  }
  if (lo == kNone) return m;
  const TlsListenerRecord& group = view.listener(lo);
  m.on_gateway = true;
  if (!sni.empty() && sni.back() == '.') sni.remove_suffix(1);
  bool ok = !sni.empty() && sni.size() <= kMaxHostLength;
  char buf[kHostBufferSize];
  std::string_view name;
  if (ok) {
    for (size_t i = 0; i < sni.size(); ++i) {
      char c = sni[i];
      buf[i] = (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
    }
    name = std::string_view(buf, sni.size());
  }
  for (uint32_t i = lo; i < n; ++i) {
    const TlsListenerRecord& l = view.listener(i);
    if (gateway_address_order(l.family, l.address, l.port, group.family, group.address, group.port) != 0) break;
    if (sni_matches(l.host_kind, view.str(l.hostname), name, ok)) {
      m.listener = i;
      break;
    }
  }
  return m;
}

}  // namespace atsi
