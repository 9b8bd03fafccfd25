// A read-only view of TLS table bytes (tls_format.h) that has passed
// validation: once validate() accepts a buffer, every offset, length and
// index in it is in bounds, so readers follow them without further checks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "errors.h"
#include "tls_format.h"

namespace atsi {

class TlsView {
 public:
  TlsView() = default;

  // Checks magic, version, sizes, checksum and every reference. On failure
  // returns kInvalidTable with the reason and leaves `view` untouched.
  static Error validate(const uint8_t* data, size_t size, TlsView& view);

  const TlsHeader& header() const { return *header_; }
  uint64_t generation() const { return header_->generation; }
  uint32_t default_certificate() const { return header_->default_certificate; }

  uint32_t certificate_count() const { return certificate_count_; }
  uint32_t policy_count() const { return policy_count_; }
  uint32_t host_count() const { return host_count_; }
  uint32_t listener_count() const { return listener_count_; }

  const CertificateRecord& certificate(uint32_t i) const { return certificates_[i]; }
  const PolicyRecord& policy(uint32_t i) const { return policies_[i]; }
  const TlsHostRecord& host(uint32_t i) const { return hosts_[i]; }
  const TlsListenerRecord& listener(uint32_t i) const { return listeners_[i]; }
  std::string_view str(StrRef r) const { return {strings_ + r.offset, r.length}; }

  // Index probes of an already normalised name; kNone when absent.
  uint32_t find_exact(std::string_view name) const;
  uint32_t find_wildcard(std::string_view suffix) const;

 private:
  const TlsHeader* header_ = nullptr;
  const char* strings_ = nullptr;
  const CertificateRecord* certificates_ = nullptr;
  const PolicyRecord* policies_ = nullptr;
  const TlsHostRecord* hosts_ = nullptr;
  const TlsListenerRecord* listeners_ = nullptr;
  const IndexSlot* host_index_ = nullptr;
  const IndexSlot* wildcard_index_ = nullptr;
  uint32_t strings_size_ = 0, certificate_count_ = 0, policy_count_ = 0, host_count_ = 0, listener_count_ = 0;
  uint32_t host_mask_ = 0, wildcard_mask_ = 0;
};

// The host record for a TLS server name as the client sent it (any case,
// maybe one trailing dot): the exact name, else the wildcard "*." + all after
// the first label ("*.a.com" covers "b.a.com", not "a.com" nor "c.b.a.com"),
// else kNone (the caller then serves the default certificate and no
// policy). An empty or over-long name is kNone. No allocation.
uint32_t find_tls_host(const TlsView& view, std::string_view server_name);

// The order of Gateway listener records (tls_format.h): (family, address,
// port), then exact hostnames, wildcards with more labels before fewer, the
// empty hostname last; then the hostnames' bytes. 0 only for the same
// address, port and hostname. `name_a` and `name_b` are the records'
// hostnames.
int tls_listener_order(const TlsListenerRecord& a, std::string_view name_a, const TlsListenerRecord& b,
                       std::string_view name_b);

// What a connection to a local (family, address, port) is served among the
// Gateway listeners.
struct TlsListenerMatch {
  // Some listener is on this address and port: serve from `listener` only.
  bool on_gateway = false;
  // The most specific listener whose hostname matches the SNI (exact, then
  // the wildcard with the most labels, then the one with no hostname), or
  // kNone: no listener of that Gateway's port takes this name.
  uint32_t listener = kNone;
};

// The listeners of the connection's own (family, address, port), else
// those on every local address of its port (kAnyAddressFamily). Normalizes
// `server_name` as find_tls_host() does (an empty or over-long name matches
// only a listener with no hostname); `address` holds 4 or 16 bytes as
// `family` (4 or 6) says. One or two binary searches and a scan of one
// address's listeners; no allocation.
TlsListenerMatch find_tls_listener(const TlsView& view, uint8_t family, const uint8_t* address, uint16_t port,
                                   std::string_view server_name);

}  // namespace atsi
