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

  const CertificateRecord& certificate(uint32_t i) const { return certificates_[i]; }
  const PolicyRecord& policy(uint32_t i) const { return policies_[i]; }
  const TlsHostRecord& host(uint32_t i) const { return hosts_[i]; }
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
  const IndexSlot* host_index_ = nullptr;
  const IndexSlot* wildcard_index_ = nullptr;
  uint32_t strings_size_ = 0, certificate_count_ = 0, policy_count_ = 0, host_count_ = 0;
  uint32_t host_mask_ = 0, wildcard_mask_ = 0;
};

// The host record for a TLS server name as the client sent it (any case,
// maybe one trailing dot): the exact name, else the wildcard "*." + all after
// the first label ("*.a.com" covers "b.a.com", not "a.com" nor "c.b.a.com"),
// else kNone (the caller then serves the default certificate and no
// policy). An empty or over-long name is kNone. No allocation.
uint32_t find_tls_host(const TlsView& view, std::string_view server_name);

}  // namespace atsi
