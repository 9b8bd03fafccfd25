// The Gateway API's sections: the writer refuses what it cannot write,
// naming the field; the reader refuses every record it cannot trust, even
// resealed with a good checksum, and says which.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <functional>
#include <string>

#include "gateway_tables.h"
#include "table_writer.h"

namespace atsi {
namespace {

using testing::choice;
using testing::GatewayBuilder;

std::string build_error(const TableInput& in) {
  std::vector<uint8_t> out;
  Error e = build_table(in, 1, 0, out);
  return e ? e.message : "";
}

// One Gateway of two listeners, each part of the format used somewhere.
GatewayBuilder sample() {
  using namespace testing;
  GatewayBuilder g;
  uint32_t a = g.backend("ns/a");
  InputGatewayChoice moved = choice(a, 3, "");
  moved.filters = {redirect(301, "https", "b.example.com", 8443, PathModifierKind::kReplacePrefixMatch, "/v2")};
  uint32_t r0 = g.rule("ns/web", {choice(a, 7), choice(kNone, 3, "backendRef ns/x: not found"), moved},
                       {request_headers({{"X-Set", "a b"}}, {{"x-add", "1"}}, {"x-drop"}),
                        rewrite(PathModifierKind::kReplaceFullPath, "/full", "in.svc")});
  uint32_t r1 = g.rule("ns/moved", {}, {redirect(302)});
  g.listener("10.0.0.9", 80, "*.example.com");
  g.prefix("/", r0, "a.example.com").last_entry().headers = {{"x-env", "prod"}};
  g.last_entry().query_params = {{"q", "1"}};
  g.last_entry().method = "GET";
  g.exact("/old", r1);
  g.listener("10.0.0.10", 80, "");  // after the first in the table
  g.prefix("/", r0);
  return g;
}

class GatewayReader : public ::testing::Test {
 protected:
  void SetUp() override {
    bytes_ = testing::build_bytes(sample().input(), 3);
    std::memcpy(&h_, bytes_.data(), sizeof h_);
  }
  std::string check(const std::vector<uint8_t>& bytes) {
    std::vector<uint64_t> aligned((bytes.size() + 7) / 8);
    std::memcpy(aligned.data(), bytes.data(), bytes.size());
    TableView v;
    Error e = TableView::validate(reinterpret_cast<const uint8_t*>(aligned.data()), bytes.size(), v);
    return e ? e.message : "ok";
  }
  // Writes `value` at `field` of record `i` of `section`, reseals, checks.
  template <class T>
  std::string with(SectionId section, size_t record_size, uint32_t i, size_t field, T value) {
    auto b = bytes_;
    size_t at = h_.sections[section].offset + i * record_size + field;
    EXPECT_LE(at + sizeof value, b.size());
    std::memcpy(b.data() + at, &value, sizeof value);
    uint64_t sum = table_checksum(b.data(), b.size());
    std::memcpy(b.data() + offsetof(Header, checksum), &sum, 8);
    return check(b);
  }
  template <class T>
  T read(SectionId section, size_t record_size, uint32_t i, size_t field) const {
    T v;
    std::memcpy(&v, bytes_.data() + h_.sections[section].offset + i * record_size + field, sizeof v);
    return v;
  }
  std::string listener(uint32_t i, size_t field, auto value) {
    return with(kSectionGwListeners, sizeof(GatewayListenerRecord), i, field, value);
  }
  std::string entry(uint32_t i, size_t field, auto value) {
    return with(kSectionGwEntries, sizeof(GatewayEntryRecord), i, field, value);
  }
  std::string pair(uint32_t i, size_t field, auto value) {
    return with(kSectionGwPairs, sizeof(GatewayPairRecord), i, field, value);
  }
  std::string rule(uint32_t i, size_t field, auto value) {
    return with(kSectionGwRules, sizeof(GatewayRuleRecord), i, field, value);
  }
  std::string choice_(uint32_t i, size_t field, auto value) {
    return with(kSectionGwChoices, sizeof(GatewayChoiceRecord), i, field, value);
  }
  std::string filter(uint32_t i, size_t field, auto value) {
    return with(kSectionGwFilters, sizeof(GatewayFilterRecord), i, field, value);
  }
  // StrRefs of strings that some record names: "ns/web" and "a b".
  StrRef ref_of_route() const { return read<StrRef>(kSectionGwRules, sizeof(GatewayRuleRecord), 0, 0); }
  StrRef ref_of_set_value() const {
    const auto& f = read<GatewayFilterRecord>(kSectionGwFilters, sizeof(GatewayFilterRecord), 0, 0);
    return read<StrRef>(kSectionGwPairs, sizeof(GatewayPairRecord), f.first_set, offsetof(GatewayPairRecord, value));
  }

  std::vector<uint8_t> bytes_;
  Header h_;
};

constexpr uint32_t kHuge = 0xFFFFFF00u;
const StrRef kOut{kHuge, 4};

TEST_F(GatewayReader, AcceptsWhatTheWriterWroteAndItIsWhatWasGiven) {
  ASSERT_EQ(check(bytes_), "ok");
  auto built = testing::build(sample().input());
  const TableView& v = built.view;
  EXPECT_EQ(v.gateway_listener_count(), 2u);
  EXPECT_EQ(v.gateway_entry_count(), 3u);
  EXPECT_EQ(v.gateway_rule_count(), 2u);
  EXPECT_EQ(v.gateway_choice_count(), 3u);
  EXPECT_EQ(v.gateway_filter_count(), 4u);
  const GatewayListenerRecord& l = v.gateway_listener(0);
  EXPECT_EQ(v.str(l.hostname), "*.example.com");
  EXPECT_EQ(l.host_kind, uint8_t(GatewayHostKind::kWildcard));
  EXPECT_EQ(l.entry_count, 2u);
  EXPECT_EQ(v.gateway_listener(1).host_kind, uint8_t(GatewayHostKind::kAny));
  const GatewayRuleRecord& r = v.gateway_rule(0);
  EXPECT_EQ(r.total_weight, 13u);
  EXPECT_EQ(r.flags, 0u);
  EXPECT_EQ(v.gateway_rule(1).flags, kGatewayRedirects);
  EXPECT_EQ(v.gateway_choice(r.first_choice + 2).flags, kGatewayRedirects);
  const GatewayFilterRecord& f = v.gateway_filter(v.gateway_choice(r.first_choice + 2).first_filter);
  EXPECT_EQ(f.status_code, 301);
  EXPECT_EQ(f.port, 8443);
  EXPECT_EQ(f.scheme, uint8_t(RedirectScheme::kHttps));
  EXPECT_EQ(v.str(f.path), "/v2");
}

TEST_F(GatewayReader, RefusesListenersItCannotTrust) {
  using L = GatewayListenerRecord;
  EXPECT_EQ(listener(0, offsetof(L, family), uint8_t(5)), "gateway listener 0: unknown address family");
  // Any address (family 0) has no address bytes; 10.0.0.9's are there.
  EXPECT_EQ(listener(0, offsetof(L, family), uint8_t(kAnyAddressFamily)),
            "gateway listener 0: any address with bytes that are not zero");
  EXPECT_EQ(listener(0, offsetof(L, address) + 6, uint8_t(1)), "gateway listener 0: an IPv4 address with bytes after its 4");
  EXPECT_EQ(listener(0, offsetof(L, port), uint16_t(0)), "gateway listener 0: port or protocol invalid");
  EXPECT_EQ(listener(0, offsetof(L, listener_port), uint16_t(0)), "gateway listener 0: port or protocol invalid");
  EXPECT_EQ(listener(0, offsetof(L, https), uint8_t(2)), "gateway listener 0: port or protocol invalid");
  EXPECT_EQ(listener(0, offsetof(L, host_kind), uint8_t(GatewayHostKind::kExact)),
            "gateway listener 0: hostname invalid or of another kind");
  EXPECT_EQ(listener(1, offsetof(L, host_kind), uint8_t(3)), "gateway listener 1: hostname invalid or of another kind");
  EXPECT_EQ(listener(1, offsetof(L, hostname), ref_of_route()), "gateway listener 1: hostname invalid or of another kind");
  EXPECT_EQ(listener(0, offsetof(L, hostname), kOut), "gateway listener 0: string out of bounds");
  EXPECT_EQ(listener(0, offsetof(L, gateway), kOut), "gateway listener 0: string out of bounds");
  EXPECT_EQ(listener(1, offsetof(L, listener), kOut), "gateway listener 1: string out of bounds");
  EXPECT_EQ(listener(0, offsetof(L, first_entry), uint32_t(1)), "gateway listener 0: entries out of range");
  EXPECT_EQ(listener(1, offsetof(L, entry_count), kHuge), "gateway listener 1: entries out of range");
  EXPECT_EQ(listener(1, offsetof(L, entry_count), uint32_t(0)), "gateway entries not all of a listener");
  // 10.0.0.9 before 10.0.0.10: out of order once the first is 10.0.0.11.
  EXPECT_EQ(listener(0, offsetof(L, address) + 3, uint8_t(11)), "gateway listener 1: not sorted by address and port");
  EXPECT_EQ(listener(0, offsetof(L, family), uint8_t(6)), "gateway listener 1: not sorted by address and port");
}

TEST_F(GatewayReader, RefusesEntriesItCannotTrust) {
  using E = GatewayEntryRecord;
  EXPECT_EQ(entry(0, offsetof(E, hostname), kOut), "gateway entry 0: string out of bounds");
  EXPECT_EQ(entry(0, offsetof(E, path), kOut), "gateway entry 0: string out of bounds");
  EXPECT_EQ(entry(0, offsetof(E, method), kOut), "gateway entry 0: string out of bounds");
  EXPECT_EQ(entry(0, offsetof(E, host_kind), uint8_t(GatewayHostKind::kAny)),
            "gateway entry 0: hostname invalid or of another kind");
  EXPECT_EQ(entry(0, offsetof(E, path_type), uint8_t(2)), "gateway entry 0: unknown path type");
  // "/" as a PathPrefix matches on 0 bytes, as an Exact on 1.
  EXPECT_EQ(entry(0, offsetof(E, path_type), uint8_t(GatewayPathType::kExact)),
            "gateway entry 0: path invalid or its match length wrong");
  EXPECT_EQ(entry(0, offsetof(E, match_length), uint32_t(1)), "gateway entry 0: path invalid or its match length wrong");
  EXPECT_EQ(entry(0, offsetof(E, path), ref_of_route()), "gateway entry 0: path invalid or its match length wrong");
  EXPECT_EQ(entry(0, offsetof(E, first_header), kHuge), "gateway entry 0: reference out of range");
  EXPECT_EQ(entry(0, offsetof(E, header_count), kHuge), "gateway entry 0: reference out of range");
  EXPECT_EQ(entry(0, offsetof(E, first_query), kHuge), "gateway entry 0: reference out of range");
  EXPECT_EQ(entry(0, offsetof(E, query_count), uint32_t(100)), "gateway entry 0: reference out of range");
  EXPECT_EQ(entry(2, offsetof(E, rule), uint32_t(2)), "gateway entry 2: reference out of range");
  // A header match named by a filter's set header "X-Set": not lowercase.
  auto f = read<GatewayFilterRecord>(kSectionGwFilters, sizeof(GatewayFilterRecord), 0, 0);
  EXPECT_EQ(entry(0, offsetof(E, first_header), f.first_set), "gateway entry 0: a header match's name is not a lowercase token");
}

TEST_F(GatewayReader, RefusesPairsRulesAndChoicesItCannotTrust) {
  using R = GatewayRuleRecord;
  using C = GatewayChoiceRecord;
  EXPECT_EQ(pair(0, offsetof(GatewayPairRecord, name), kOut), "gateway pair 0: string out of bounds");
  EXPECT_EQ(pair(2, offsetof(GatewayPairRecord, value), kOut), "gateway pair 2: string out of bounds");

  EXPECT_EQ(rule(0, offsetof(R, route), kOut), "gateway rule 0: reference out of range");
  EXPECT_EQ(rule(1, offsetof(R, failure), kOut), "gateway rule 1: reference out of range");
  EXPECT_EQ(rule(0, offsetof(R, first_filter), kHuge), "gateway rule 0: reference out of range");
  EXPECT_EQ(rule(0, offsetof(R, filter_count), uint32_t(5)), "gateway rule 0: reference out of range");
  EXPECT_EQ(rule(0, offsetof(R, first_choice), uint32_t(1)), "gateway rule 0: reference out of range");
  EXPECT_EQ(rule(0, offsetof(R, choice_count), kHuge), "gateway rule 0: reference out of range");
  EXPECT_EQ(rule(0, offsetof(R, total_weight), uint32_t(14)), "gateway rule 0: total weight disagrees with its choices");
  EXPECT_EQ(rule(0, offsetof(R, flags), kGatewayRedirects), "gateway rule 0: flags disagree with its filters");
  EXPECT_EQ(rule(1, offsetof(R, flags), uint32_t(0)), "gateway rule 1: flags disagree with its filters");
  // Rule 1 redirects with no choice: without its filter it forwards to nothing.
  EXPECT_EQ(rule(1, offsetof(R, filter_count), uint32_t(0)), "gateway rule 1: flags disagree with its filters");

  EXPECT_EQ(choice_(0, offsetof(C, backend), uint32_t(1)), "gateway choice 0: reference out of range");
  EXPECT_EQ(choice_(1, offsetof(C, backend), kNone - 1), "gateway choice 1: reference out of range");
  EXPECT_EQ(choice_(1, offsetof(C, problem), kOut), "gateway choice 1: reference out of range");
  EXPECT_EQ(choice_(2, offsetof(C, first_filter), kHuge), "gateway choice 2: reference out of range");
  EXPECT_EQ(choice_(2, offsetof(C, filter_count), uint32_t(4)), "gateway choice 2: reference out of range");
  EXPECT_EQ(choice_(0, offsetof(C, weight), kMaxGatewayWeight + 1), "gateway choice 0: weight above 1000000");
  EXPECT_EQ(choice_(0, offsetof(C, weight), uint32_t(8)), "gateway rule 0: total weight disagrees with its choices");
  EXPECT_EQ(choice_(2, offsetof(C, flags), uint32_t(0)), "gateway choice 2: flags disagree with its filters");
  EXPECT_EQ(choice_(0, offsetof(C, flags), uint32_t(2)), "gateway choice 0: flags disagree with its filters");
}

TEST_F(GatewayReader, RefusesFiltersItCannotTrust) {
  using F = GatewayFilterRecord;
  // Filters in the writer's order: the rule's two, then the choice's redirect; rule 1's redirect.
  EXPECT_EQ(filter(0, offsetof(F, kind), uint8_t(0)), "gateway filter 0: unknown kind");
  EXPECT_EQ(filter(0, offsetof(F, kind), uint8_t(5)), "gateway filter 0: unknown kind");
  EXPECT_EQ(filter(1, offsetof(F, path_kind), uint8_t(3)), "gateway filter 1: unknown path modifier or scheme");
  EXPECT_EQ(filter(2, offsetof(F, scheme), uint8_t(3)), "gateway filter 2: unknown path modifier or scheme");
  EXPECT_EQ(filter(2, offsetof(F, status_code), uint16_t(300)), "gateway filter 2: status code 300 is not a redirect's");
  EXPECT_EQ(filter(3, offsetof(F, status_code), uint16_t(0)), "gateway filter 3: status code 0 is not a redirect's");
  EXPECT_EQ(filter(1, offsetof(F, hostname), kOut), "gateway filter 1: string out of bounds");
  EXPECT_EQ(filter(1, offsetof(F, path), kOut), "gateway filter 1: string out of bounds");
  EXPECT_EQ(filter(1, offsetof(F, hostname), ref_of_route()), "gateway filter 1: hostname or path invalid");
  EXPECT_EQ(filter(1, offsetof(F, path), ref_of_set_value()), "gateway filter 1: hostname or path invalid");
  EXPECT_EQ(filter(0, offsetof(F, first_set), kHuge), "gateway filter 0: header edits out of range or invalid");
  EXPECT_EQ(filter(0, offsetof(F, set_count), uint32_t(100)), "gateway filter 0: header edits out of range or invalid");
  EXPECT_EQ(filter(0, offsetof(F, add_count), kHuge), "gateway filter 0: header edits out of range or invalid");
  EXPECT_EQ(filter(0, offsetof(F, first_remove), kHuge), "gateway filter 0: header edits out of range or invalid");
  // A header set whose value holds a CR, or whose name is not a token.
  {
    auto b = bytes_;
    auto f = read<GatewayFilterRecord>(kSectionGwFilters, sizeof(F), 0, 0);
    StrRef v = read<StrRef>(kSectionGwPairs, sizeof(GatewayPairRecord), f.first_set, offsetof(GatewayPairRecord, value));
    ASSERT_EQ(v.length, 3u);
    b[h_.sections[kSectionStrings].offset + v.offset + 1] = '\r';  // "a b" -> "a\rb"
    uint64_t sum = table_checksum(b.data(), b.size());
    std::memcpy(b.data() + offsetof(Header, checksum), &sum, 8);
    // The same bytes are also the value of nothing else.
    EXPECT_EQ(check(b), "gateway filter 0: header edits out of range or invalid");
  }
  auto f = read<GatewayFilterRecord>(kSectionGwFilters, sizeof(F), 0, 0);
  EXPECT_EQ(pair(f.first_set, offsetof(GatewayPairRecord, name), ref_of_set_value()),
            "gateway filter 0: header edits out of range or invalid");
}

TEST_F(GatewayReader, RefusesSectionsWhoseSizeIsNotTheirRecords) {
  for (SectionId s : {kSectionGwListeners, kSectionGwEntries, kSectionGwPairs, kSectionGwRules, kSectionGwChoices,
                      kSectionGwFilters}) {
    auto b = bytes_;
    size_t at = offsetof(Header, sections) + s * sizeof(Section) + offsetof(Section, count);
    uint32_t count;
    std::memcpy(&count, b.data() + at, 4);
    count += 1;
    std::memcpy(b.data() + at, &count, 4);
    uint64_t sum = table_checksum(b.data(), b.size());
    std::memcpy(b.data() + offsetof(Header, checksum), &sum, 8);
    EXPECT_EQ(check(b), "gateway section sizes do not match their record counts") << s;
  }
}

TEST_F(GatewayReader, EveryByteFlipIsRefused) {
  for (size_t i = 0; i < bytes_.size(); ++i) {
    auto b = bytes_;
    b[i] ^= 0x5a;
    EXPECT_NE(check(b), "ok") << "flip at " << i;
  }
}

TEST(GatewayWriter, RefusesBadModelsNamingTheField) {
  using namespace testing;
  struct Case {
    std::function<void(GatewayBuilder&)> change;
    const char* want;
  } cases[] = {
      {[](GatewayBuilder& g) { g.input().gateway_listeners[0].address = "10.0.0.300"; },
       "gateway.listeners[0].address: \"10.0.0.300\" is not an IPv4 or IPv6 address, nor * (any)"},
      {[](GatewayBuilder& g) { g.input().gateway_listeners[1].port = 0; }, "gateway.listeners[1].port: must be 1 to 65535"},
      {[](GatewayBuilder& g) { g.input().gateway_listeners[0].hostname = "*.A.com"; },
       "gateway.listeners[0].hostname: \"*.A.com\" is not a lowercase host name or wildcard"},
      {[](GatewayBuilder& g) { g.input().gateway_listeners[0].entries[1].hostname = "*"; },
       "gateway.listeners[0].entries[1].hostname: \"*\" is not a lowercase host name or wildcard"},
      {[](GatewayBuilder& g) { g.input().gateway_listeners[0].entries[0].path = "x"; },
       "gateway.listeners[0].entries[0].path: \"x\" does not begin with '/'"},
      {[](GatewayBuilder& g) { g.input().gateway_listeners[0].entries[0].rule = 9; },
       "gateway.listeners[0].entries[0].rule: rule index 9 is out of range (2 rules)"},
      {[](GatewayBuilder& g) { g.input().gateway_listeners[0].entries[0].headers[0].name = "X-Env"; },
       "gateway.listeners[0].entries[0].headers[0].name: \"X-Env\" is not lowercase"},
      {[](GatewayBuilder& g) { g.input().gateway_listeners[0].entries[0].headers[0].name = "x env"; },
       "gateway.listeners[0].entries[0].headers[0].name: \"x env\" is not a header name"},
      {[](GatewayBuilder& g) { g.input().gateway_rules[0].choices[0].backend = 4; },
       "gateway.rules[0].choices[0].backend: backend index 4 is out of range (1 backends)"},
      {[](GatewayBuilder& g) { g.input().gateway_rules[0].choices[1].weight = 1000001; },
       "gateway.rules[0].choices[1].weight: must be 0 to 1000000"},
      {[](GatewayBuilder& g) {
         for (auto& c : g.input().gateway_rules[0].choices) c.weight = 0;
       },
       "gateway.rules[0]: no failure, no RequestRedirect and no choice of weight above 0"},
      {[](GatewayBuilder& g) { g.input().gateway_rules[0].filters[0].set[0].value = "a\r\nb"; },
       "gateway.rules[0].filters[0].set[0].value: holds a control character"},
      {[](GatewayBuilder& g) { g.input().gateway_rules[0].filters[0].remove[0] = "x:y"; },
       "gateway.rules[0].filters[0].remove[0].name: \"x:y\" is not a header name"},
      {[](GatewayBuilder& g) { g.input().gateway_rules[0].filters[1].path = "/a b"; },
       "gateway.rules[0].filters[1].path: \"/a b\" is not a path the table may hold"},
      {[](GatewayBuilder& g) { g.input().gateway_rules[0].filters[1].hostname = "in svc"; },
       "gateway.rules[0].filters[1].hostname: \"in svc\" is not a lowercase host name"},
      {[](GatewayBuilder& g) { g.input().gateway_rules[1].filters[0].status_code = 304; },
       "gateway.rules[1].filters[0].statusCode: 304 is not 301, 302, 303, 307 or 308"},
      {[](GatewayBuilder& g) { g.input().gateway_rules[1].filters[0].scheme = "ftp"; },
       "gateway.rules[1].filters[0].scheme: \"ftp\" is not http or https"},
      {[](GatewayBuilder& g) { g.input().gateway_rules[0].choices[2].filters[0].path = "/v2?x"; },
       "gateway.rules[0].choices[2].filters[0].path: \"/v2?x\" is not a path the table may hold"},
      {[](GatewayBuilder& g) { g.input().gateway_rules[0].filters[0].kind = FilterKind(9); },
       "gateway.rules[0].filters[0].type: unknown filter kind 9"},
  };
  for (const Case& c : cases) {
    GatewayBuilder g = sample();
    c.change(g);
    EXPECT_EQ(build_error(g.input()), c.want);
  }
  EXPECT_EQ(build_error(sample().input()), "");
}

TEST(GatewayWriter, SameInputSameBytesAndTheIngressPartUnchanged) {
  GatewayBuilder g = sample();
  g.input().hosts.push_back(InputHost{"a.com", {InputRule{"/", kPathPrefix, 0, "ns/ing"}}, kNone, ""});
  EXPECT_EQ(testing::build_bytes(g.input(), 5), testing::build_bytes(g.input(), 5));
  auto built = testing::build(g.input());
  EXPECT_EQ(testing::route(built.view, "a.com", "/x"), "ns/a");
}

}  // namespace
}  // namespace atsi
