// The writing side of the publish protocol (shm_names.h): builds each table
// into a new shared-memory object and publishes it with one release store of
// its generation in the control block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "errors.h"
#include "table_input.h"

namespace atsi {

struct ControlBlock;

struct PublishResult {
  uint64_t generation = 0;
  size_t bytes = 0;
};

// Writes tables. One per process and table name; publishes are serialised
// across processes by an exclusive lock on the control object.
class Publisher {
 public:
  static Error open(std::string_view table, std::unique_ptr<Publisher>& out);
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  Error publish(const TableInput& input, uint64_t build_time_ms, PublishResult& result);
  // Publishes ready-made table bytes (their generation is rewritten). For
  // tests of the reader's defences and for tools.
  Error publish_bytes(std::vector<uint8_t> bytes, PublishResult& result);
  // Removes the control object and every table object of this name.
  Error remove_all();

 private:
  Publisher() = default;
  Error write_object(uint64_t generation, const std::vector<uint8_t>& bytes);
  void remove_older_than(uint64_t generation);

  std::string table_;
  int control_fd_ = -1;
  ControlBlock* control_ = nullptr;
  bool swept_ = false;
};

// Milliseconds since the Unix epoch: the writer's clock for build and
// publish times.
uint64_t now_ms();

}  // namespace atsi
