#include "balancer.h"

#include <gtest/gtest.h>

#include <map>

#include "test_tables.h"

namespace atsi {
namespace {

using testing::build;
using testing::TableBuilder;

std::string sequence(const TableView& v, Balancer& bal, uint32_t backend, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    uint32_t e = bal.pick(v, backend);
    s += char('a' + (e - v.backend(backend).first_endpoint));
  }
  return s;
}

TEST(Balancer, RoundRobinOverUniformWeights) {
  TableBuilder t;
  t.backend("ns/x", {"10.0.0.9:80"});
  uint32_t b = t.backend("ns/a", {"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"});
  auto built = build(t.input());
  Balancer bal;
  bal.reset(built.view, 0);
  EXPECT_EQ(sequence(built.view, bal, b, 7), "abcabca");
}

TEST(Balancer, SmoothWeightedRoundRobin) {
  // nginx's example: weights 5, 1, 1 give a a b a c a a.
  TableBuilder t;
  uint32_t b = t.backend("ns/a", {"10.0.0.1:80*5", "10.0.0.2:80*1", "10.0.0.3:80*1"});
  auto built = build(t.input());
  Balancer bal;
  bal.reset(built.view, 0);
  EXPECT_EQ(sequence(built.view, bal, b, 14), "aabacaaaabacaa");
}

TEST(Balancer, WeightsGiveProportionalShares) {
  TableBuilder t;
  uint32_t b = t.backend("ns/a", {"10.0.0.1:80*3", "[2001:db8::2]:80*2", "10.0.0.3:80*5"});
  auto built = build(t.input());
  Balancer bal;
  bal.reset(built.view, 0);
  std::map<char, int> count;
  for (char c : sequence(built.view, bal, b, 1000)) count[c]++;
  EXPECT_EQ(count['a'], 300);
  EXPECT_EQ(count['b'], 200);
  EXPECT_EQ(count['c'], 500);
}

TEST(Balancer, SeedsStaggerTheStartButStillCoverAll) {
  TableBuilder t;
  uint32_t b = t.backend("ns/a", {"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", "10.0.0.4:80"});
  auto built = build(t.input());
  std::map<char, int> firsts;
  for (uint32_t seed = 1; seed <= 16; ++seed) {
    Balancer bal;
    bal.reset(built.view, seed);
    std::string s = sequence(built.view, bal, b, 4);
    firsts[s[0]]++;
    std::string sorted = s;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, "abcd") << "seed " << seed;
  }
  EXPECT_GT(firsts.size(), 1u);
}

TEST(Balancer, NoEndpoints) {
  TableBuilder t;
  uint32_t b = t.backend("ns/a", {});
  auto built = build(t.input());
  Balancer bal;
  bal.reset(built.view, 0);
  EXPECT_EQ(bal.pick(built.view, b), kNone);
}

}  // namespace
}  // namespace atsi
