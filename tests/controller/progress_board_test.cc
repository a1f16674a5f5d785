#include "controller/progress_board.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nas::controller {
namespace {

using ::testing::ElementsAre;
using ::testing::Property;

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

HeldLease Held(int64_t trial_id, int64_t search_id, int number) {
  HeldLease held;
  held.status = LeaseStatus::kActive;
  held.trial_id = trial_id;
  held.search_id = search_id;
  held.trial_number = number;
  held.worker = "w1";
  return held;
}

v1::TrialProgress AtEpoch(int epoch) {
  v1::TrialProgress p;
  p.set_epoch(epoch);
  p.set_epochs(10);
  return p;
}

TEST(ProgressBoardTest, KeepsTheLatestPerTrialWithTheControllersFields) {
  ProgressBoard board(absl::Seconds(30));
  board.Update(Held(7, 1, 3), AtEpoch(1), kNow);
  board.Update(Held(7, 1, 3), AtEpoch(2), kNow + absl::Seconds(1));
  board.Update(Held(5, 1, 1), AtEpoch(4), kNow);
  board.Update(Held(9, 2, 0), AtEpoch(1), kNow);
  EXPECT_EQ(board.size(), 3u);
  const std::vector<v1::TrialProgress> search1 = board.ForSearch(1, kNow + absl::Seconds(2));
  EXPECT_THAT(search1, ElementsAre(Property(&v1::TrialProgress::trial_number, 1),
                                   Property(&v1::TrialProgress::trial_number, 3)));
  const v1::TrialProgress& latest = search1[1];
  EXPECT_EQ(latest.epoch(), 2);
  EXPECT_EQ(latest.trial_id(), 7);
  EXPECT_EQ(latest.worker(), "w1");
  EXPECT_EQ(latest.updated_unix_ms(), absl::ToUnixMillis(kNow + absl::Seconds(1)));
  ASSERT_TRUE(board.ForTrial(9, kNow).has_value());
  EXPECT_FALSE(board.ForTrial(8, kNow).has_value());
}

TEST(ProgressBoardTest, ForgetsReportedAndStaleTrials) {
  ProgressBoard board(absl::Seconds(30));
  board.Update(Held(7, 1, 3), AtEpoch(1), kNow);
  board.Update(Held(8, 1, 4), AtEpoch(1), kNow);
  board.Remove(7);
  EXPECT_FALSE(board.ForTrial(7, kNow).has_value());
  // Trial 8's heartbeats stopped: not shown after max_age, and swept by a
  // later update.
  EXPECT_TRUE(board.ForSearch(1, kNow + absl::Seconds(31)).empty());
  EXPECT_FALSE(board.ForTrial(8, kNow + absl::Seconds(31)).has_value());
  board.Update(Held(9, 1, 5), AtEpoch(1), kNow + absl::Seconds(31));
  EXPECT_EQ(board.size(), 1u);
}

}  // namespace
}  // namespace nas::controller
