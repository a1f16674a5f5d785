#ifndef NAS_COMMON_MEMORY_PLANNER_H_
#define NAS_COMMON_MEMORY_PLANNER_H_

// Greedy lifetime-based arena planner in the manner of TensorFlow Lite
// Micro's GreedyMemoryPlanner. Pure functions, thread-safe.

#include <cstdint>
#include <vector>

namespace nas {

inline constexpr int64_t kArenaAlignment = 16;

// One buffer: `size` bytes alive from step `first_use` to step `last_use`
// (both inclusive).
struct BufferRequest {
  int64_t size;
  int first_use;
  int last_use;
};

// offsets[i] is where buffers[i] starts; arena_bytes = max(offset + size)
// (0 for no buffers).
struct ArenaPlan {
  std::vector<int64_t> offsets;
  int64_t arena_bytes;
};

// Buffers are placed largest first (ties: lower index first), each at the
// lowest 16-byte-aligned offset at which it overlaps no already-placed buffer
// whose lifetime intersects its own. Buffers of size 0 get offset 0.
ArenaPlan PlanGreedyArena(const std::vector<BufferRequest>& buffers);

}  // namespace nas

#endif  // NAS_COMMON_MEMORY_PLANNER_H_
