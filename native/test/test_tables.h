// Small builders for tables in C++ tests.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "lookup.h"
#include "table_input.h"
#include "table_view.h"

namespace atsi::testing {

// "10.0.0.1:80", "[::1]:8080", optionally "...*3" for weight 3.
InputEndpoint ep(const std::string& spec);

class TableBuilder {
 public:
  // Adds a backend for `service` ("ns/name") with endpoints; returns its index.
  uint32_t backend(const std::string& service, std::initializer_list<const char*> endpoints = {},
                   const std::string& port = "80");
  TableBuilder& host(const std::string& name);
  TableBuilder& rule(const std::string& path, PathType type, uint32_t backend,
                     const std::string& source = "ns/ing");
  TableBuilder& exact(const std::string& path, uint32_t backend) { return rule(path, kPathExact, backend); }
  TableBuilder& prefix(const std::string& path, uint32_t backend) { return rule(path, kPathPrefix, backend); }
  TableBuilder& host_default(uint32_t backend, const std::string& source = "ns/ing");
  TableBuilder& table_default(uint32_t backend);
  TableInput& input() { return in_; }

 private:
  TableInput in_;
};

// Built bytes with a view over them. Aborts the test on a build error.
struct Built {
  std::vector<uint64_t> storage;  // 8-byte aligned
  size_t size = 0;
  TableView view;
  const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(storage.data()); }
};
// Every backend option set to a value of its own (the hot-path tests read
// them all); redirect_to_https as given, since it changes what a request does.
void set_every_option(InputOptions& o, bool redirect_to_https);

Built build(const TableInput& in, uint64_t generation = 1);
std::vector<uint8_t> build_bytes(const TableInput& in, uint64_t generation = 1);

// outcome_text() as a string.
std::string outcome(const TableView& t, const Match& m);

// The service of the routed backend, or "404"/"503".
std::string route(const TableView& t, const std::string& host, const std::string& path);

}  // namespace atsi::testing
