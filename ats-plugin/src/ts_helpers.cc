#include "ts_helpers.h"

#include <arpa/inet.h>
#include <ts/parentselectdefs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace atsi::plugin {

std::string_view host_of(TSMBuffer buf, TSMLoc hdr, TSMLoc url) {
  int len = 0;
  const char* v = nullptr;
  TSMLoc field = TSMimeHdrFieldFind(buf, hdr, TS_MIME_FIELD_HOST, TS_MIME_LEN_HOST);
  if (field != TS_NULL_MLOC) {
    v = TSMimeHdrFieldValueStringGet(buf, hdr, field, -1, &len);
    TSHandleMLocRelease(buf, hdr, field);
  }
  if (!v || len == 0) v = TSUrlHostGet(buf, url, &len);
  return v && len > 0 ? std::string_view(v, size_t(len)) : std::string_view();
}

std::string_view path_of(TSMBuffer buf, TSMLoc url, char (&scratch)[kPathBufferSize]) {
  int plen = 0, qlen = 0;
  const char* p = TSUrlPathGet(buf, url, &plen);
  std::string_view path = p && plen > 0 ? std::string_view(p, size_t(plen)) : std::string_view();
  const char* q = TSUrlHttpParamsGet(buf, url, &qlen);
  if (!q || qlen <= 0) return path;
  std::string_view params(q, size_t(qlen));
  size_t n = 0;
  auto put = [&](std::string_view s) {
    size_t k = std::min(s.size(), sizeof scratch - n);
    std::memcpy(scratch + n, s.data(), k);
    n += k;
  };
  put(path);
  put(";");
  put(params);
  return std::string_view(scratch, n);
}

void set_host_header(TSMBuffer buf, TSMLoc hdr, std::string_view value) {
  TSMLoc field = TSMimeHdrFieldFind(buf, hdr, TS_MIME_FIELD_HOST, TS_MIME_LEN_HOST);
  if (field == TS_NULL_MLOC) {
    if (TSMimeHdrFieldCreateNamed(buf, hdr, TS_MIME_FIELD_HOST, TS_MIME_LEN_HOST, &field) != TS_SUCCESS) return;
    TSMimeHdrFieldAppend(buf, hdr, field);
  }
  TSMimeHdrFieldValueStringSet(buf, hdr, field, -1, value.data(), int(value.size()));
  TSHandleMLocRelease(buf, hdr, field);
}

bool has_field(TSMBuffer buf, TSMLoc hdr, const char* name, int len) {
  TSMLoc field = TSMimeHdrFieldFind(buf, hdr, name, len);
  if (field == TS_NULL_MLOC) return false;
  TSHandleMLocRelease(buf, hdr, field);
  return true;
}

void read_cache_control(TSMBuffer buf, TSMLoc hdr, CacheControl& cc) {
  TSMLoc field = TSMimeHdrFieldFind(buf, hdr, TS_MIME_FIELD_CACHE_CONTROL, TS_MIME_LEN_CACHE_CONTROL);
  while (field != TS_NULL_MLOC) {
    int len = 0;
    // The whole field value (index -1): the parser splits it itself, quotes included.
    const char* v = TSMimeHdrFieldValueStringGet(buf, hdr, field, -1, &len);
    if (v && len > 0) parse_cache_control(std::string_view(v, size_t(len)), cc);
    TSMLoc next = TSMimeHdrFieldNextDup(buf, hdr, field);
    TSHandleMLocRelease(buf, hdr, field);
    field = next;
  }
}

void add_header(TSMBuffer buf, TSMLoc hdr, std::string_view name, std::string_view value) {
  TSMLoc field;
  if (TSMimeHdrFieldCreateNamed(buf, hdr, name.data(), int(name.size()), &field) != TS_SUCCESS) return;
  TSMimeHdrFieldValueStringSet(buf, hdr, field, -1, value.data(), int(value.size()));
  TSMimeHdrFieldAppend(buf, hdr, field);
  TSHandleMLocRelease(buf, hdr, field);
}

void set_server_address(TSHttpTxn txn, const EndpointRecord& e) {
  sockaddr_storage ss{};
  if (e.family == 4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(e.port);
    std::memcpy(&sin->sin_addr, e.address, 4);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(e.port);
    std::memcpy(&sin6->sin6_addr, e.address, 16);
  }
  TSHttpTxnServerAddrSet(txn, reinterpret_cast<const sockaddr*>(&ss));
}

void set_error_body(TSHttpTxn txn, int status, const char* body, size_t len) {
  TSHttpTxnStatusSet(txn, TSHttpStatus(status));
  TSHttpTxnErrorBodySet(txn, TSstrndup(body, int64_t(len)), len, TSstrdup("text/plain; charset=utf-8"));
}

}  // namespace atsi::plugin

namespace atsi::plugin {

namespace {
// The next hop's name: ATS never resolves it (the server address is set),
// shows it in its debug output, and keeps the pointer for the transaction.
constexpr char kHopName[] = "ats-ingress-pod";
}  // namespace

void set_next_hop(TSHttpTxn txn, const EndpointRecord& e) {
  TSResponseAction ra{};
  ra.hostname = kHopName;
  ra.hostname_len = sizeof kHopName - 1;
  ra.port = e.port;
  ra.nextHopExists = true;
  ra.responseIsRetryable = false;  // retries on a failed connection only, never on the pod's own answer
  ra.goDirect = false;
  ra.parentIsProxy = false;  // requests in origin form, as to the pod itself
  TSHttpTxnResponseActionSet(txn, &ra);
}

}  // namespace atsi::plugin
