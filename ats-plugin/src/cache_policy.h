// A route's cache policy for one transaction: what the backend's cache
// options of the route table (table_view.h) mean as values of ATS's
// overridable records, and what to do when the pod's response headers
// arrive. Pure (no ts.h, no allocation): router.cc applies the values with
// TSHttpTxnConfigIntSet and TSHttpTxnServerRespNoStoreSet; tests check them
// without ATS. Each choice below was checked against traffic_server 9.2
// (test/plugin/cache.test.ts).
//
// The options:
//   cacheDefaultTtlS D  a cacheable response with no freshness of its own
//                       (no max-age, s-maxage or Expires) is fresh for D s.
//                       ATS calls that heuristic freshness: required_headers
//                       0 lets it store such a response, and heuristic
//                       min = max = D fixes its lifetime whatever its
//                       Last-Modified says (the lm_factor result is clamped
//                       into [min, max]). A response with freshness of its
//                       own keeps it: heuristics apply only without it.
//   cacheMaxTtlS M      no response is fresh longer than M s:
//                       guaranteed_max_lifetime bounds max-age, s-maxage,
//                       Expires and heuristics alike. With D > M, D is cut
//                       to M (ATS applies its lower bound last, so a
//                       heuristic minimum above the maximum would win).
//   cacheServeStaleS S  while the pod cannot be reached or answers 5xx, a
//                       stale copy up to S s old (its age since the pod's
//                       answer, as in the Age header, not the time since it
//                       went stale) is served instead of the error, with
//                       `Warning: 111` when the pod was unreachable:
//                       max_stale_age S bounds both cases, and negative
//                       revalidating turns on the 5xx one. ATS marks a copy
//                       served for a 5xx fresh again with Expires now +
//                       negative_revalidating_lifetime (1800 s by default;
//                       max-age, when the copy has it, still wins): 1 s
//                       here, so the pod is asked again a second or two
//                       later (seen: 1.6 s),
//                       and the age bound still holds (the copy's Date is
//                       kept). Without S, whatever the records say: ATS's
//                       own defaults (max_stale_age 604800,
//                       negative_revalidating_enabled 1) serve stale copies
//                       up to a week old for every route: production's
//                       records should set max_stale_age 0 (the tests do
//                       until they do).
//   cacheGeneration G   the cache generation: ATS mixes it into the key, so
//                       changing G makes every object of the route a miss.
//   cacheIgnoreQuery    the cache key leaves out the query (decision.h).
#pragma once

#include <cstdint>

#include "cache_control.h"
#include "table_view.h"

namespace atsi::plugin {

// A record left as ATS has it.
inline constexpr int64_t kLeave = -1;

struct CacheOverrides {
  int64_t required_headers = kLeave;
  int64_t heuristic_min_lifetime = kLeave;
  int64_t heuristic_max_lifetime = kLeave;
  int64_t guaranteed_max_lifetime = kLeave;
  int64_t max_stale_age = kLeave;
  int64_t negative_revalidating_enabled = kLeave;
  int64_t negative_revalidating_lifetime = kLeave;
  int64_t generation = kLeave;
};

// Seconds a stale copy served for a 5xx answer counts as fresh again
// before the pod is asked once more (see cacheServeStaleS above).
inline constexpr int64_t kNegativeRevalidatingLifetimeS = 1;

// The overrides of a backend whose cache is not bypassed.
CacheOverrides cache_overrides(const BackendOptionsView& o);

// At the pod's response headers (READ_RESPONSE_HDR), for a transaction
// whose cache is on: whether ATS must not store the response.
//   - A response that sets a cookie: a shared cache would hand one client's
//     cookie to the next (ATS stores it with our records).
//   - A response to a request with Authorization (`authorized`: the request
//     has one and ignore_authentication is 0) unless it says public or
//     s-maxage (RFC 9111 §3.5) and neither private nor no-store. ATS 9.2
//     itself stores such a response whatever it says (short of private or
//     no-store) and then answers later requests WITHOUT Authorization with
//     it: one user's page to the next user. must-revalidate, which §3.5 also
//     allows, is left out on purpose: origins send it on personal pages
//     meaning "always check", and storing those is the worse mistake.
bool refuse_to_store(bool sets_cookie, bool authorized, const CacheControl& cc);

// At a stored response found for a request with Authorization
// (READ_CACHE_HDR): whether it may answer it. ATS alone returns only a
// stored response that says public to such a request, so one stored
// because of s-maxage would never be used; the plugin then sets
// TS_CONFIG_HTTP_CACHE_IGNORE_AUTHENTICATION 1 for the lookup of this
// transaction.
bool reusable_for_authorized(const CacheControl& stored);

}  // namespace atsi::plugin
