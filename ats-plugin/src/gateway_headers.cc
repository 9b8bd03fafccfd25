#include "gateway_headers.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <string>

namespace atsi::plugin {

bool local_address(TSHttpTxn txn, uint8_t (&bytes)[16], GatewayRequest& req) {
  const sockaddr* sa = TSHttpTxnIncomingAddrGet(txn);
  if (!sa) return false;
  std::memset(bytes, 0, sizeof bytes);
  if (sa->sa_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(sa);
    std::memcpy(bytes, &sin->sin_addr, 4);
    req.family = 4;
    req.port = ntohs(sin->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(sa);
    // An IPv4 client on a dual-stack socket arrives as ::ffff:a.b.c.d.
    if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
      std::memcpy(bytes, reinterpret_cast<const uint8_t*>(&sin6->sin6_addr) + 12, 4);
      req.family = 4;
    } else {
      std::memcpy(bytes, &sin6->sin6_addr, 16);
      req.family = 6;
    }
    req.port = ntohs(sin6->sin6_port);
  } else {
    return false;
  }
  req.address = bytes;
  return true;
}

bool header_equals(const void* source, std::string_view lower_name, std::string_view value) {
  const auto* s = static_cast<const HeaderSource*>(source);
  TSMLoc field = TSMimeHdrFieldFind(s->buf, s->hdr, lower_name.data(), int(lower_name.size()));
  if (field == TS_NULL_MLOC) return false;
  size_t at = 0;  // how much of `value` the fields so far have matched
  bool first = true, equal = true;
  while (field != TS_NULL_MLOC) {
    int len = 0;
    const char* v = TSMimeHdrFieldValueStringGet(s->buf, s->hdr, field, -1, &len);
    std::string_view piece = v && len > 0 ? std::string_view(v, size_t(len)) : std::string_view();
    if (equal) {
      if (!first) {
        if (at >= value.size() || value[at] != ',') equal = false;
        ++at;
      }
      if (equal && (value.size() - std::min(at, value.size()) < piece.size() || value.compare(at, piece.size(), piece) != 0))
        equal = false;
      at += piece.size();
    }
    first = false;
    TSMLoc next = TSMimeHdrFieldNextDup(s->buf, s->hdr, field);
    TSHandleMLocRelease(s->buf, s->hdr, field);
    field = next;
  }
  return equal && at == value.size();
}

namespace {

void remove_field(TSMBuffer buf, TSMLoc hdr, std::string_view name) {
  TSMLoc field = TSMimeHdrFieldFind(buf, hdr, name.data(), int(name.size()));
  while (field != TS_NULL_MLOC) {
    TSMLoc next = TSMimeHdrFieldNextDup(buf, hdr, field);
    TSMimeHdrFieldDestroy(buf, hdr, field);
    TSHandleMLocRelease(buf, hdr, field);
    field = next;
  }
}

void append_field(TSMBuffer buf, TSMLoc hdr, std::string_view name, std::string_view value) {
  TSMLoc field;
  if (TSMimeHdrFieldCreateNamed(buf, hdr, name.data(), int(name.size()), &field) != TS_SUCCESS) return;
  TSMimeHdrFieldValueStringSet(buf, hdr, field, -1, value.data(), int(value.size()));
  TSMimeHdrFieldAppend(buf, hdr, field);
  TSHandleMLocRelease(buf, hdr, field);
}

void set_field(TSMBuffer buf, TSMLoc hdr, std::string_view name, std::string_view value) {
  remove_field(buf, hdr, name);
  append_field(buf, hdr, name, value);
}

// "a" becomes "a,b": one field carrying both, as the backend is to receive
// it; the field's other lines (if it came as several) are joined into it.
void add_to_field(TSMBuffer buf, TSMLoc hdr, std::string_view name, std::string_view value) {
  TSMLoc field = TSMimeHdrFieldFind(buf, hdr, name.data(), int(name.size()));
  if (field == TS_NULL_MLOC) {
    append_field(buf, hdr, name, value);
    return;
  }
  // Rare (filters that add to a header the request carries): the joined
  // value is built in a string.
  std::string joined;
  while (field != TS_NULL_MLOC) {
    int len = 0;
    const char* v = TSMimeHdrFieldValueStringGet(buf, hdr, field, -1, &len);
    if (!joined.empty()) joined += ',';
    if (v && len > 0) joined.append(v, size_t(len));
    TSMLoc next = TSMimeHdrFieldNextDup(buf, hdr, field);
    TSHandleMLocRelease(buf, hdr, field);
    field = next;
  }
  joined += ',';
  joined.append(value);
  set_field(buf, hdr, name, joined);
}

}  // namespace

void apply_header_edit(TSMBuffer buf, TSMLoc hdr, uint8_t op, std::string_view name, std::string_view value) {
  switch (op) {
    case kHeaderSet:
      set_field(buf, hdr, name, value);
      break;
    case kHeaderAdd:
      add_to_field(buf, hdr, name, value);
      break;
    default:
      remove_field(buf, hdr, name);
      break;
  }
}

void apply_header_edits(const TableView& t, const GatewayFilterRecord& f, TSMBuffer buf, TSMLoc hdr) {
  for (uint32_t i = 0; i < f.set_count; ++i) {
    const GatewayPairRecord& p = t.gateway_pair(f.first_set + i);
    set_field(buf, hdr, t.str(p.name), t.str(p.value));
  }
  for (uint32_t i = 0; i < f.add_count; ++i) {
    const GatewayPairRecord& p = t.gateway_pair(f.first_add + i);
    add_to_field(buf, hdr, t.str(p.name), t.str(p.value));
  }
  for (uint32_t i = 0; i < f.remove_count; ++i) remove_field(buf, hdr, t.str(t.gateway_pair(f.first_remove + i).name));
}

}  // namespace atsi::plugin
