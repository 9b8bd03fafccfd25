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
      !records(kTlsSectionHosts, sizeof(TlsHostRecord)))
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

}  // namespace atsi
