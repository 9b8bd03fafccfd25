#include "client_policy.h"

#include <netinet/in.h>

#include <cstring>

namespace atsi::plugin {
namespace {

// `a` equals the upper-case `upper`, ignoring ASCII case.
bool equals_upper(std::string_view a, std::string_view upper) {
  for (size_t i = 0; i < a.size(); ++i)
    if ((a[i] & ~0x20) != upper[i]) return false;
  return true;
}

}  // namespace

bool is_cache_admin_method(std::string_view m) {
  if (m.size() == 5) return equals_upper(m, "PURGE");
  if (m.size() == 4) return equals_upper(m, "PUSH");
  return false;
}

bool is_loopback(const sockaddr* addr) {
  if (!addr) return false;
  if (addr->sa_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(addr);
    const auto* b = reinterpret_cast<const unsigned char*>(&sin->sin_addr);
    return b[0] == 127;
  }
  if (addr->sa_family == AF_INET6) {
    const auto* b = reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr.s6_addr;
    static constexpr unsigned char kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(b, kLoopback, 16) == 0) return true;
    return std::memcmp(b, kMapped, 12) == 0 && b[12] == 127;
  }
  return false;
}

}  // namespace atsi::plugin
