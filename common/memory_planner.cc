#include "common/memory_planner.h"

#include <algorithm>
#include <numeric>

namespace nas {
namespace {

int64_t AlignUp(int64_t value) {
  return (value + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

bool LifetimesIntersect(const BufferRequest& a, const BufferRequest& b) {
  return a.first_use <= b.last_use && b.first_use <= a.last_use;
}

// Lowest aligned offset for `buffer` that overlaps none of `placed` (indices
// into `buffers` with offsets already chosen) alive at the same time. The
// candidates are 0 and the aligned end of every conflicting buffer: the
// lowest free offset is always one of them.
int64_t LowestFreeOffset(const std::vector<BufferRequest>& buffers,
                         const std::vector<int64_t>& offsets,
                         const std::vector<size_t>& placed, size_t index) {
  const BufferRequest& buffer = buffers[index];
  std::vector<size_t> conflicts;
  for (size_t other : placed) {
    if (buffers[other].size > 0 && LifetimesIntersect(buffer, buffers[other])) {
      conflicts.push_back(other);
    }
  }
  std::vector<int64_t> candidates = {0};
  for (size_t other : conflicts) {
    candidates.push_back(AlignUp(offsets[other] + buffers[other].size));
  }
  std::sort(candidates.begin(), candidates.end());
  for (int64_t candidate : candidates) {
    bool fits = std::none_of(conflicts.begin(), conflicts.end(), [&](size_t o) {
      return candidate < offsets[o] + buffers[o].size &&
             offsets[o] < candidate + buffer.size;
    });
    if (fits) return candidate;
  }
  return candidates.back();  // Unreachable: the last candidate is past all.
}

}  // namespace

ArenaPlan PlanGreedyArena(const std::vector<BufferRequest>& buffers) {
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return buffers[a].size > buffers[b].size;
  });
  ArenaPlan plan{std::vector<int64_t>(buffers.size(), 0), 0};
  std::vector<size_t> placed;
  for (size_t index : order) {
    if (buffers[index].size <= 0) continue;
    plan.offsets[index] =
        LowestFreeOffset(buffers, plan.offsets, placed, index);
    plan.arena_bytes =
        std::max(plan.arena_bytes, plan.offsets[index] + buffers[index].size);
    placed.push_back(index);
  }
  return plan;
}

}  // namespace nas
