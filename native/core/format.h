// The route table's binary format: one definition shared by the writer (the
// Node addon) and the readers (the ATS plugin, the addon's lookup, tests).
//
// A table is one immutable blob: a header, then sections of fixed-size
// little-endian records and a string pool. Readers never trust it: see
// table_view.cc for what is checked before anything is followed.
#pragma once

#include <cstddef>
#include <cstdint>

namespace atsi {

inline constexpr char kTableMagic[8] = {'A', 'T', 'S', 'I', 'R', 'T', 'B', '1'};
// Bump on any incompatible change of the records below. Readers refuse other
// versions; backend options are versioned TLV records so they can grow without
// a bump. 2: the indexes point at key entries (HostKey, RuleKey) that hold
// the key inline (docs/adr/0011-lookup-layout.md). 3: the Gateway API's
// sections (docs/adr/0016-gateway-table-sections.md).
inline constexpr uint32_t kFormatVersion = 3;
inline constexpr uint32_t kNone = 0xFFFFFFFFu;

// Limits that keep every size a reader computes inside 32 bits.
inline constexpr uint64_t kMaxTableBytes = 1ull << 31;
inline constexpr size_t kMaxHostLength = 253;
inline constexpr size_t kMaxPathLength = 8192;

enum SectionId : uint32_t {
  kSectionStrings = 0,
  kSectionHosts,
  kSectionRules,
  kSectionBackends,
  kSectionEndpoints,
  kSectionOptions,
  kSectionHostIndex,      // exact host name -> HostKey
  kSectionWildcardIndex,  // suffix of "*.suffix" -> HostKey
  kSectionRuleIndex,      // (host, Exact|Prefix, path) -> RuleKey
  kSectionHostKeys,       // HostKey entries, one per host
  kSectionRuleKeys,       // RuleKey entries, one per rule
  // The Gateway API (empty in a table without Gateways).
  kSectionGwListeners,  // GatewayListenerRecord, sorted by (family, address, port)
  kSectionGwEntries,    // GatewayEntryRecord, each listener's in precedence order
  kSectionGwPairs,      // GatewayPairRecord: header and query matches, header edits
  kSectionGwRules,      // GatewayRuleRecord
  kSectionGwChoices,    // GatewayChoiceRecord, each rule's together
  kSectionGwFilters,    // GatewayFilterRecord, each rule's and each choice's together
  kSectionCount
};

struct Section {
  uint32_t offset;  // from the start of the table, 8-byte aligned (the writer aligns to 64)
  uint32_t size;    // bytes
  uint32_t count;   // records (strings: bytes)
  uint32_t reserved;
};

struct Header {
  char magic[8];
  uint32_t format_version;
  uint32_t header_size;
  uint64_t total_size;
  uint64_t generation;
  uint64_t build_time_ms;
  uint64_t checksum;  // of every byte of the table with this field taken as zero
  uint32_t default_backend;  // the controller's --default-backend, or kNone
  uint32_t catch_all_host;   // the host of rules without a host, or kNone
  uint32_t section_count;
  uint32_t flags;
  Section sections[kSectionCount];
};
static_assert(sizeof(Header) == 64 + 16 * kSectionCount);

struct StrRef {
  uint32_t offset;  // into the string pool
  uint32_t length;
};

enum HostKind : uint32_t { kHostExact = 0, kHostWildcard = 1, kHostCatchAll = 2 };

struct HostRecord {
  StrRef name;  // "a.com", "*.a.com", or "" for the catch-all
  uint32_t kind;
  uint32_t first_rule;
  uint32_t rule_count;
  uint32_t default_backend;  // or kNone
  StrRef default_source;     // "namespace/name" of the Ingress giving it
  uint32_t key;              // its HostKey: offset / 8 into the HostKeys section
  uint32_t reserved;
};
static_assert(sizeof(HostRecord) == 40);

enum PathType : uint32_t { kPathExact = 0, kPathPrefix = 1, kPathImplementationSpecific = 2 };

struct RuleRecord {
  uint32_t host;
  uint32_t path_type;
  StrRef path;         // as written in the Ingress
  uint32_t match_length;  // bytes of `path` that take part in matching (a Prefix's trailing '/' does not)
  uint32_t backend;
  StrRef source;       // "namespace/name" of the Ingress
  uint32_t key;        // its RuleKey: offset / 8 into the RuleKeys section
  uint32_t reserved;
};
static_assert(sizeof(RuleRecord) == 40);

enum Scheme : uint32_t { kSchemeHttp = 0, kSchemeHttps = 1 };
enum BackendFlags : uint32_t { kBackendUniformWeights = 1u << 0 };

struct BackendRecord {
  StrRef service;  // "namespace/name"
  StrRef port;     // as the Ingress names it: "80" or "http"
  StrRef problem;  // why it cannot serve, shown in 503 bodies; may be empty
  uint32_t scheme;
  uint32_t flags;
  uint32_t first_endpoint;
  uint32_t endpoint_count;
  uint32_t options_offset;  // into the options section
  uint32_t options_size;
  uint32_t total_weight;
  uint32_t reserved;
};
static_assert(sizeof(BackendRecord) == 56);

struct EndpointRecord {
  uint8_t family;  // 4 or 6
  uint8_t reserved;
  uint16_t port;
  uint32_t weight;  // >= 1
  uint8_t address[16];  // network byte order; IPv4 in the first 4 bytes
};
static_assert(sizeof(EndpointRecord) == 24);

// Open-addressing hash index of the TLS table (tls_format.h). Capacity is a
// power of two with at least one empty slot, so a probe always ends; readers
// also bound it by capacity.
struct IndexSlot {
  uint32_t hash;
  uint32_t value;  // record index, or kNone when empty
};

// The route table's indexes (host, wildcard, rule): open addressing with
// linear probing over a power of two of slots, at least one of them empty,
// at most half of them used. A key's 64-bit hash (index_hash in hash.h)
// gives its home slot (the high 32 bits) and its tag (the low 32; for
// rules with bit 0 replaced by 1 for Exact, 0 for Prefix, so that the two
// kinds of one key share a home and a probe line). A probe compares tags
// and reads an entry only when they are equal; the entry holds the key
// itself, so a hit reads two lines (slot, entry) and a miss one.
struct KeySlot {
  uint32_t tag;
  uint32_t entry;  // offset / 8 of the entry in its key section, or kNone when empty
};

// What a lookup reads of a host, in the HostKeys section: this header,
// then `length` key bytes (the name; for a wildcard the suffix after "*.";
// nothing for the catch-all), zero-padded to 8 bytes. The writer never
// lets an entry of 64 bytes or less cross a 64-byte line. A copy of its
// HostRecord's fields: the reader checks that they agree.
struct HostKey {
  // Bit min(n, 63) is set when the host has an Exact (resp. Prefix) rule
  // whose match key is n bytes long: lookups skip index probes for lengths
  // no rule has. Readers check that every rule's bit is set; an extra bit
  // costs a probe, never a different answer.
  uint64_t exact_lengths;
  uint64_t prefix_lengths;
  uint32_t host;             // index of its HostRecord
  uint32_t default_backend;  // the record's
  uint16_t length;           // key bytes that follow
  uint8_t kind;              // the record's
  uint8_t reserved8;
  uint32_t reserved;
};
static_assert(sizeof(HostKey) == 32);

// What a lookup reads of a rule, in the RuleKeys section: this header,
// then the `length` bytes of the match key, zero-padded to 8 bytes; laid
// out as HostKey entries are. A copy of its RuleRecord's fields, checked.
struct RuleKey {
  uint32_t rule;     // index of its RuleRecord
  uint32_t host;     // the record's
  uint32_t backend;  // the record's
  uint16_t length;   // the record's match_length
  uint8_t exact;     // 1 for an Exact rule, 0 for Prefix and ImplementationSpecific
  uint8_t reserved;
};
static_assert(sizeof(RuleKey) == 16);

// ------------------------------------------------------------ the Gateway API
// A request whose connection arrived on a listener's local address and port
// is routed by these sections alone (gateway_lookup.h; the meaning of each
// field is TableGateway's in src/model/table-model.ts). Lookups scan: the
// listeners of one address and port, then that listener's entries in order.

// How a listener's or an entry's hostname matches: the Gateway API's
// wildcard covers one or more labels, never the apex (unlike Ingress's).
enum class GatewayHostKind : uint8_t { kExact = 0, kWildcard = 1, kAny = 2 };
enum class GatewayPathType : uint8_t { kExact = 0, kPathPrefix = 1 };
enum class FilterKind : uint8_t {
  kRequestHeaderModifier = 1,
  kResponseHeaderModifier = 2,
  kRequestRedirect = 3,
  kURLRewrite = 4,
};
enum class PathModifierKind : uint8_t { kNone = 0, kReplaceFullPath = 1, kReplacePrefixMatch = 2 };
// A RequestRedirect's scheme: kKeep answers with the request's.
enum class RedirectScheme : uint8_t { kKeep = 0, kHttp = 1, kHttps = 2 };
inline constexpr uint32_t kMaxGatewayWeight = 1000000;
// Bit of GatewayRuleRecord::flags and GatewayChoiceRecord::flags: one of its
// filters is a RequestRedirect, so it answers by itself (a copy of what its
// filters say, checked by the reader).
inline constexpr uint32_t kGatewayRedirects = 1u << 0;

// GatewayListenerRecord::family of a listener on every local address of its
// port (a pod's Gateways told apart by port alone): its address bytes are
// all zero, it sorts before every address, and a connection takes it when
// no listener is on its own local address and port.
inline constexpr uint8_t kAnyAddressFamily = 0;

struct GatewayListenerRecord {
  uint8_t family;     // 4 or 6, or kAnyAddressFamily
  uint8_t https;      // 1: protocol HTTPS
  uint8_t host_kind;  // GatewayHostKind of `hostname`
  uint8_t reserved8;
  uint16_t port;           // the local port ATS serves it on
  uint16_t listener_port;  // spec.listeners[].port, for redirects that keep the port
  uint8_t address[16];     // the local address, network order; IPv4 in the first 4, zeros after
  StrRef hostname;         // "a.com", "*.a.com", or "" for any host
  StrRef gateway;          // "namespace/name"
  StrRef listener;         // its name
  uint32_t first_entry;    // its entries follow the previous listener's
  uint32_t entry_count;
  uint32_t reserved[2];
};
static_assert(sizeof(GatewayListenerRecord) == 64);

struct GatewayEntryRecord {
  StrRef hostname;  // as a listener's: exact, "*.suffix" or "" for any
  StrRef path;      // as written
  StrRef method;    // "" for any
  uint8_t host_kind;  // GatewayHostKind
  uint8_t path_type;  // GatewayPathType
  uint16_t reserved16;
  // Bytes of `path` that take part in matching: all for Exact; for
  // PathPrefix all but one trailing '/' ("/abc/" matches as "/abc", "/" as
  // "", which every path has).
  uint32_t match_length;
  uint32_t first_header;  // GatewayPairRecords, names lowercase
  uint32_t header_count;
  uint32_t first_query;   // GatewayPairRecords
  uint32_t query_count;
  uint32_t rule;          // GatewayRuleRecord
  uint32_t reserved;
};
static_assert(sizeof(GatewayEntryRecord) == 56);

// A name and a value: a header or query match, a header set or added; a
// header removed has an empty value.
struct GatewayPairRecord {
  StrRef name;
  StrRef value;
};
static_assert(sizeof(GatewayPairRecord) == 16);

struct GatewayRuleRecord {
  StrRef route;    // "namespace/name" of the HTTPRoute
  StrRef failure;  // non-empty: every request gets 500, for this reason
  uint32_t rule_index;  // in spec.rules
  uint32_t first_filter;
  uint32_t filter_count;
  uint32_t first_choice;
  uint32_t choice_count;
  uint32_t total_weight;  // of its choices, within 32 bits
  uint32_t flags;         // kGatewayRedirects
  uint32_t reserved;
};
static_assert(sizeof(GatewayRuleRecord) == 48);

struct GatewayChoiceRecord {
  uint32_t backend;  // BackendRecord, or kNone: invalid (500, for `problem`)
  uint32_t weight;   // 0..kMaxGatewayWeight; 0 is never chosen
  StrRef problem;
  uint32_t first_filter;  // applied after the rule's
  uint32_t filter_count;
  uint32_t flags;  // kGatewayRedirects
  uint32_t reserved;
};
static_assert(sizeof(GatewayChoiceRecord) == 32);

// One filter, whichever its kind; the fields a kind has no use for are zero.
struct GatewayFilterRecord {
  uint8_t kind;          // FilterKind
  uint8_t path_kind;     // PathModifierKind (RequestRedirect, URLRewrite)
  uint8_t scheme;        // RedirectScheme (RequestRedirect)
  uint8_t reserved8;
  uint16_t status_code;  // RequestRedirect: 301, 302, 303, 307 or 308
  uint16_t port;         // RequestRedirect; 0: derived
  StrRef hostname;       // RequestRedirect, URLRewrite; "" keeps the request's
  StrRef path;           // the path modifier's value
  // Header modifiers: GatewayPairRecords of the headers set, added, and
  // removed (names only).
  uint32_t first_set, set_count;
  uint32_t first_add, add_count;
  uint32_t first_remove, remove_count;
};
static_assert(sizeof(GatewayFilterRecord) == 48);

// Backend options: a sequence of 4-byte-aligned TLV records. Readers skip
// types they do not know (TableView::options' default case steps over the
// record by its length) and validation checks only that the options of a
// backend lie inside the options section, never what they hold, so a new
// option needs no bump of kFormatVersion: an older plugin serves a newer
// table without it. A type is never reused for another meaning.
struct OptionHeader {
  uint16_t type;
  uint16_t length;  // of the value, not counting this header or padding
};
enum OptionType : uint16_t {
  kOptConnectTimeoutMs = 1,   // u32
  kOptResponseTimeoutMs = 2,  // u32
  kOptRedirectToHttps = 3,    // u8
  kOptCachePolicy = 4,        // u8: 0 default, 1 bypass
  kOptUpstreamHost = 5,       // bytes
  // The cache, per route (applied per transaction by the plugin; the
  // meaning of each is in ats-plugin/src/cache_policy.h).
  kOptCacheDefaultTtlS = 6,   // u32, 1..2^31-1
  kOptCacheMaxTtlS = 7,       // u32, 1..2^31-1
  kOptCacheIgnoreQuery = 8,   // u8
  kOptCacheServeStaleS = 9,   // u32, 1..2^31-1
  kOptCacheGeneration = 10,   // u32, 0..2^31-1
  kOptStatsSlot = 11,         // u32, 0..kMaxStatsSlot
};
inline constexpr uint32_t kMaxCacheSeconds = 0x7FFFFFFFu;
inline constexpr uint32_t kMaxCacheGeneration = 0x7FFFFFFFu;
inline constexpr uint32_t kMaxStatsSlot = 65535;

// The control object: the one place a reader looks, once per request, to see
// whether a newer table exists (its layout: control_block.h). Tables live in
// objects named after their generation (see shm_names.h).
inline constexpr char kControlMagic[8] = {'A', 'T', 'S', 'I', 'C', 'T', 'L', '1'};
inline constexpr size_t kControlSize = 4096;

}  // namespace atsi
