#include "common/memory_planner.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nas {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(MemoryPlannerTest, EmptyPlan) {
  const ArenaPlan plan = PlanGreedyArena({});
  EXPECT_THAT(plan.offsets, IsEmpty());
  EXPECT_EQ(plan.arena_bytes, 0);
}

TEST(MemoryPlannerTest, DisjointLifetimesShareMemory) {
  const ArenaPlan plan =
      PlanGreedyArena({{100, 0, 0}, {200, 1, 1}, {50, 2, 3}});
  EXPECT_THAT(plan.offsets, ElementsAre(0, 0, 0));
  EXPECT_EQ(plan.arena_bytes, 200);
}

TEST(MemoryPlannerTest, OverlappingLifetimesAreStackedAligned) {
  // 200 placed first at 0; 100 is alive at step 1 too, so it goes to the
  // 16-aligned end of 200: 208. Arena = 208 + 100.
  const ArenaPlan plan = PlanGreedyArena({{100, 0, 1}, {200, 1, 2}});
  EXPECT_THAT(plan.offsets, ElementsAre(208, 0));
  EXPECT_EQ(plan.arena_bytes, 308);
}

TEST(MemoryPlannerTest, EveryOffsetIsAligned) {
  const ArenaPlan plan = PlanGreedyArena({{10, 0, 1}, {10, 0, 1}, {10, 0, 1}});
  EXPECT_THAT(plan.offsets, ElementsAre(0, 16, 32));
  EXPECT_EQ(plan.arena_bytes, 42);
}

TEST(MemoryPlannerTest, PlacesAtLowestFreeGap) {
  // A 100 [0,3] @0. B 80 [0,1] @112. C 80 [2,3]: clashes with A only -> @112.
  // D 20 [1,2] clashes with A (0..100), B (112..192), C (112..192): the gap
  // 100..112 is too small after alignment (112 is taken), so D goes to 192.
  const ArenaPlan plan =
      PlanGreedyArena({{100, 0, 3}, {80, 0, 1}, {80, 2, 3}, {20, 1, 2}});
  EXPECT_THAT(plan.offsets, ElementsAre(0, 112, 112, 192));
  EXPECT_EQ(plan.arena_bytes, 212);
}

TEST(MemoryPlannerTest, FillsAHoleBelowLaterBuffers) {
  // A 64 [0,0] @0 and B 64 [2,2] @0; C 48 [0,2] clashes with both -> @64;
  // D 16 [1,1] clashes only with C (64..112) -> @0, below it.
  const ArenaPlan plan =
      PlanGreedyArena({{64, 0, 0}, {64, 2, 2}, {48, 0, 2}, {16, 1, 1}});
  EXPECT_THAT(plan.offsets, ElementsAre(0, 0, 64, 0));
  EXPECT_EQ(plan.arena_bytes, 112);
}

TEST(MemoryPlannerTest, ZeroSizedBuffersTakeNoSpace) {
  const ArenaPlan plan = PlanGreedyArena({{0, 0, 5}, {32, 0, 5}});
  EXPECT_THAT(plan.offsets, ElementsAre(0, 0));
  EXPECT_EQ(plan.arena_bytes, 32);
}

}  // namespace
}  // namespace nas
