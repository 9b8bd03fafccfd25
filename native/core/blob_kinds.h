// The two kinds of blob published by the protocol of shm_names.h, as traits
// for the generic publisher (publisher.h) and reader (table_source.h): what a
// blob is built from, how it is built, how it is read, how its objects are
// named.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "errors.h"
#include "shm_names.h"
#include "table_input.h"
#include "table_view.h"
#include "table_writer.h"
#include "tls_input.h"
#include "tls_view.h"
#include "tls_writer.h"

namespace atsi {

struct RouteKind {
  using Input = TableInput;
  using View = TableView;
  static constexpr const BlobKind& kBlob = kRouteBlob;
  static constexpr size_t kHeaderSize = sizeof(Header);
  static constexpr const char (&kMagic)[8] = kTableMagic;
  static Error build(const Input& in, uint64_t generation, uint64_t build_time_ms, std::vector<uint8_t>& out) {
    return build_table(in, generation, build_time_ms, out);
  }
};

struct TlsKind {
  using Input = TlsInput;
  using View = TlsView;
  static constexpr const BlobKind& kBlob = kTlsBlob;
  static constexpr size_t kHeaderSize = sizeof(TlsHeader);
  static constexpr const char (&kMagic)[8] = kTlsMagic;
  static Error build(const Input& in, uint64_t generation, uint64_t build_time_ms, std::vector<uint8_t>& out) {
    return build_tls_table(in, generation, build_time_ms, out);
  }
};

}  // namespace atsi
