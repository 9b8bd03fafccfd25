// The Node binding of the route-table core: route tables (publish, lookup,
// read), TLS tables (publishTls, readTls) and the plugin's request counters
// (readStats, in stats.cc). Arguments arrive already checked
// by src/route-table/route-table.ts; this side checks types cheaply and throws
// TableError (the class the wrapper registers) with a `code` from
// native/core/errors.h, the one list of codes (exported as `errorCodes`). No global
// mutable state: everything lives in per-environment instance data.
#ifndef NAPI_DISABLE_CPP_EXCEPTIONS
#define NAPI_DISABLE_CPP_EXCEPTIONS
#endif
#include <napi.h>

#include <arpa/inet.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "balancer.h"
#include "encoded_writer.h"
#include "errors.h"
#include "gateway_lookup.h"
#include "lookup.h"
#include "model_decoder.h"
#include "publisher.h"
#include "shm_names.h"
#include "stats_region.h"
#include "table_source.h"
#include "tls_decoder.h"

// stats.cc
namespace atsi::addon {
Napi::Array stats_counter_names(Napi::Env env);
Napi::Value read_stats(Napi::Env env, StatsReader& reader, Error& error);
}  // namespace atsi::addon

namespace {

using atsi::Error;
using atsi::ErrorCode;

class AddonData {
 public:
  Napi::FunctionReference error_class;
};

void throw_error(Napi::Env env, ErrorCode code_value, const std::string& message) {
  Napi::String code = Napi::String::New(env, atsi::error_code_name(code_value));
  auto* data = env.GetInstanceData<AddonData>();
  Napi::Value err;
  if (data && !data->error_class.IsEmpty()) {
    err = data->error_class.New({Napi::String::New(env, message), code});
    if (env.IsExceptionPending()) return;
  } else {
    Napi::Error e = Napi::Error::New(env, message);
    e.Set("code", code);
    err = e.Value();
  }
  napi_throw(env, err);
}

void throw_error(Napi::Env env, const Error& e) { throw_error(env, e.code, e.message); }

// The model arrives encoded by src/route-table/encode-model.ts (already
// validated there): NUL-separated strings and a Uint32Array, decoded by the
// core (model_decoder.h, through EncodedTableWriter), which bounds-checks
// every read, so a caller that bypasses the wrapper gets an error, never a
// crash.
// The strings as one string, or as pieces to be joined by NUL (encode-model
// passes the backends' and the routing's apart, each flat: joining them in
// JavaScript would make V8 copy the whole into a flat string first).
bool read_strings(Napi::Env env, const Napi::CallbackInfo& info, std::string& out) {
  bool ints_ok = info.Length() >= 2 && info[1].IsTypedArray() &&
                 info[1].As<Napi::TypedArray>().TypedArrayType() == napi_uint32_array;
  if (ints_ok && info[0].IsString()) {
    out = info[0].As<Napi::String>().Utf8Value();
    return true;
  }
  if (ints_ok && info[0].IsArray()) {
    Napi::Array pieces = info[0].As<Napi::Array>();
    out.clear();
    bool ok = true;
    for (uint32_t i = 0; ok && i < pieces.Length(); ++i) {
      Napi::Value piece = pieces.Get(i);
      if (i > 0) out.push_back('\0');
      // Straight into `out`: no copy of a megabyte per piece on the way.
      size_t length = 0, written = 0;
      ok = piece.IsString() && napi_get_value_string_utf8(env, piece, nullptr, 0, &length) == napi_ok;
      if (!ok) break;
      size_t at = out.size();
      out.resize(at + length + 1);
      ok = napi_get_value_string_utf8(env, piece, out.data() + at, length + 1, &written) == napi_ok;
      out.resize(at + written);
    }
    if (ok) return true;
  }
  throw_error(env, ErrorCode::kInvalidArg, "publish(strings, ints) takes a string (or an array of strings) and a Uint32Array");
  return false;
}

constexpr const char* kDecodeHint = " (publish through src/route-table/route-table.ts, which encodes and checks it)";

// The TLS model, encoded by src/route-table/encode-tls.ts (the layout is in
// native/core/tls_decoder.h) and decoded as the route model is.
bool read_encoded_tls(Napi::Env env, const Napi::CallbackInfo& info, atsi::TlsInput& in) {
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
    throw_error(env, ErrorCode::kInvalidArg, "publishTls(strings, ints) takes a string and a Uint32Array");
    return false;
  }
  std::string strings = info[0].As<Napi::String>().Utf8Value();
  Napi::Uint32Array ints = info[1].As<Napi::Uint32Array>();
  if (Error e = atsi::decode_tls(strings, ints.Data(), ints.ElementLength(), in)) {
    throw_error(env, e.code, e.message + " (publish through src/route-table/route-table.ts, which encodes and checks it)");
    return false;
  }
  return true;
}

// Opens `p` for `table` on first use; false (with a pending exception) when
// it cannot be opened.
template <class P>
bool ensure_publisher(Napi::Env env, const std::string& table, std::unique_ptr<P>& p) {
  if (p) return true;
  if (Error e = P::open(table, p)) {
    throw_error(env, e);
    return false;
  }
  return true;
}

Napi::Object publish_result(Napi::Env env, const atsi::PublishResult& r) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("generation", Napi::BigInt::New(env, r.generation));
  out.Set("bytes", Napi::Number::New(env, double(r.bytes)));
  return out;
}

std::string endpoint_text(const atsi::EndpointRecord& e) {
  char buf[INET6_ADDRSTRLEN] = {0};
  inet_ntop(e.family == 4 ? AF_INET : AF_INET6, e.address, buf, sizeof buf);
  return buf;
}

std::string endpoint_hostport(const atsi::EndpointRecord& e) {
  std::string a = endpoint_text(e);
  return (e.family == 6 ? "[" + a + "]" : a) + ":" + std::to_string(e.port);
}

Napi::String str(Napi::Env env, std::string_view s) { return Napi::String::New(env, s.data(), s.size()); }

// outcome_text() whole, however long the backend's problem text is.
Napi::String outcome_string(Napi::Env env, const atsi::TableView& v, const atsi::Match& m) {
  char buf[256];
  size_t n = atsi::outcome_text(v, m, buf, sizeof buf);
  if (n < sizeof buf) return str(env, {buf, n});
  std::string whole(n + 1, '\0');
  atsi::outcome_text(v, m, whole.data(), whole.size());
  return str(env, {whole.data(), n});
}

// gateway_outcome_text() or gateway_redirect_location() whole, however long.
template <class Fn>
std::string whole_text(Fn&& fn) {
  char buf[256];
  size_t n = fn(buf, sizeof buf);
  if (n < sizeof buf) return std::string(buf, n);
  std::string whole(n + 1, '\0');
  fn(whole.data(), whole.size());
  whole.resize(n);
  return whole;
}

std::string address_text(uint8_t family, const uint8_t* address) {
  if (family == atsi::kAnyAddressFamily) return "*";  // a Gateway listener on every local address
  char buf[INET6_ADDRSTRLEN] = {0};
  inet_ntop(family == 4 ? AF_INET : AF_INET6, address, buf, sizeof buf);
  return buf;
}

// The request's headers as lookup() was given them, names lowercased, for
// GatewayRequest::header_equals.
struct RequestHeaders {
  std::vector<std::pair<std::string, std::string>> list;
};

bool header_equals(const void* ctx, std::string_view lower_name, std::string_view value) {
  const auto* h = static_cast<const RequestHeaders*>(ctx);
  // A repeated header is one value, its values joined with ',' (RFC 9110
  // 5.3), as the plugin reads it from ATS.
  std::string joined;
  bool found = false;
  for (const auto& [name, v] : h->list) {
    if (name != lower_name) continue;
    if (found) joined.push_back(',');
    joined += v;
    found = true;
  }
  return found && joined == value;
}

Napi::Array pairs_array(Napi::Env env, const atsi::TableView& v, uint32_t first, uint32_t count) {
  Napi::Array a = Napi::Array::New(env, count);
  for (uint32_t i = 0; i < count; ++i) {
    const atsi::GatewayPairRecord& p = v.gateway_pair(first + i);
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", str(env, v.str(p.name)));
    o.Set("value", str(env, v.str(p.value)));
    a.Set(i, o);
  }
  return a;
}

// A filter as TableFilter (table-model.ts) has it: the fields its kind
// has, the optional ones only when set, so that read() gives back what
// publish() took.
Napi::Object filter_object(Napi::Env env, const atsi::TableView& v, const atsi::GatewayFilterRecord& f) {
  using atsi::FilterKind;
  Napi::Object o = Napi::Object::New(env);
  auto path = [&]() {
    if (f.path_kind == uint8_t(atsi::PathModifierKind::kNone)) return;
    Napi::Object p = Napi::Object::New(env);
    p.Set("type", Napi::String::New(env, f.path_kind == uint8_t(atsi::PathModifierKind::kReplaceFullPath)
                                             ? "ReplaceFullPath"
                                             : "ReplacePrefixMatch"));
    p.Set("value", str(env, v.str(f.path)));
    o.Set("path", p);
  };
  switch (FilterKind(f.kind)) {
    case FilterKind::kRequestHeaderModifier:
    case FilterKind::kResponseHeaderModifier: {
      o.Set("type", Napi::String::New(env, FilterKind(f.kind) == FilterKind::kRequestHeaderModifier
                                               ? "RequestHeaderModifier"
                                               : "ResponseHeaderModifier"));
      Napi::Object edits = Napi::Object::New(env);
      edits.Set("set", pairs_array(env, v, f.first_set, f.set_count));
      edits.Set("add", pairs_array(env, v, f.first_add, f.add_count));
      Napi::Array remove = Napi::Array::New(env, f.remove_count);
      for (uint32_t i = 0; i < f.remove_count; ++i) remove.Set(i, str(env, v.str(v.gateway_pair(f.first_remove + i).name)));
      edits.Set("remove", remove);
      o.Set("edits", edits);
      break;
    }
    case FilterKind::kRequestRedirect:
      o.Set("type", Napi::String::New(env, "RequestRedirect"));
      if (f.scheme != uint8_t(atsi::RedirectScheme::kKeep))
        o.Set("scheme", Napi::String::New(env, f.scheme == uint8_t(atsi::RedirectScheme::kHttps) ? "https" : "http"));
      if (f.hostname.length) o.Set("hostname", str(env, v.str(f.hostname)));
      if (f.port) o.Set("port", Napi::Number::New(env, f.port));
      path();
      o.Set("statusCode", Napi::Number::New(env, f.status_code));
      break;
    case FilterKind::kURLRewrite:
      o.Set("type", Napi::String::New(env, "URLRewrite"));
      if (f.hostname.length) o.Set("hostname", str(env, v.str(f.hostname)));
      path();
      break;
  }
  return o;
}

Napi::Array filters_array(Napi::Env env, const atsi::TableView& v, uint32_t first, uint32_t count) {
  Napi::Array a = Napi::Array::New(env, count);
  for (uint32_t i = 0; i < count; ++i) a.Set(i, filter_object(env, v, v.gateway_filter(first + i)));
  return a;
}

// read()'s `gateway`: TableGateway as it was published.
Napi::Object gateway_object(Napi::Env env, const atsi::TableView& v) {
  Napi::Object g = Napi::Object::New(env);
  Napi::Array listeners = Napi::Array::New(env, v.gateway_listener_count());
  for (uint32_t i = 0; i < v.gateway_listener_count(); ++i) {
    const atsi::GatewayListenerRecord& l = v.gateway_listener(i);
    Napi::Object lo = Napi::Object::New(env);
    lo.Set("gateway", str(env, v.str(l.gateway)));
    lo.Set("listener", str(env, v.str(l.listener)));
    lo.Set("address", Napi::String::New(env, address_text(l.family, l.address)));
    lo.Set("port", Napi::Number::New(env, l.port));
    lo.Set("listenerPort", Napi::Number::New(env, l.listener_port));
    lo.Set("protocol", Napi::String::New(env, l.https ? "HTTPS" : "HTTP"));
    lo.Set("hostname", str(env, v.str(l.hostname)));
    Napi::Array entries = Napi::Array::New(env, l.entry_count);
    for (uint32_t k = 0; k < l.entry_count; ++k) {
      const atsi::GatewayEntryRecord& e = v.gateway_entry(l.first_entry + k);
      Napi::Object eo = Napi::Object::New(env);
      eo.Set("hostname", str(env, v.str(e.hostname)));
      eo.Set("pathType", Napi::String::New(
                             env, e.path_type == uint8_t(atsi::GatewayPathType::kExact) ? "Exact" : "PathPrefix"));
      eo.Set("path", str(env, v.str(e.path)));
      if (e.method.length) eo.Set("method", str(env, v.str(e.method)));
      eo.Set("headers", pairs_array(env, v, e.first_header, e.header_count));
      eo.Set("queryParams", pairs_array(env, v, e.first_query, e.query_count));
      eo.Set("rule", Napi::Number::New(env, e.rule));
      entries.Set(k, eo);
    }
    lo.Set("entries", entries);
    listeners.Set(i, lo);
  }
  g.Set("listeners", listeners);
  Napi::Array rules = Napi::Array::New(env, v.gateway_rule_count());
  for (uint32_t i = 0; i < v.gateway_rule_count(); ++i) {
    const atsi::GatewayRuleRecord& r = v.gateway_rule(i);
    Napi::Object ro = Napi::Object::New(env);
    ro.Set("route", str(env, v.str(r.route)));
    ro.Set("ruleIndex", Napi::Number::New(env, r.rule_index));
    ro.Set("filters", filters_array(env, v, r.first_filter, r.filter_count));
    Napi::Array choices = Napi::Array::New(env, r.choice_count);
    for (uint32_t k = 0; k < r.choice_count; ++k) {
      const atsi::GatewayChoiceRecord& c = v.gateway_choice(r.first_choice + k);
      Napi::Object co = Napi::Object::New(env);
      if (c.backend != atsi::kNone) co.Set("backend", Napi::Number::New(env, c.backend));
      co.Set("weight", Napi::Number::New(env, c.weight));
      co.Set("filters", filters_array(env, v, c.first_filter, c.filter_count));
      if (c.problem.length) co.Set("problem", str(env, v.str(c.problem)));
      choices.Set(k, co);
    }
    ro.Set("choices", choices);
    if (r.failure.length) ro.Set("failure", str(env, v.str(r.failure)));
    rules.Set(i, ro);
  }
  g.Set("rules", rules);
  return g;
}

// Every error code name, in enum order: the TypeScript union is tested
// against it.
Napi::Array error_codes(Napi::Env env) {
  Napi::Array a = Napi::Array::New(env, atsi::kErrorCodes.size());
  for (size_t i = 0; i < atsi::kErrorCodes.size(); ++i)
    a.Set(uint32_t(i), Napi::String::New(env, atsi::error_code_name(atsi::kErrorCodes[i])));
  return a;
}

class Table : public Napi::ObjectWrap<Table> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Table",
                       {InstanceMethod<&Table::Publish>("publish"), InstanceMethod<&Table::Lookup>("lookup"),
                        InstanceMethod<&Table::Read>("read"), InstanceMethod<&Table::ReadOwners>("readOwners"),
                        InstanceMethod<&Table::PublishTls>("publishTls"),
                        InstanceMethod<&Table::ReadTls>("readTls"), InstanceMethod<&Table::ReadStats>("readStats"),
                        InstanceMethod<&Table::Close>("close"),
                        InstanceMethod<&Table::Remove>("remove"), InstanceAccessor<&Table::Closed>("closed")});
  }

  explicit Table(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Table>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) {
      throw_error(env, ErrorCode::kInvalidArg, "table name must be a string");
      return;
    }
    name_ = info[0].As<Napi::String>().Utf8Value();
    if (Error e = atsi::check_table_name(name_)) throw_error(env, e);
  }

 private:
  bool check_open(Napi::Env env) {
    if (closed_) throw_error(env, ErrorCode::kTableClosed, "table \"" + name_ + "\" is closed");
    return !closed_;
  }

  // The blob in service from `source` (created on first use), mapping it
  // first if needed; null with kNotFound pending when there is none.
  template <class Source>
  auto live_from(Napi::Env env, std::unique_ptr<Source>& source) {
    if (!source) source = std::make_unique<Source>(name_);
    source->refresh();
    auto t = source->current();
    if (!t) {
      std::string what = Source::kBlob.what;
      std::string why = source->last_error();
      throw_error(env, ErrorCode::kNotFound,
                  why.empty() ? "no " + what + " has been published under the name \"" + name_ + "\""
                              : "no valid " + what + " under the name \"" + name_ + "\": " + why);
    }
    return t;
  }
  std::shared_ptr<const atsi::MappedTable> live(Napi::Env env) { return live_from(env, source_); }

  Napi::Value Publish(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!check_open(env)) return env.Undefined();
    std::string strings;
    if (!read_strings(env, info, strings) || !ensure_publisher(env, name_, publisher_)) return env.Undefined();
    Napi::Uint32Array ints = info[1].As<Napi::Uint32Array>();
    atsi::PublishResult r;
    atsi::EncodedTableWriter::Outcome outcome;
    uint64_t now = atsi::now_ms();
    Error e = publisher_->publish_with(
        [&](uint64_t generation, std::vector<uint8_t>& out) {
          return writer_.build(strings, ints.Data(), ints.ElementLength(), generation, now, out, outcome);
        },
        r);
    if (e) {
      if (outcome.decode_failed) e.message += kDecodeHint;
      throw_error(env, e);
      return env.Undefined();
    }
    Napi::Object result = publish_result(env, r);
    result.Set("routingReused", Napi::Boolean::New(env, outcome.routing_reused));
    return result;
  }

  Napi::Value PublishTls(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!check_open(env)) return env.Undefined();
    atsi::TlsInput in;
    if (!read_encoded_tls(env, info, in) || !ensure_publisher(env, name_, tls_publisher_)) return env.Undefined();
    atsi::PublishResult r;
    if (Error e = tls_publisher_->publish(in, atsi::now_ms(), r)) {
      throw_error(env, e);
      return env.Undefined();
    }
    return publish_result(env, r);
  }

  // readTls(withKeys): the TLS table in service. Private keys only when
  // asked: the controller compares what is live with what it would publish;
  // people (the CLI) see everything else.
  Napi::Value ReadTls(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!check_open(env)) return env.Undefined();
    if (info.Length() >= 1 && !info[0].IsBoolean() && !info[0].IsUndefined()) {
      throw_error(env, ErrorCode::kInvalidArg, "readTls(withKeys) takes a boolean");
      return env.Undefined();
    }
    bool with_keys = info.Length() >= 1 && info[0].IsBoolean() && info[0].As<Napi::Boolean>().Value();
    auto t = live_from(env, tls_source_);
    if (!t) return env.Undefined();
    const atsi::TlsView& v = t->view();
    Napi::Object out = Napi::Object::New(env);
    out.Set("generation", Napi::BigInt::New(env, v.generation()));
    out.Set("buildTimeMs", Napi::Number::New(env, double(v.header().build_time_ms)));
    out.Set("sizeBytes", Napi::Number::New(env, double(t->size())));
    if (v.default_certificate() != atsi::kNone)
      out.Set("defaultCertificate", Napi::Number::New(env, v.default_certificate()));
    Napi::Array certs = Napi::Array::New(env, v.certificate_count());
    for (uint32_t i = 0; i < v.certificate_count(); ++i) {
      const atsi::CertificateRecord& c = v.certificate(i);
      Napi::Object co = Napi::Object::New(env);
      co.Set("secret", str(env, v.str(c.secret)));
      co.Set("chainPem", str(env, v.str(c.chain)));
      if (with_keys) co.Set("keyPem", str(env, v.str(c.key)));
      co.Set("notAfter", Napi::Number::New(env, double(c.not_after)));
      certs.Set(i, co);
    }
    out.Set("certificates", certs);
    Napi::Array policies = Napi::Array::New(env, v.policy_count());
    for (uint32_t i = 0; i < v.policy_count(); ++i) {
      const atsi::PolicyRecord& p = v.policy(i);
      Napi::Object po = Napi::Object::New(env);
      po.Set("minVersion", Napi::Number::New(env, p.min_version));
      po.Set("verifyClient", Napi::Number::New(env, p.verify_client));
      if (p.ca.length) po.Set("caPem", str(env, v.str(p.ca)));
      po.Set("verifyDepth", Napi::Number::New(env, p.verify_depth));
      policies.Set(i, po);
    }
    out.Set("policies", policies);
    Napi::Array hosts = Napi::Array::New(env, v.host_count());
    for (uint32_t i = 0; i < v.host_count(); ++i) {
      const atsi::TlsHostRecord& h = v.host(i);
      Napi::Object ho = Napi::Object::New(env);
      ho.Set("name", str(env, v.str(h.name)));
      if (h.certificate != atsi::kNone) ho.Set("certificate", Napi::Number::New(env, h.certificate));
      if (h.policy != atsi::kNone) ho.Set("policy", Napi::Number::New(env, h.policy));
      hosts.Set(i, ho);
    }
    out.Set("hosts", hosts);
    Napi::Array listeners = Napi::Array::New(env, v.listener_count());
    for (uint32_t i = 0; i < v.listener_count(); ++i) {
      const atsi::TlsListenerRecord& l = v.listener(i);
      Napi::Object lo = Napi::Object::New(env);
      lo.Set("gateway", str(env, v.str(l.gateway)));
      lo.Set("listener", str(env, v.str(l.listener)));
      char text[INET6_ADDRSTRLEN] = {'*'};
      if (l.family != atsi::kAnyAddressFamily) inet_ntop(l.family == 4 ? AF_INET : AF_INET6, l.address, text, sizeof text);
      lo.Set("address", Napi::String::New(env, text));
      lo.Set("port", Napi::Number::New(env, l.port));
      lo.Set("hostname", str(env, v.str(l.hostname)));
      lo.Set("certificate", Napi::Number::New(env, l.certificate));
      if (l.policy != atsi::kNone) lo.Set("policy", Napi::Number::New(env, l.policy));
      listeners.Set(i, lo);
    }
    out.Set("gatewayListeners", listeners);
    return out;
  }

  Napi::Value ReadStats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!check_open(env)) return env.Undefined();
    if (!stats_reader_) stats_reader_ = std::make_unique<atsi::StatsReader>(name_);
    Error e;
    Napi::Value v = atsi::addon::read_stats(env, *stats_reader_, e);
    if (e) throw_error(env, e);
    return v;
  }

  // The backend a lookup chose: service, port, scheme, its endpoints and
  // the one a fresh reader would pick first.
  static void set_backend(Napi::Env env, Napi::Object out, const atsi::TableView& v, uint32_t backend) {
    const atsi::BackendRecord& b = v.backend(backend);
    out.Set("service", str(env, v.str(b.service)));
    out.Set("servicePort", str(env, v.str(b.port)));
    out.Set("scheme", Napi::String::New(env, b.scheme == atsi::kSchemeHttps ? "https" : "http"));
    Napi::Array eps = Napi::Array::New(env, b.endpoint_count);
    for (uint32_t i = 0; i < b.endpoint_count; ++i)
      eps.Set(i, Napi::String::New(env, endpoint_hostport(v.endpoint(b.first_endpoint + i))));
    out.Set("endpoints", eps);
    atsi::Balancer fresh;
    fresh.reset(v, 0);
    uint32_t first = fresh.pick(v, backend);
    if (first != atsi::kNone) out.Set("endpoint", Napi::String::New(env, endpoint_hostport(v.endpoint(first))));
  }

  // lookup(host, path, method?, headers?, localAddress?, localPort?): the
  // optional four checked by route-table.ts (headers flat: name, value, ...).
  Napi::Value Lookup(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!check_open(env)) return env.Undefined();
    auto given = [&info](size_t i) { return info.Length() > i && !info[i].IsUndefined(); };
    if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString() || (given(2) && !info[2].IsString()) ||
        (given(3) && !info[3].IsArray()) || (given(4) && !info[4].IsString()) || (given(5) && !info[5].IsNumber()) ||
        given(4) != given(5)) {
      throw_error(env, ErrorCode::kInvalidArg,
                  "lookup(host, path, method?, headers?, localAddress?, localPort?) takes strings, an array of "
                  "strings, a string and a number (the address and port together)");
      return env.Undefined();
    }
    // Parsed before the table is read, so that a bad argument is an error
    // whether or not a Gateway is there.
    uint8_t family = 0;
    uint8_t address[16] = {0};
    uint16_t port = 0;
    if (given(4)) {
      std::string text = info[4].As<Napi::String>().Utf8Value();
      double p = info[5].As<Napi::Number>().DoubleValue();
      if (inet_pton(AF_INET, text.c_str(), address) == 1) family = 4;
      else if (inet_pton(AF_INET6, text.c_str(), address) == 1) family = 6;
      if (family == 0 || !(p >= 1 && p <= 65535) || p != double(uint16_t(p))) {
        throw_error(env, ErrorCode::kInvalidArg, "lookup: the local address and port must be an IP address and 1..65535");
        return env.Undefined();
      }
      port = uint16_t(p);
    }
    auto t = live(env);
    if (!t) return env.Undefined();
    const atsi::TableView& v = t->view();
    std::string host = info[0].As<Napi::String>().Utf8Value();
    std::string path = info[1].As<Napi::String>().Utf8Value();
    if (family != 0 && atsi::gateway_listens(v, family, address, port))
      return GatewayLookup(info, v, host, path, family, address, port);
    atsi::Match m = atsi::lookup(v, host, path);
    Napi::Object out = Napi::Object::New(env);
    out.Set("status", Napi::Number::New(env, m.outcome == atsi::Outcome::kRouted      ? 200
                                             : m.outcome == atsi::Outcome::kNoEndpoints ? 503
                                             : m.reason == atsi::Reason::kAmbiguousPath  ? 400
                                                                                         : 404));
    out.Set("generation", Napi::BigInt::New(env, v.generation()));
    if (m.outcome != atsi::Outcome::kRouted) out.Set("reason", outcome_string(env, v, m));
    if (m.backend != atsi::kNone) set_backend(env, out, v, m.backend);
    if (m.host != atsi::kNone || m.backend != atsi::kNone) {
      Napi::Object rule = Napi::Object::New(env);
      rule.Set("host", m.host != atsi::kNone ? str(env, v.str(v.host(m.host).name)) : Napi::String::New(env, ""));
      if (m.rule != atsi::kNone) {
        const atsi::RuleRecord& r = v.rule(m.rule);
        rule.Set("path", str(env, v.str(r.path)));
        rule.Set("pathType", Napi::String::New(env, atsi::path_type_name(r.path_type)));
        rule.Set("source", str(env, v.str(r.source)));
      } else if (m.kind == atsi::MatchKind::kHostDefault) {
        rule.Set("pathType", Napi::String::New(env, "Default"));
        rule.Set("source", str(env, v.str(v.host(m.host).default_source)));
      } else if (m.kind == atsi::MatchKind::kTableDefault) {
        rule.Set("pathType", Napi::String::New(env, "Default"));
        rule.Set("source", Napi::String::New(env, "--default-backend"));
      }
      if (m.rule != atsi::kNone || m.kind == atsi::MatchKind::kHostDefault || m.kind == atsi::MatchKind::kTableDefault)
        out.Set("rule", rule);
    }
    return out;
  }

  // A request that arrived on a Gateway listener's address and port.
  Napi::Value GatewayLookup(const Napi::CallbackInfo& info, const atsi::TableView& v, const std::string& host,
                            const std::string& target, uint8_t family, const uint8_t* address, uint16_t port) {
    Napi::Env env = info.Env();
    RequestHeaders headers;
    if (info.Length() > 3 && info[3].IsArray()) {
      Napi::Array flat = info[3].As<Napi::Array>();
      for (uint32_t i = 0; i + 1 < flat.Length(); i += 2) {
        Napi::Value name = flat.Get(i), value = flat.Get(i + 1);
        if (!name.IsString() || !value.IsString()) {
          throw_error(env, ErrorCode::kInvalidArg, "lookup: headers must be strings, name then value");
          return env.Undefined();
        }
        std::string lower = name.As<Napi::String>().Utf8Value();
        for (char& c : lower)
          if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
        headers.list.emplace_back(std::move(lower), value.As<Napi::String>().Utf8Value());
      }
    }
    std::string method = info.Length() > 2 && info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : "GET";
    size_t q = target.find('?');
    atsi::GatewayRequest req;
    req.family = family;
    req.address = address;
    req.port = port;
    req.host = host;
    req.path = std::string_view(target).substr(0, q);
    req.query = q == std::string::npos ? std::string_view() : std::string_view(target).substr(q + 1);
    req.method = method;
    req.header_equals = header_equals;
    req.header_ctx = &headers;
    // The plugin draws a random value per request to pick among a rule's
    // weighted backends; here it is fixed at 0 (the first backend with a
    // weight) so that the CLI answers the same every time.
    atsi::GatewayMatch m = atsi::gateway_lookup(v, req, 0);

    using atsi::GatewayOutcome;
    Napi::Object out = Napi::Object::New(env);
    uint32_t status = 404;
    switch (m.outcome) {
      case GatewayOutcome::kRouted: status = 200; break;
      case GatewayOutcome::kAmbiguousPath: status = 400; break;
      case GatewayOutcome::kFailure:
      case GatewayOutcome::kInvalidBackend: status = 500; break;
      case GatewayOutcome::kNoEndpoints: status = 503; break;
      case GatewayOutcome::kRedirect: {
        const atsi::GatewayFilterRecord* f = atsi::gateway_redirect_filter(v, m);
        status = f ? f->status_code : 500;
        break;
      }
      default: break;
    }
    out.Set("status", Napi::Number::New(env, status));
    out.Set("generation", Napi::BigInt::New(env, v.generation()));
    if (m.outcome == GatewayOutcome::kRedirect) {
      // What the plugin sends a client that came without TLS.
      std::string location = whole_text(
          [&](char* buf, size_t size) { return atsi::gateway_redirect_location(v, m, req, false, buf, size); });
      if (!location.empty()) out.Set("location", str(env, location));
    } else if (m.outcome != GatewayOutcome::kRouted) {
      std::string reason = whole_text([&](char* buf, size_t size) { return atsi::gateway_outcome_text(v, m, buf, size); });
      if (!reason.empty()) out.Set("reason", str(env, reason));
    }
    if (m.backend != atsi::kNone && (m.outcome == GatewayOutcome::kRouted || m.outcome == GatewayOutcome::kNoEndpoints))
      set_backend(env, out, v, m.backend);
    Napi::Object g = Napi::Object::New(env);
    if (m.listener != atsi::kNone) {
      const atsi::GatewayListenerRecord& l = v.gateway_listener(m.listener);
      g.Set("gateway", str(env, v.str(l.gateway)));
      g.Set("listener", str(env, v.str(l.listener)));
      // As the model numbers them: within the listener's entries.
      if (m.entry != atsi::kNone) g.Set("entry", Napi::Number::New(env, m.entry - l.first_entry));
    } else {
      // Listeners are there, none for this host: which Gateway owns the
      // address (its own, else one on every address of the port).
      uint32_t owner = atsi::kNone;
      for (uint32_t i = 0; i < v.gateway_listener_count(); ++i) {
        const atsi::GatewayListenerRecord& l = v.gateway_listener(i);
        if (l.port != port) continue;
        if (l.family == family && std::equal(address, address + 16, l.address)) {
          owner = i;
          break;
        }
        if (l.family == atsi::kAnyAddressFamily && owner == atsi::kNone) owner = i;
      }
      if (owner != atsi::kNone) g.Set("gateway", str(env, v.str(v.gateway_listener(owner).gateway)));
      g.Set("listener", Napi::String::New(env, ""));
    }
    if (m.rule != atsi::kNone) {
      const atsi::GatewayRuleRecord& r = v.gateway_rule(m.rule);
      g.Set("route", str(env, v.str(r.route)));
      g.Set("ruleIndex", Napi::Number::New(env, r.rule_index));
      Napi::Array filters = Napi::Array::New(env);
      uint32_t n = 0;
      atsi::for_each_gateway_filter(v, m, [&](const atsi::GatewayFilterRecord& f) {
        filters.Set(n++, filter_object(env, v, f));
      });
      g.Set("filters", filters);
    }
    out.Set("gateway", g);
    return out;
  }

  // The model's hosts, backends and default into `out`: whole for read(),
  // or for readOwners() only what says which pair a stats slot counts for
  // (StatsOwnersModel): the rules' backends and sources, the defaults, and
  // the backends' Services and slots. A source string is made once however
  // many rules name it.
  static void model_into(Napi::Env env, const atsi::TableView& v, bool whole, Napi::Object out) {
    std::unordered_map<uint32_t, Napi::Value> made;
    auto source = [&](atsi::StrRef r) {
      auto [it, fresh] = made.try_emplace(r.offset);
      if (fresh) it->second = str(env, v.str(r));
      return it->second;
    };
    if (v.header().default_backend != atsi::kNone)
      out.Set("defaultBackend", Napi::Number::New(env, v.header().default_backend));
    Napi::Array hosts = Napi::Array::New(env, v.host_count());
    for (uint32_t h = 0; h < v.host_count(); ++h) {
      const atsi::HostRecord& hr = v.host(h);
      Napi::Object ho = Napi::Object::New(env);
      if (whole) ho.Set("name", str(env, v.str(hr.name)));
      Napi::Array rules = Napi::Array::New(env, hr.rule_count);
      for (uint32_t i = 0; i < hr.rule_count; ++i) {
        const atsi::RuleRecord& r = v.rule(hr.first_rule + i);
        Napi::Object ro = Napi::Object::New(env);
        if (whole) {
          ro.Set("path", str(env, v.str(r.path)));
          ro.Set("pathType", Napi::String::New(env, atsi::path_type_name(r.path_type)));
        }
        ro.Set("backend", Napi::Number::New(env, r.backend));
        ro.Set("source", source(r.source));
        rules.Set(i, ro);
      }
      ho.Set("rules", rules);
      if (hr.default_backend != atsi::kNone) {
        ho.Set("defaultBackend", Napi::Number::New(env, hr.default_backend));
        ho.Set("defaultSource", source(hr.default_source));
      }
      hosts.Set(h, ho);
    }
    out.Set("hosts", hosts);
    Napi::Array backends = Napi::Array::New(env, v.backend_count());
    for (uint32_t b = 0; b < v.backend_count(); ++b) {
      const atsi::BackendRecord& br = v.backend(b);
      Napi::Object bo = Napi::Object::New(env);
      bo.Set("service", str(env, v.str(br.service)));
      if (whole) {
        bo.Set("port", str(env, v.str(br.port)));
        bo.Set("scheme", Napi::String::New(env, br.scheme == atsi::kSchemeHttps ? "https" : "http"));
        Napi::Array eps = Napi::Array::New(env, br.endpoint_count);
        for (uint32_t e = 0; e < br.endpoint_count; ++e) {
          const atsi::EndpointRecord& er = v.endpoint(br.first_endpoint + e);
          Napi::Object eo = Napi::Object::New(env);
          eo.Set("address", Napi::String::New(env, endpoint_text(er)));
          eo.Set("port", Napi::Number::New(env, er.port));
          eo.Set("weight", Napi::Number::New(env, er.weight));
          eps.Set(e, eo);
        }
        bo.Set("endpoints", eps);
        if (br.problem.length) bo.Set("problem", str(env, v.str(br.problem)));
        if (br.options_size) bo.Set("options", options_object(env, v.options(br)));
      } else if (br.options_size) {
        const atsi::BackendOptionsView o = v.options(br);
        if (o.has(atsi::kOptStatsSlot)) {
          Napi::Object oo = Napi::Object::New(env);
          oo.Set("statsSlot", Napi::Number::New(env, o.stats_slot));
          bo.Set("options", oo);
        }
      }
      backends.Set(b, bo);
    }
    out.Set("backends", backends);
  }

  // A backend's options under the names of BackendOptions (table-model.ts):
  // each one the table carries, as it was published (false and 'default'
  // included), so that read() gives back what publish() took.
  static Napi::Object options_object(Napi::Env env, const atsi::BackendOptionsView& o) {
    using atsi::OptionType;
    Napi::Object oo = Napi::Object::New(env);
    auto num = [&](OptionType t, const char* name, uint32_t value) {
      if (o.has(t)) oo.Set(name, Napi::Number::New(env, value));
    };
    auto flag = [&](OptionType t, const char* name, bool value) {
      if (o.has(t)) oo.Set(name, Napi::Boolean::New(env, value));
    };
    num(atsi::kOptConnectTimeoutMs, "connectTimeoutMs", o.connect_timeout_ms);
    num(atsi::kOptResponseTimeoutMs, "responseTimeoutMs", o.response_timeout_ms);
    flag(atsi::kOptRedirectToHttps, "redirectToHttps", o.redirect_to_https);
    if (o.has(atsi::kOptCachePolicy))
      oo.Set("cachePolicy", Napi::String::New(env, o.cache_policy == 1 ? "bypass" : "default"));
    if (o.has(atsi::kOptUpstreamHost)) oo.Set("upstreamHost", str(env, o.upstream_host));
    num(atsi::kOptCacheDefaultTtlS, "cacheDefaultTtlS", o.cache_default_ttl_s);
    num(atsi::kOptCacheMaxTtlS, "cacheMaxTtlS", o.cache_max_ttl_s);
    flag(atsi::kOptCacheIgnoreQuery, "cacheIgnoreQuery", o.cache_ignore_query);
    num(atsi::kOptCacheServeStaleS, "cacheServeStaleS", o.cache_serve_stale_s);
    num(atsi::kOptCacheGeneration, "cacheGeneration", o.cache_generation);
    num(atsi::kOptStatsSlot, "statsSlot", o.stats_slot);
    return oo;
  }

  Napi::Value Read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!check_open(env)) return env.Undefined();
    auto t = live(env);
    if (!t) return env.Undefined();
    const atsi::TableView& v = t->view();
    Napi::Object out = Napi::Object::New(env);
    out.Set("generation", Napi::BigInt::New(env, v.generation()));
    out.Set("buildTimeMs", Napi::Number::New(env, double(v.header().build_time_ms)));
    out.Set("sizeBytes", Napi::Number::New(env, double(t->size())));
    model_into(env, v, /*whole=*/true, out);
    if (v.gateway_listener_count() || v.gateway_rule_count()) out.Set("gateway", gateway_object(env, v));
    return out;
  }

  // What TrafficStats.adopt() needs of the live table (model_into, not
  // whole). Not read(): that makes every endpoint, path and option an object
  // (at 10,000 Ingresses a second model in memory on every start) and keeps
  // the table mapped; this lets go of the mapping before it returns.
  Napi::Value ReadOwners(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!check_open(env)) return env.Undefined();
    std::unique_ptr<atsi::TableSource> once;
    auto t = live_from(env, once);
    if (!t) return env.Undefined();
    const atsi::TableView& v = t->view();
    Napi::Object out = Napi::Object::New(env);
    model_into(env, v, /*whole=*/false, out);
    return out;
  }

  // Removes the route table's objects, the TLS table's and the plugin's
  // counters.
  Napi::Value Remove(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!check_open(env)) return env.Undefined();
    if (!ensure_publisher(env, name_, publisher_) || !ensure_publisher(env, name_, tls_publisher_))
      return env.Undefined();
    Error e = publisher_->remove_all();
    Error tls = tls_publisher_->remove_all();
    Error stats = atsi::remove_stats(name_);
    if (e || tls || stats) throw_error(env, e ? e : tls ? tls : stats);
    return env.Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    closed_ = true;
    publisher_.reset();
    writer_ = {};
    source_.reset();
    tls_publisher_.reset();
    tls_source_.reset();
    stats_reader_.reset();
    return info.Env().Undefined();
  }

  Napi::Value Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), closed_); }

  std::string name_;
  bool closed_ = false;
  std::unique_ptr<atsi::Publisher> publisher_;
  // Keeps the last table's routing sections for the next publish.
  atsi::EncodedTableWriter writer_;
  std::unique_ptr<atsi::TableSource> source_;
  std::unique_ptr<atsi::TlsPublisher> tls_publisher_;
  std::unique_ptr<atsi::TlsSource> tls_source_;
  std::unique_ptr<atsi::StatsReader> stats_reader_;
};

Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) {
    Napi::TypeError::New(env, "setErrorClass(ctor) takes a constructor").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  env.GetInstanceData<AddonData>()->error_class = Napi::Persistent(info[0].As<Napi::Function>());
  return env.Undefined();
}

// Hands back to the system what the C library keeps of freed memory. A
// publish of a big table frees megabytes at once (the table's buffer, the
// decoded model), and glibc keeps freed memory in its arenas: at 10,000
// Ingresses that was some 25 MiB of the controller's RSS. True when memory
// was released; false, doing nothing, on another C library.
Napi::Value TrimMemory(const Napi::CallbackInfo& info) {
#if defined(__GLIBC__)
  return Napi::Boolean::New(info.Env(), ::malloc_trim(0) != 0);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData(data);  // freed by Node when this environment goes
  exports.Set("Table", Table::Define(env));
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass));
  exports.Set("errorCodes", error_codes(env));
  exports.Set("statsCounterNames", atsi::addon::stats_counter_names(env));
  exports.Set("trimMemory", Napi::Function::New(env, TrimMemory));
  return exports;
}

}  // namespace

NODE_API_MODULE(ats_ingress, Init)
