// Who may do what, decided from the request alone, before any routing or
// cache work. No ts.h: tested without ATS.
//
// PURGE and PUSH change ATS's cache. ip_allow.yaml allows them from loopback
// only, but ATS applies its method filter while remapping, and the global
// mode skips remap (TSSkipRemappingSet): without this check a PURGE from
// any client was routed and purged (PUSH was refused elsewhere by ATS). The
// plugin refuses both itself, in both modes, with 403.
#pragma once

#include <sys/socket.h>

#include <string_view>

namespace atsi::plugin {

// PURGE or PUSH, in any case (ATS's method tokens ignore case). One length
// compare for every other method: GET, HEAD, POST and PUT have other
// lengths than 5 and 4, and only DELETE, TRACE, PATCH (5) and MOVE, LOCK,
// COPY (4) get as far as a character compare.
bool is_cache_admin_method(std::string_view method);

// 127.0.0.0/8, ::1, and IPv4-mapped 127.0.0.0/8 (::ffff:127.0.0.0/104);
// false for null and for any other family.
bool is_loopback(const sockaddr* addr);

// The body of the 403: what was refused and where to do it instead.
inline constexpr std::string_view kCacheAdminRefused =
    "403 PURGE and PUSH are accepted from inside the pod only (loopback); run: ats-ingress purge URL\n";

}  // namespace atsi::plugin
