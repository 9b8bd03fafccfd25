#include "tls_writer.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_set>

#include "blob_build.h"
#include "hash.h"
#include "names.h"
#include "table_writer.h"
#include "tls_format.h"
#include "tls_view.h"

namespace atsi {
namespace {

using build::Index;
using build::Part;
using build::StringPool;

Error invalid(const std::string& where, const std::string& what) {
  return {ErrorCode::kInvalidModel, where + ": " + what};
}

std::string at(const char* list, size_t i) { return std::string(list) + "[" + std::to_string(i) + "]"; }

bool is_pem(std::string_view s) { return s.substr(0, 10) == "-----BEGIN"; }

Error check_pem(std::string_view pem, const std::string& where) {
  if (pem.empty()) return invalid(where, "is empty");
  if (!is_pem(pem)) return invalid(where, "does not begin with \"-----BEGIN\" (PEM expected)");
  return {};
}

// `what` is "certificate" or "policy"; `whats` its plural.
Error check_ref(uint32_t i, size_t count, const char* what, const char* whats, const std::string& where) {
  if (i != kNone && i >= count)
    return invalid(where, std::string(what) + " index " + std::to_string(i) + " is out of range (" +
                              std::to_string(count) + " " + (count == 1 ? what : whats) + ")");
  return {};
}

}  // namespace

Error build_tls_table(const TlsInput& in, uint64_t generation, uint64_t build_time_ms, std::vector<uint8_t>& out) {
  const size_t nc = in.certificates.size(), np = in.policies.size();
  if (auto e = check_ref(in.default_certificate, nc, "certificate", "certificates", "defaultCertificate")) return e;

  StringPool strings;
  std::vector<CertificateRecord> certs;
  std::vector<PolicyRecord> policies;
  std::vector<TlsHostRecord> hosts;
  certs.reserve(nc);
  policies.reserve(np);
  hosts.reserve(in.hosts.size());

  for (size_t c = 0; c < nc; ++c) {
    const InputCertificate& ic = in.certificates[c];
    std::string where = at("certificates", c);
    if (auto e = check_pem(ic.chain_pem, where + ".chainPem")) return e;
    if (auto e = check_pem(ic.key_pem, where + ".keyPem")) return e;
    CertificateRecord r{};
    r.secret = strings.add(ic.secret);
    r.chain = strings.add(ic.chain_pem);
    r.key = strings.add(ic.key_pem);
    r.not_after = ic.not_after;
    certs.push_back(r);
  }

  for (size_t p = 0; p < np; ++p) {
    const InputPolicy& ip = in.policies[p];
    std::string where = at("policies", p);
    if (ip.min_version != kTlsMinNone && ip.min_version != kTlsMin12 && ip.min_version != kTlsMin13)
      return invalid(where + ".minVersion", std::to_string(ip.min_version) + " is not 0 (none), 12 or 13");
    if (ip.verify_client > kVerifyRefuse)
      return invalid(where + ".verifyClient",
                     std::to_string(ip.verify_client) + " is not 0 (off), 1 (optional), 2 (on) or 3 (refuse)");
    bool verifies = ip.verify_client == kVerifyOptional || ip.verify_client == kVerifyOn;
    if (verifies && ip.ca_pem.empty())
      return invalid(where + ".caPem", "verifyClient " + std::to_string(ip.verify_client) + " needs a CA");
    if (!ip.ca_pem.empty())
      if (auto e = check_pem(ip.ca_pem, where + ".caPem")) return e;
    if (ip.verify_depth < 1 || ip.verify_depth > kMaxVerifyDepth)
      return invalid(where + ".verifyDepth", std::to_string(ip.verify_depth) + " is not 1 to 10");
    PolicyRecord r{};
    r.min_version = ip.min_version;
    r.verify_client = ip.verify_client;
    r.ca = ip.ca_pem.empty() ? StrRef{0, 0} : strings.add(ip.ca_pem);
    r.verify_depth = ip.verify_depth;
    policies.push_back(r);
  }

  size_t exact = 0, wildcard = 0;
  std::unordered_set<std::string_view> names;
  for (size_t h = 0; h < in.hosts.size(); ++h) {
    const InputTlsHost& ih = in.hosts[h];
    std::string where = at("hosts", h);
    std::string_view name = ih.name;
    bool wild = name.substr(0, 2) == "*.";
    // The whole name within kMaxHostLength, as the reader checks; the
    // longest SNI a wildcard can cover has one more label.
    if (name.size() > kMaxHostLength || !is_valid_host_name(wild ? name.substr(2) : name))
      return invalid(where + ".name", "\"" + ih.name + "\" is not a lowercase host name or \"*.\" and one");
    if (!names.insert(name).second) return invalid(where + ".name", "host \"" + ih.name + "\" appears twice");
    if (auto e = check_ref(ih.certificate, nc, "certificate", "certificates", where + ".certificate")) return e;
    if (auto e = check_ref(ih.policy, np, "policy", "policies", where + ".policy")) return e;
    TlsHostRecord r{};
    r.name = strings.add(name);
    r.kind = wild ? kTlsHostWildcard : kTlsHostExact;
    r.certificate = ih.certificate;
    r.policy = ih.policy;
    hosts.push_back(r);
    ++(wild ? wildcard : exact);
  }

  Index host_index(exact), wildcard_index(wildcard);
  for (size_t h = 0; h < in.hosts.size(); ++h) {
    std::string_view name = in.hosts[h].name;
    if (hosts[h].kind == kTlsHostExact) {
      host_index.insert(key_hash(name, host_seed()), uint32_t(h));
    } else {
      wildcard_index.insert(key_hash(name.substr(2), wildcard_seed()), uint32_t(h));
    }
  }

  // Gateway listeners, sorted as readers search them (tls_listener_order).
  struct Keyed {
    TlsListenerRecord rec;
    std::string_view hostname;
    size_t input;
  };
  std::vector<Keyed> keyed;
  keyed.reserve(in.listeners.size());
  for (size_t li = 0; li < in.listeners.size(); ++li) {
    const InputTlsListener& l = in.listeners[li];
    std::string where = at("gatewayListeners", li);
    TlsListenerRecord r{};
    if (!listener_address(l.family, l.bytes.data(), l.address, r.family, r.address))
      return invalid(where + ".address", "\"" + l.address + "\" is not an IPv4 or IPv6 address, nor * (any)");
    if (l.port == 0) return invalid(where + ".port", "must be 1 to 65535");
    r.port = l.port;
    GatewayHostKind kind;
    if (!gateway_host_kind(l.hostname, kind))
      return invalid(where + ".hostname", "\"" + l.hostname + "\" is not a lowercase host name, \"*.\" and one, or empty");
    r.host_kind = uint8_t(kind);
    if (l.certificate == kNone) return invalid(where + ".certificate", "is required");
    if (auto e = check_ref(l.certificate, nc, "certificate", "certificates", where + ".certificate")) return e;
    if (auto e = check_ref(l.policy, np, "policy", "policies", where + ".policy")) return e;
    r.certificate = l.certificate;
    r.policy = l.policy;
    r.hostname = strings.add(l.hostname);
    r.gateway = strings.add(l.gateway);
    r.listener = strings.add(l.listener);
    keyed.push_back({r, l.hostname, li});
  }
  std::stable_sort(keyed.begin(), keyed.end(), [](const Keyed& a, const Keyed& b) {
    return tls_listener_order(a.rec, a.hostname, b.rec, b.hostname) < 0;
  });
  std::vector<TlsListenerRecord> listeners;
  listeners.reserve(keyed.size());
  for (size_t i = 0; i < keyed.size(); ++i) {
    if (i > 0 && tls_listener_order(keyed[i - 1].rec, keyed[i - 1].hostname, keyed[i].rec, keyed[i].hostname) == 0)
      return invalid(at("gatewayListeners", keyed[i].input) + ".hostname",
                     "\"" + std::string(keyed[i].hostname) + "\" on this address and port is also gatewayListeners[" +
                         std::to_string(keyed[i - 1].input) + "]'s: SNI could not choose between them");
    listeners.push_back(keyed[i].rec);
  }

  const std::string& pool = strings.bytes();
  Part parts[kTlsSectionCount] = {
      {pool.data(), pool.size(), pool.size()},
      {certs.data(), certs.size() * sizeof(CertificateRecord), certs.size()},
      {policies.data(), policies.size() * sizeof(PolicyRecord), policies.size()},
      {hosts.data(), hosts.size() * sizeof(TlsHostRecord), hosts.size()},
      {host_index.slots.data(), host_index.slots.size() * sizeof(IndexSlot), host_index.slots.size()},
      {wildcard_index.slots.data(), wildcard_index.slots.size() * sizeof(IndexSlot), wildcard_index.slots.size()},
      {listeners.data(), listeners.size() * sizeof(TlsListenerRecord), listeners.size()},
  };
  size_t total = build::laid_out_size(sizeof(TlsHeader), parts, kTlsSectionCount);
  if (total > kMaxTableBytes) return invalid("table", "larger than 2 GiB");

  out.assign(total, 0);
  TlsHeader header{};
  std::memcpy(header.magic, kTlsMagic, sizeof header.magic);
  header.format_version = kTlsFormatVersion;
  header.header_size = sizeof(TlsHeader);
  header.total_size = total;
  header.generation = generation;
  header.build_time_ms = build_time_ms;
  header.default_certificate = in.default_certificate;
  header.section_count = kTlsSectionCount;
  build::lay_out(sizeof(TlsHeader), parts, kTlsSectionCount, out, header.sections);
  std::memcpy(out.data(), &header, sizeof header);
  uint64_t sum = table_checksum(out.data(), out.size());
  std::memcpy(out.data() + offsetof(TlsHeader, checksum), &sum, sizeof sum);
  return {};
}

}  // namespace atsi
