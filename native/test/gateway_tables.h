// Small builders for the Gateway API part of tables, and a request that
// gateway_lookup() reads, for C++ tests.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "gateway_lookup.h"
#include "table_input.h"
#include "test_tables.h"

namespace atsi::testing {

// A choice by weight: backend (kNone: invalid) and weight.
InputGatewayChoice choice(uint32_t backend, uint32_t weight = 1, const std::string& problem = "");

class GatewayBuilder {
 public:
  // A backend ("ns/name") with endpoints ("10.0.0.1:80"); returns its index.
  uint32_t backend(const std::string& service, std::initializer_list<const char*> endpoints = {"10.0.0.1:8080"});
  // A rule of route "ns/<name>" forwarding to `choices`; returns its index.
  uint32_t rule(const std::string& route, std::vector<InputGatewayChoice> choices,
                std::vector<InputFilter> filters = {});
  // The rule the next entries go to (a rule to one backend of weight 1).
  uint32_t to(uint32_t backend) { return rule("ns/r" + std::to_string(in_.gateway_rules.size()), {choice(backend)}); }
  // A listener (Gateway "ns/gw" unless given) on the local `address` and `port`.
  GatewayBuilder& listener(const std::string& address, uint16_t port, const std::string& hostname,
                           const std::string& gateway = "ns/gw", uint16_t listener_port = 0);
  // An entry of the last listener.
  GatewayBuilder& entry(const std::string& hostname, GatewayPathType type, const std::string& path, uint32_t rule);
  GatewayBuilder& prefix(const std::string& path, uint32_t rule, const std::string& hostname = "") {
    return entry(hostname, GatewayPathType::kPathPrefix, path, rule);
  }
  GatewayBuilder& exact(const std::string& path, uint32_t rule, const std::string& hostname = "") {
    return entry(hostname, GatewayPathType::kExact, path, rule);
  }
  InputGatewayListener& last_listener() { return in_.gateway_listeners.back(); }
  InputGatewayEntry& last_entry() { return in_.gateway_listeners.back().entries.back(); }
  TableInput& input() { return in_; }

 private:
  TableInput in_;
};

InputFilter redirect(uint16_t status = 302, const std::string& scheme = "", const std::string& hostname = "",
                     uint16_t port = 0, PathModifierKind path_kind = PathModifierKind::kNone,
                     const std::string& path = "");
InputFilter rewrite(PathModifierKind path_kind, const std::string& path, const std::string& hostname = "");
InputFilter request_headers(std::vector<InputNameValue> set, std::vector<InputNameValue> add = {},
                            std::vector<std::string> remove = {});

// A request as a test writes it; gateway_request() views it.
struct TestRequest {
  std::string address = "10.0.0.9";
  uint16_t port = 80;
  std::string host = "a.example.com";
  std::string path = "/";
  std::string query;
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;  // names in any case, may repeat
  uint8_t family = 0;
  uint8_t bytes[16] = {};
};
// Valid while `r` lives and is not changed.
GatewayRequest gateway_request(TestRequest& r);

// What the request gets, for people: "ns/svc" (routed), "redirect 302
// http://...", "404 <text>", "500 <text>", "503 <text>", "400", "not gateway".
std::string gateway_answer(const TableView& t, TestRequest r, uint32_t random = 0, bool client_tls = false);

}  // namespace atsi::testing
