// EncodedTableWriter: a table made with the last table's routing sections is
// byte for byte the table build_table() makes of the whole model; the
// sections are taken over only when the routing part of the encoding is the
// same, and a backend change that breaks an index the routing names gets the
// whole model's error.
#include "encoded_writer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "model_decoder.h"
#include "model_encoder.h"
#include "table_view.h"
#include "table_writer.h"
#include "test_tables.h"

namespace atsi {
namespace {

using testing::encode_model;
using testing::EncodedModel;
using testing::TableBuilder;

TableInput sample(size_t hosts, uint32_t seed) {
  TableBuilder t;
  std::vector<uint32_t> b;
  for (size_t i = 0; i < hosts; ++i) {
    std::string a = "10.0." + std::to_string(i) + "." + std::to_string(1 + seed % 200) + ":8080";
    b.push_back(t.backend("ns/svc-" + std::to_string(i), {a.c_str(), "10.9.9.9:80"}));
  }
  for (size_t i = 0; i < hosts; ++i) t.host("h" + std::to_string(i) + ".example.com").prefix("/", b[i]).exact("/x", b[(i + 1) % hosts]);
  t.host("*.wild.com").prefix("/w", b[0]).host_default(b[1 % hosts], "ns/d");
  t.host("").prefix("/", b[0]);
  TableInput in = t.input();
  in.gateway_listeners = testing::gateway_sample().gateway_listeners;
  in.gateway_rules = testing::gateway_sample().gateway_rules;
  for (auto& r : in.gateway_rules)
    for (auto& c : r.choices)
      if (c.backend != kNone) c.backend %= uint32_t(hosts);
  return in;
}

struct Made {
  Error error;
  std::vector<uint8_t> bytes;
  EncodedTableWriter::Outcome outcome;
};

Made write(EncodedTableWriter& w, const TableInput& in, uint64_t generation) {
  EncodedModel m = encode_model(in);
  Made r;
  r.error = w.build(m.strings, m.ints.data(), m.ints.size(), generation, 7, r.bytes, r.outcome);
  return r;
}

std::vector<uint8_t> whole(const TableInput& in, uint64_t generation) {
  std::vector<uint8_t> out;
  Error e = build_table(in, generation, 7, out);
  EXPECT_FALSE(e) << e.message;
  return out;
}

TEST(EncodedTableWriter, AnEndpointChangeTakesTheRoutingOverAndMakesTheSameBytes) {
  EncodedTableWriter w;
  TableInput in = sample(20, 1);
  Made first = write(w, in, 1);
  ASSERT_FALSE(first.error) << first.error.message;
  EXPECT_FALSE(first.outcome.routing_reused);
  EXPECT_EQ(first.bytes, whole(in, 1));
  // Other endpoints, other options, another default: the routing is the same.
  in.backends[3].endpoints.push_back(testing::ep("[2001:db8::1]:443*2"));
  in.backends[4].endpoints.clear();
  in.backends[6].options.cache_default_ttl_s = 30;
  in.default_backend = 2;
  Made second = write(w, in, 2);
  ASSERT_FALSE(second.error) << second.error.message;
  EXPECT_TRUE(second.outcome.routing_reused);
  EXPECT_EQ(second.bytes, whole(in, 2));
  TableView view;
  std::vector<uint64_t> aligned((second.bytes.size() + 7) / 8);
  std::memcpy(aligned.data(), second.bytes.data(), second.bytes.size());
  EXPECT_FALSE(TableView::validate(reinterpret_cast<const uint8_t*>(aligned.data()), second.bytes.size(), view));
}

TEST(EncodedTableWriter, ARoutingChangeIsBuiltAfresh) {
  EncodedTableWriter w;
  TableInput in = sample(5, 1);
  ASSERT_FALSE(write(w, in, 1).error);
  std::vector<TableInput> changes;
  TableInput a = in;
  a.hosts[0].rules[0].path = "/other";  // a path
  changes.push_back(a);
  TableInput b = in;
  b.hosts[1].rules[0].backend = 3;  // a rule's backend
  changes.push_back(b);
  TableInput c = in;
  c.gateway_rules[0].route = "ns/renamed";  // the Gateway part
  changes.push_back(c);
  TableInput d = in;
  d.backends[0].service = "ns/a-longer-name-than-before";  // the same strings count, other text before the routing's
  changes.push_back(d);
  TableInput e = in;
  e.backends[0].problem = "now a problem";  // one more backend string: the routing's indexes move
  changes.push_back(e);
  uint64_t g = 2;
  for (const TableInput& changed : changes) {
    Made m = write(w, changed, g);
    ASSERT_FALSE(m.error) << m.error.message;
    EXPECT_EQ(m.bytes, whole(changed, g)) << g;
    // d changes the backends' text only: its routing part is the same bytes.
    EXPECT_EQ(m.outcome.routing_reused, g == 8) << g;
    // Back to the first model, built afresh again unless only backends differ.
    ++g;
    Made back = write(w, in, g);
    ASSERT_FALSE(back.error);
    EXPECT_EQ(back.bytes, whole(in, g));
    ++g;
  }
}

TEST(EncodedTableWriter, FewerBackendsThanTheRoutingNamesGetTheWholeModelsError) {
  EncodedTableWriter w;
  TableInput in = sample(4, 1);
  ASSERT_FALSE(write(w, in, 1).error);
  TableInput fewer = in;
  fewer.backends.pop_back();
  // The routing part's strings start at the same index only if the removed
  // backend had none; the error must name the element either way.
  Made m = write(w, fewer, 2);
  std::vector<uint8_t> unused;
  Error want = build_table(fewer, 2, 7, unused);
  ASSERT_TRUE(want);
  EXPECT_EQ(m.error.message, want.message);
  EXPECT_FALSE(m.outcome.decode_failed);
  // The last good routing is still kept: the first model again reuses it.
  Made again = write(w, in, 3);
  ASSERT_FALSE(again.error);
  EXPECT_EQ(again.bytes, whole(in, 3));
}

TEST(EncodedTableWriter, ARandomSequenceOfChangesMakesWhatAWholeBuildMakes) {
  std::mt19937 rng(12345);
  EncodedTableWriter w;
  TableInput in = sample(12, 0);
  size_t reused = 0;
  for (uint64_t g = 1; g <= 200; ++g) {
    switch (rng() % 8) {
      case 0: in.hosts[rng() % 12].rules[0].path = "/p" + std::to_string(rng() % 5); break;
      case 1: in.hosts[rng() % 12].rules[0].backend = uint32_t(rng() % 12); break;
      case 2: {
        // Options and problems set and unset: nothing of the last decode may stay behind.
        InputBackend& be = in.backends[rng() % 12];
        if (be.options.cache_default_ttl_s) be.options = {};
        else be.options.cache_default_ttl_s = uint32_t(1 + rng() % 100), be.options.upstream_host = "up.example";
        be.problem = be.problem.empty() ? "Service gone" : "";
        be.scheme = be.scheme == kSchemeHttp ? kSchemeHttps : kSchemeHttp;
        break;
      }
      case 3: {
        InputBackend& be = in.backends[rng() % 12];
        be.service = "ns/renamed-to-something-longer-" + std::to_string(rng() % 3);
        break;
      }
      default: {
        InputBackend& be = in.backends[rng() % 12];
        be.endpoints.clear();
        for (uint32_t k = rng() % 4; k > 0; --k) be.endpoints.push_back(testing::ep("10.1.2." + std::to_string(1 + rng() % 250) + ":80"));
        break;
      }
    }
    Made m = write(w, in, g);
    std::vector<uint8_t> want;
    Error e = build_table(in, g, 7, want);
    ASSERT_EQ(bool(m.error), bool(e)) << g;
    if (e) {
      EXPECT_EQ(m.error.message, e.message);
      continue;
    }
    ASSERT_EQ(m.bytes, want) << g;
    reused += m.outcome.routing_reused ? 1 : 0;
  }
  EXPECT_GT(reused, 40u);
}

TEST(EncodedTableWriter, TheRoutingPartMayNotNameABackendsString) {
  TableBuilder t;
  uint32_t b = t.backend("ns/a", {"10.0.0.1:8080"});
  t.host("a.com").prefix("/", b);
  EncodedModel m = encode_model(t.input());
  // ints: version, strings, default, 1 backend (service 0, port 1, ...), then the host's name (string 2).
  auto at = std::find(m.ints.begin() + 20, m.ints.end(), 2u);
  ASSERT_NE(at, m.ints.end());
  *at = 0;  // "ns/a", the backend's service, as the host's name
  TableInput out;
  Error e = decode_model(m.strings, m.ints.data(), m.ints.size(), out);
  EXPECT_EQ(e.message, "the encoded model is malformed at int " + std::to_string(at - m.ints.begin()) +
                           ": string index 0 is one of the backends' strings (0 to 1)");
}

}  // namespace
}  // namespace atsi
