#include "cache_policy.h"

#include <algorithm>

namespace atsi::plugin {

CacheOverrides cache_overrides(const BackendOptionsView& o) {
  CacheOverrides c;
  // Values past what the writer accepts come only from a forged table:
  // taken at the writer's bound, never as negative numbers for ATS.
  const int64_t max_ttl = std::min(o.cache_max_ttl_s, kMaxCacheSeconds);
  if (max_ttl > 0) c.guaranteed_max_lifetime = max_ttl;
  int64_t ttl = std::min(o.cache_default_ttl_s, kMaxCacheSeconds);
  if (ttl > 0) {
    if (max_ttl > 0) ttl = std::min(ttl, max_ttl);
    c.required_headers = 0;
    c.heuristic_min_lifetime = ttl;
    c.heuristic_max_lifetime = ttl;
  }
  const int64_t stale = std::min(o.cache_serve_stale_s, kMaxCacheSeconds);
  if (stale > 0) {
    c.max_stale_age = stale;
    c.negative_revalidating_enabled = 1;
    c.negative_revalidating_lifetime = kNegativeRevalidatingLifetimeS;
  }
  if (o.cache_generation != kNone) c.generation = std::min(o.cache_generation, kMaxCacheGeneration);
  return c;
}

bool refuse_to_store(bool sets_cookie, bool authorized, const CacheControl& cc) {
  if (sets_cookie) return true;
  return authorized && !((cc.is_public && !cc.is_private && !cc.no_store) || reusable_for_authorized(cc));
}

bool reusable_for_authorized(const CacheControl& cc) { return cc.has_s_maxage && !cc.is_private && !cc.no_store; }

}  // namespace atsi::plugin
