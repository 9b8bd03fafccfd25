// The writing side of the publish protocol (shm_names.h): builds each blob
// into a new shared-memory object and publishes it with one release store of
// its generation in the control block. One implementation for both kinds of
// blob (blob_kinds.h): route tables (Publisher) and TLS tables
// (TlsPublisher), each under its own control object and lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "blob_kinds.h"
#include "errors.h"
#include "shm_names.h"

namespace atsi {

struct ControlBlock;

struct PublishResult {
  uint64_t generation = 0;
  size_t bytes = 0;
};

// Writes the blobs of one kind under one table name. One per process, kind
// and name; publishes are serialised across processes by an exclusive lock
// on the kind's control object.
class BlobPublisher {
 public:
  ~BlobPublisher();
  BlobPublisher(const BlobPublisher&) = delete;
  BlobPublisher& operator=(const BlobPublisher&) = delete;

  // Publishes ready-made bytes (their generation is rewritten and the
  // checksum resealed). For tests of the reader's defences and for tools.
  Error publish_bytes(std::vector<uint8_t> bytes, PublishResult& result);
  // Removes the control object and every blob object of this kind and name
  // (never the other kind's).
  Error remove_all();
  const BlobKind& kind() const { return kind_; }
  // Makes the bytes of the next generation, under the lock.
  using Build = std::function<Error(uint64_t generation, std::vector<uint8_t>& out)>;

 protected:
  explicit BlobPublisher(const BlobKind& kind) : kind_(kind) {}
  // Opens (creating if need be) the control object of `table`.
  Error init(std::string_view table);
  // Under the lock: `build` makes the bytes of the next generation, which are
  // then written and published.
  Error publish_built(const Build& build, PublishResult& result);

 private:
  Error write_object(uint64_t generation, const std::vector<uint8_t>& bytes);
  void remove_older_than(uint64_t generation);

  const BlobKind& kind_;
  std::string table_;
  int control_fd_ = -1;
  ControlBlock* control_ = nullptr;
  bool swept_ = false;
  std::vector<uint8_t> buffer_;  // reused by publish_built()
};

// The publisher of one kind of blob, built from its Kind::Input.
template <class Kind>
class KindPublisher : public BlobPublisher {
 public:
  static Error open(std::string_view table, std::unique_ptr<KindPublisher>& out) {
    std::unique_ptr<KindPublisher> p(new KindPublisher());
    if (Error e = p->init(table)) return e;
    out = std::move(p);
    return {};
  }

  // Builds `input` into the next generation and publishes it; kInvalidModel
  // (naming the field) when it cannot make a blob, and nothing is published.
  Error publish(const typename Kind::Input& input, uint64_t build_time_ms, PublishResult& result) {
    return publish_built(
        [&](uint64_t generation, std::vector<uint8_t>& out) { return Kind::build(input, generation, build_time_ms, out); },
        result);
  }

  // Publishes what `build` makes (a writer that keeps what it made for the
  // next generation, such as EncodedTableWriter).
  Error publish_with(const Build& build, PublishResult& result) { return publish_built(build, result); }

 private:
  KindPublisher() : BlobPublisher(Kind::kBlob) {}
};

using Publisher = KindPublisher<RouteKind>;
using TlsPublisher = KindPublisher<TlsKind>;

// Milliseconds since the Unix epoch: the writer's clock for build and
// publish times.
uint64_t now_ms();

}  // namespace atsi
