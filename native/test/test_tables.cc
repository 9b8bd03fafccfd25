#include "test_tables.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "table_writer.h"

namespace atsi::testing {

InputEndpoint ep(const std::string& spec) {
  InputEndpoint e;
  std::string s = spec;
  size_t star = s.find('*');
  if (star != std::string::npos) {
    e.weight = uint32_t(std::stoul(s.substr(star + 1)));
    s = s.substr(0, star);
  }
  size_t colon = s.rfind(':');
  e.port = uint16_t(std::stoul(s.substr(colon + 1)));
  std::string addr = s.substr(0, colon);
  if (!addr.empty() && addr.front() == '[') addr = addr.substr(1, addr.size() - 2);
  e.address = addr;
  return e;
}

uint32_t TableBuilder::backend(const std::string& service, std::initializer_list<const char*> endpoints,
                               const std::string& port) {
  InputBackend b;
  b.service = service;
  b.port = port;
  for (const char* e : endpoints) b.endpoints.push_back(ep(e));
  in_.backends.push_back(b);
  return uint32_t(in_.backends.size() - 1);
}

TableBuilder& TableBuilder::host(const std::string& name) {
  in_.hosts.push_back(InputHost{name, {}, kNone, ""});
  return *this;
}

TableBuilder& TableBuilder::rule(const std::string& path, PathType type, uint32_t backend,
                                 const std::string& source) {
  in_.hosts.back().rules.push_back(InputRule{path, type, backend, source});
  return *this;
}

TableBuilder& TableBuilder::host_default(uint32_t backend, const std::string& source) {
  in_.hosts.back().default_backend = backend;
  in_.hosts.back().default_source = source;
  return *this;
}

TableBuilder& TableBuilder::table_default(uint32_t backend) {
  in_.default_backend = backend;
  return *this;
}

std::vector<uint8_t> build_bytes(const TableInput& in, uint64_t generation) {
  std::vector<uint8_t> bytes;
  Error e = build_table(in, generation, 1700000000000ull, bytes);
  if (e) {
    std::fprintf(stderr, "build_table: %s\n", e.message.c_str());
    std::abort();
  }
  return bytes;
}

Built build(const TableInput& in, uint64_t generation) {
  std::vector<uint8_t> bytes = build_bytes(in, generation);
  Built b;
  b.size = bytes.size();
  b.storage.resize((bytes.size() + 7) / 8);
  std::memcpy(b.storage.data(), bytes.data(), bytes.size());
  Error e = TableView::validate(b.data(), b.size, b.view);
  if (e) {
    std::fprintf(stderr, "validate: %s\n", e.message.c_str());
    std::abort();
  }
  return b;
}

std::string outcome(const TableView& t, const Match& m) {
  char buf[512];
  size_t n = outcome_text(t, m, buf, sizeof buf);
  if (n >= sizeof buf) {
    std::fprintf(stderr, "outcome_text: %zu bytes do not fit the test's buffer\n", n);
    std::abort();
  }
  return std::string(buf, n);
}

void set_every_option(InputOptions& o, bool redirect_to_https) {
  o.connect_timeout_ms = 1500;
  o.response_timeout_ms = 30000;
  o.redirect_to_https = redirect_to_https;
  o.cache_policy = 0;
  o.upstream_host = "internal.svc.cluster.local";
  o.cache_default_ttl_s = 60;
  o.cache_max_ttl_s = 3600;
  o.cache_ignore_query = true;
  o.cache_serve_stale_s = 30;
  o.cache_generation = 4;
  o.stats_slot = 9;
}

std::string route(const TableView& t, const std::string& host, const std::string& path) {
  Match m = lookup(t, host, path);
  switch (m.outcome) {
    case Outcome::kNotFound: return "404";
    case Outcome::kNoEndpoints: return "503";
    case Outcome::kRouted: return std::string(t.str(t.backend(m.backend).service));
  }
  return "?";
}

}  // namespace atsi::testing
