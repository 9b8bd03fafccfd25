#include "encoded_writer.h"

#include <cstring>
#include <utility>

#include "model_decoder.h"

namespace atsi {

Error EncodedTableWriter::build(std::string_view strings, const uint32_t* ints, size_t count, uint64_t generation,
                                uint64_t build_time_ms, std::vector<uint8_t>& out, Outcome& outcome) {
  outcome = {};
  const Kept* kept = kept_.get();
  // The same part, compared whole: equal bytes decode to equal hosts and
  // Gateway part (model_decoder.h), so their sections are the same too.
  RoutingPart seen{};
  bool skipped = false;
  RoutingSkip skip = [&](const RoutingPart& part) {
    seen = part;
    skipped = kept && kept->first_string == part.first_string && kept->strings == part.strings &&
              kept->ints.size() == part.count &&
              (part.count == 0 || std::memcmp(kept->ints.data(), part.ints, part.count * sizeof(uint32_t)) == 0);
    return skipped;
  };
  TableInput& in = scratch_;
  if (Error e = decode_model_into(strings, ints, count, in, &skip)) {
    outcome.decode_failed = true;
    return e;
  }
  if (skipped) {
    Error e = build_table_from(kept->sections, in, generation, build_time_ms, out);
    // Backends that no longer hold an index the routing names: the whole
    // model again, for the error that names the element.
    if (!e) {
      outcome.routing_reused = true;
      return {};
    }
    if (Error d = decode_model_into(strings, ints, count, in, nullptr)) {
      outcome.decode_failed = true;
      return d;
    }
  }
  const size_t nb = in.backends.size();
  // build_table()'s order of checks, for the same first error.
  if (in.default_backend != kNone && in.default_backend >= nb) return build_table(in, generation, build_time_ms, out);
  auto fresh = std::make_unique<Kept>();
  if (Error e = build_routing(in, nb, fresh->sections)) return e;
  if (Error e = build_table_from(fresh->sections, in, generation, build_time_ms, out)) return e;
  fresh->first_string = seen.first_string;
  fresh->strings.assign(seen.strings);
  fresh->ints.assign(seen.ints, seen.ints + seen.count);
  kept_ = std::move(fresh);
  return {};
}

}  // namespace atsi
