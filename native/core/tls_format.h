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
// 2: the Gateway listeners' section (kTlsSectionListeners).
inline constexpr uint32_t kTlsFormatVersion = 2;

enum TlsSectionId : uint32_t {
  kTlsSectionStrings = 0,    // the string pool (names, PEM texts)
  kTlsSectionCertificates,   // CertificateRecord
  kTlsSectionPolicies,       // PolicyRecord
  kTlsSectionHosts,          // TlsHostRecord
  kTlsSectionHostIndex,      // exact name -> host
  kTlsSectionWildcardIndex,  // suffix of "*.suffix" -> host
  kTlsSectionListeners,      // TlsListenerRecord, sorted (tls_listener_order)
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

// An HTTPS listener of a Gateway: what a connection to its local address and
// port is served, by SNI. A connection whose (family, address, port) has any
// of these is served from them only (never from the hosts above, nor the
// default certificate), so that one Gateway never presents another's or an
// Ingress's certificate; a connection whose own address has none takes
// those of kAnyAddressFamily on its port, as the route table's listeners
// (format.h). Sorted by (family, address, port), then the most
// specific hostname first: exact names, wildcards by their labels (most
// first), then the listener with no hostname; so the first record of a
// group that matches an SNI is the one to serve. No two of a group have the
// same hostname.
struct TlsListenerRecord {
  uint8_t family;       // 4 or 6, or kAnyAddressFamily (format.h: every local address of the port)
  uint8_t host_kind;    // GatewayHostKind (format.h) of `hostname`
  uint16_t port;        // the local port ATS serves it on
  uint8_t address[16];  // the local address, network order; IPv4 in the first 4, zeros after
  StrRef hostname;      // "a.com", "*.a.com" (one or more labels, never the apex), or "" for any SNI or none
  StrRef gateway;       // "namespace/name", for people
  StrRef listener;      // its name, for people
  uint32_t certificate;  // never kNone
  uint32_t policy;       // or kNone: no policy (Gateways have none yet)
  uint32_t reserved;
};
static_assert(sizeof(TlsListenerRecord) == 56);

}  // namespace atsi
