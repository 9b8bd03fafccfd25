// The addon's reader of the plugin's request counters (native/core/
// stats_region.h): Table.readStats() and the `statsCounterNames` export.
// addon.cc registers both and throws what this returns as an error; the
// reader itself lives in the Table (one per table, remapping when ATS makes a
// new object).
#ifndef NAPI_DISABLE_CPP_EXCEPTIONS
#define NAPI_DISABLE_CPP_EXCEPTIONS
#endif
#include <napi.h>

#include <cstring>
#include <vector>

#include "errors.h"
#include "stats_format.h"
#include "stats_region.h"

namespace atsi::addon {

// The counters of one slot, in the order readStats() gives them:
// ['1xx', '2xx', '3xx', '4xx', '5xx', 'hit_fresh', 'hit_stale', 'miss', 'not_cacheable'].
Napi::Array stats_counter_names(Napi::Env env) {
  Napi::Array a = Napi::Array::New(env, kStatsCounterCount);
  for (uint32_t i = 0; i < kStatsCounterCount; ++i) a.Set(i, Napi::String::New(env, kStatsCounterNames[i]));
  return a;
}

// readStats(): undefined when no plugin has created the counters of the
// table (yet), else
//   { instance: bigint, createdMs: number, slots: number, maxSlots: number,
//     threads: number, dropped: bigint, counters: BigUint64Array }
// with counters slot-major, slots × statsCounterNames.length. Any other
// failure is left in `error` (and undefined returned) for the caller to throw.
Napi::Value read_stats(Napi::Env env, StatsReader& reader, Error& error) {
  std::vector<uint64_t> counters;
  StatsSnapshot s;
  Error e = reader.read(counters, s);
  if (e.code == ErrorCode::kStatsNotFound) return env.Undefined();
  if (e) {
    error = std::move(e);
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("instance", Napi::BigInt::New(env, s.instance));
  out.Set("createdMs", Napi::Number::New(env, double(s.created_ms)));
  out.Set("slots", Napi::Number::New(env, s.slots));
  out.Set("maxSlots", Napi::Number::New(env, s.max_slots));
  // Blocks read: threads that counted, those past max_threads counting as one.
  out.Set("threads", Napi::Number::New(env, s.blocks));
  out.Set("dropped", Napi::BigInt::New(env, s.dropped));
  Napi::BigUint64Array a = Napi::BigUint64Array::New(env, counters.size());
  if (env.IsExceptionPending()) return env.Undefined();
  if (!counters.empty()) std::memcpy(a.Data(), counters.data(), counters.size() * sizeof(uint64_t));
  out.Set("counters", a);
  return out;
}

}  // namespace atsi::addon
