#include "balancer.h"

namespace atsi {

void Balancer::reset(const TableView& t, uint32_t seed) {
  next_.assign(t.backend_count(), 0);
  current_.assign(t.endpoint_count(), 0);
  if (seed == 0) return;
  for (uint32_t b = 0; b < t.backend_count(); ++b) {
    const BackendRecord& r = t.backend(b);
    if (r.endpoint_count) next_[b] = (seed * 2654435761u + b) % r.endpoint_count;
  }
}

uint32_t Balancer::pick(const TableView& t, uint32_t backend) {
  const BackendRecord& b = t.backend(backend);
  if (b.endpoint_count == 0) return kNone;
  if (b.flags & kBackendUniformWeights) {
    uint32_t i = next_[backend];
    next_[backend] = i + 1 == b.endpoint_count ? 0 : i + 1;
    return b.first_endpoint + i;
  }
  // Smooth WRR (as in nginx): everyone gains its weight, the richest is
  // chosen and pays the total. Ties go to the first, so the order is stable.
  int64_t* cur = current_.data() + b.first_endpoint;
  uint32_t best = 0;
  for (uint32_t i = 0; i < b.endpoint_count; ++i) {
    cur[i] += t.endpoint(b.first_endpoint + i).weight;
    if (cur[i] > cur[best]) best = i;
  }
  cur[best] -= b.total_weight;
  return b.first_endpoint + best;
}

}  // namespace atsi
