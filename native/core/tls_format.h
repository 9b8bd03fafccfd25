// The TLS table's binary format: certificates served by SNI and per-host TLS
// policy, one definition shared by the writer (the Node addon) and the
// readers (the ATS plugin's certificate hooks, the addon's readTls).
//
// A second kind of immutable blob beside the route table (format.h), with
// its own magic and version, published under its own object names
// (shm_names.h: "NAME.tls.ctl", "NAME.tls.GEN") by the same protocol. Its
// header starts like the route table's (magic, version, header size, total
// size, generation, build time, checksum at the same offsets), so the
// publisher reseals both kinds alike and both use table_checksum().
// Readers never trust it: see tls_view.cc for what is checked.
#pragma once

#include <cstddef>
#include <cstdint>

#include "format.h"

namespace atsi {

inline constexpr char kTlsMagic[8] = {'A', 'T', 'S', 'I', 'T', 'L', 'S', '1'};
// Bump on any incompatible change of the records below.
inline constexpr uint32_t kTlsFormatVersion = 1;

enum TlsSectionId : uint32_t {
  kTlsSectionStrings = 0,    // the string pool (names, PEM texts)
  kTlsSectionCertificates,   // CertificateRecord
  kTlsSectionPolicies,       // PolicyRecord
  kTlsSectionHosts,          // TlsHostRecord
  kTlsSectionHostIndex,      // exact name -> host
  kTlsSectionWildcardIndex,  // suffix of "*.suffix" -> host
  kTlsSectionCount
};

struct TlsHeader {
  char magic[8];
  uint32_t format_version;
  uint32_t header_size;
  uint64_t total_size;
  uint64_t generation;
  uint64_t build_time_ms;
  uint64_t checksum;             // of every byte with this field taken as zero (table_checksum)
  uint32_t default_certificate;  // for unknown names and no SNI, or kNone
  uint32_t section_count;
  uint32_t flags;  // none yet; readers ignore bits they do not know
  uint32_t reserved;
  Section sections[kTlsSectionCount];
};
static_assert(sizeof(TlsHeader) == 64 + 16 * kTlsSectionCount);
// The prefix the publisher rewrites (generation, checksum) is the route
// table's, byte for byte.
static_assert(offsetof(TlsHeader, total_size) == offsetof(Header, total_size));
static_assert(offsetof(TlsHeader, generation) == offsetof(Header, generation));
static_assert(offsetof(TlsHeader, checksum) == offsetof(Header, checksum));

struct CertificateRecord {
  StrRef secret;  // "namespace/name" of the Secret, for people and logs
  StrRef chain;   // PEM: the leaf certificate first, then intermediates
  StrRef key;     // PEM: the private key
  uint64_t not_after;  // seconds since the epoch, for people; 0 unknown
};
static_assert(sizeof(CertificateRecord) == 32);

enum TlsMinVersion : uint32_t { kTlsMinNone = 0, kTlsMin12 = 12, kTlsMin13 = 13 };
enum VerifyClient : uint32_t {
  kVerifyOff = 0,
  kVerifyOptional = 1,  // ask for a client certificate; verify it when one is sent
  kVerifyOn = 2,        // require a client certificate that verifies
  kVerifyRefuse = 3,    // fail every handshake for the host (the controller could not use its CA: fail closed)
};
inline constexpr uint32_t kMaxVerifyDepth = 10;

struct PolicyRecord {
  uint32_t min_version;    // TlsMinVersion
  uint32_t verify_client;  // VerifyClient
  StrRef ca;               // PEM of the CA certificates; empty when verify_client is off or refuse
  uint32_t verify_depth;   // 1 to kMaxVerifyDepth
  uint32_t reserved;
};
static_assert(sizeof(PolicyRecord) == 24);

enum TlsHostKind : uint32_t { kTlsHostExact = 0, kTlsHostWildcard = 1 };

struct TlsHostRecord {
  StrRef name;  // "a.com" or "*.a.com", lowercase
  uint32_t kind;
  uint32_t certificate;  // or kNone: the default certificate
  uint32_t policy;       // or kNone: no policy
  uint32_t reserved;
};
static_assert(sizeof(TlsHostRecord) == 24);

}  // namespace atsi
