#include "controller/scheduling_rules.h"

#include <cmath>
#include <limits>
#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace nas::controller {
namespace {

using ::nas::testing::IsOk;
using ::nas::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

const absl::Time kStart = absl::FromUnixSeconds(1700000000);

// Trials by state: pending, running, succeeded, failed, cached, infeasible.
struct Counts {
  int pending = 0, running = 0, succeeded = 0, failed = 0, cached = 0,
      infeasible = 0;
};

SearchRecord Record(int max_trials, Counts c) {
  SearchRecord r;
  v1::Search& s = r.search;
  s.set_id(7);
  s.set_state(v1::SEARCH_RUNNING);
  s.mutable_spec()->set_device("nrf52840");
  s.mutable_spec()->mutable_budget()->set_max_trials(max_trials);
  s.mutable_spec()->mutable_budget()->set_max_infeasible(5);
  s.set_trials_total(max_trials);
  s.set_trials_pending(c.pending);
  s.set_trials_running(c.running);
  s.set_trials_failed(c.failed);
  s.set_trials_cached(c.cached);
  s.set_trials_infeasible(c.infeasible);
  s.set_trials_done(c.succeeded + c.failed + c.cached);
  s.set_started_unix_ms(absl::ToUnixMillis(kStart));
  r.succeeded = c.succeeded;
  return r;
}

TEST(PlanSearchTest, FillsQueueToFreeSlotsPlusBuffer) {
  SearchPlan plan = PlanSearch(Record(100, Counts{}), kStart, /*free_slots=*/3);
  EXPECT_EQ(plan.proposals, 3 + kQueueBuffer);
  EXPECT_FALSE(plan.finish.has_value());
  EXPECT_FALSE(plan.cancel_pending);
}

TEST(PlanSearchTest, KeepsTheBufferItIsGiven) {
  SearchPlan plan = PlanSearch(Record(100, Counts{3, 0, 0, 0, 0, 0}), kStart,
                               /*free_slots=*/2, /*queue_buffer=*/8);
  EXPECT_EQ(plan.proposals, 2 + 8 - 3);
}

TEST(QueueBufferTest, TwoTrialsASlotUnlessThePolicyLearns) {
  EXPECT_EQ(QueueBuffer(/*learns_from_results=*/true, 64), kQueueBuffer);
  EXPECT_EQ(QueueBuffer(/*learns_from_results=*/false, 64), 128);
  EXPECT_EQ(QueueBuffer(/*learns_from_results=*/false, 1),
            kUnlearnedQueueBuffer);
  EXPECT_EQ(QueueBuffer(/*learns_from_results=*/false, 0),
            kUnlearnedQueueBuffer);
}

TEST(PlanSearchTest, CountsQueuedTrialsAgainstTheTarget) {
  SearchPlan plan =
      PlanSearch(Record(100, Counts{3, 0, 0, 0, 0, 0}), kStart, 2);
  EXPECT_EQ(plan.proposals, 2 + kQueueBuffer - 3);
  plan = PlanSearch(Record(100, Counts{9, 0, 0, 0, 0, 0}), kStart, 2);
  EXPECT_EQ(plan.proposals, 0);
}

TEST(PlanSearchTest, NeverProposesBeyondTheBudget) {
  // 10 trials: 4 done, 3 running, 1 queued -> 2 left to propose.
  SearchPlan plan =
      PlanSearch(Record(10, Counts{1, 3, 2, 1, 1, 0}), kStart, 50);
  EXPECT_EQ(plan.proposals, 2);
}

TEST(PlanSearchTest, WaitsForRunningTrialsOnceAllAreProposed) {
  SearchPlan plan = PlanSearch(Record(3, Counts{0, 1, 2, 0, 0, 0}), kStart, 4);
  EXPECT_EQ(plan.proposals, 0);
  EXPECT_FALSE(plan.finish.has_value());
}

TEST(PlanSearchTest, SucceedsWhenEveryTrialIsDone) {
  SearchPlan plan = PlanSearch(Record(4, Counts{0, 0, 2, 1, 1, 3}), kStart, 4);
  ASSERT_TRUE(plan.finish.has_value());
  EXPECT_EQ(*plan.finish, v1::SEARCH_SUCCEEDED);
  EXPECT_THAT(plan.message,
              AllOf(HasSubstr("all 4 trials finished"),
                    HasSubstr("2 succeeded"), HasSubstr("1 cached"),
                    HasSubstr("1 failed"), HasSubstr("3 infeasible")));
}

TEST(PlanSearchTest, FailsWhenNoTrialSucceeded) {
  SearchPlan plan = PlanSearch(Record(2, Counts{0, 0, 0, 2, 0, 0}), kStart, 1);
  ASSERT_TRUE(plan.finish.has_value());
  EXPECT_EQ(*plan.finish, v1::SEARCH_FAILED);
  EXPECT_THAT(plan.message, HasSubstr("no trial succeeded"));
}

TEST(PlanSearchTest, StopsAfterTooManyInfeasibleInARow) {
  SearchRecord r = Record(10, Counts{0, 0, 1, 0, 0, 5});
  r.infeasible_streak = 5;  // budget.max_infeasible
  SearchPlan plan = PlanSearch(r, kStart, 2);
  EXPECT_EQ(plan.proposals, 0);
  ASSERT_TRUE(plan.finish.has_value());
  EXPECT_EQ(*plan.finish, v1::SEARCH_SUCCEEDED);
  EXPECT_THAT(plan.message, AllOf(HasSubstr("5 infeasible candidates in a row"),
                                  HasSubstr("nrf52840")));
}

TEST(PlanSearchTest, InfeasibleStopWaitsForQueuedTrials) {
  SearchRecord r = Record(10, Counts{2, 0, 0, 0, 0, 5});
  r.infeasible_streak = 5;
  SearchPlan plan = PlanSearch(r, kStart, 2);
  EXPECT_EQ(plan.proposals, 0);
  EXPECT_FALSE(plan.cancel_pending);
  EXPECT_FALSE(plan.finish.has_value());
}

TEST(PlanSearchTest, TimeBudgetCancelsQueueAndWaitsForRunning) {
  SearchRecord r = Record(10, Counts{2, 1, 1, 0, 0, 0});
  r.search.mutable_spec()->mutable_budget()->set_max_duration_s(60);
  EXPECT_FALSE(PlanSearch(r, kStart + absl::Seconds(59), 2).cancel_pending);
  SearchPlan plan = PlanSearch(r, kStart + absl::Seconds(60), 2);
  EXPECT_EQ(plan.proposals, 0);
  EXPECT_TRUE(plan.cancel_pending);
  EXPECT_FALSE(plan.finish.has_value());
  EXPECT_THAT(plan.message, HasSubstr("time budget of 60 s"));
  r.search.set_trials_running(0);
  plan = PlanSearch(r, kStart + absl::Seconds(61), 2);
  ASSERT_TRUE(plan.finish.has_value());
  EXPECT_EQ(*plan.finish, v1::SEARCH_SUCCEEDED);
}

TEST(EstimateEtaTest, UnknownUntilATrialFinished) {
  EXPECT_EQ(EstimateEtaSeconds(Record(10, Counts{0, 2, 0, 0, 0, 0}), kStart, 2),
            -1);
}

TEST(EstimateEtaTest, RemainingTrialsInWavesOfSlots) {
  SearchRecord r = Record(10, Counts{0, 2, 3, 1, 0, 0});
  r.mean_trial_seconds = 20;
  // 6 left, 4 slots -> 2 waves of 20 s.
  EXPECT_DOUBLE_EQ(EstimateEtaSeconds(r, kStart, 4), 40);
  // No live worker counts as one slot.
  EXPECT_DOUBLE_EQ(EstimateEtaSeconds(r, kStart, 0), 120);
}

TEST(EstimateEtaTest, CappedByTimeBudgetAndZeroWhenEnded) {
  SearchRecord r = Record(10, Counts{0, 0, 1, 0, 0, 0});
  r.mean_trial_seconds = 100;
  r.search.mutable_spec()->mutable_budget()->set_max_duration_s(300);
  EXPECT_DOUBLE_EQ(EstimateEtaSeconds(r, kStart + absl::Seconds(250), 1), 50);
  r.search.set_state(v1::SEARCH_SUCCEEDED);
  EXPECT_EQ(EstimateEtaSeconds(r, kStart, 1), 0);
}

TEST(TrialSeedTest, FixedBySeedAndNumberAndDistinct) {
  EXPECT_EQ(TrialSeed(42, 3), TrialSeed(42, 3));
  std::set<uint64_t> seeds;
  for (int n = 0; n < 100; ++n) seeds.insert(TrialSeed(42, n));
  EXPECT_THAT(seeds, SizeIs(100));
  EXPECT_NE(TrialSeed(42, 0), TrialSeed(43, 0));
}

TEST(MergeMeasuredMetricsTest, AnalyticFieldsComeFromTheCostModel) {
  v1::Metrics analytic;
  analytic.set_params(1000);
  analytic.set_flash_bytes(2000);
  analytic.set_peak_sram_bytes(3000);
  analytic.set_arena_bytes(3100);
  analytic.set_macs(4000);
  analytic.set_latency_ms_estimate(5.5);
  v1::Metrics measured;
  measured.set_accuracy(0.9);
  measured.set_built_params(1000);
  measured.set_flash_bytes(1);  // A worker cannot override the cost model.
  v1::Metrics merged = MergeMeasuredMetrics(analytic, measured);
  EXPECT_DOUBLE_EQ(merged.accuracy(), 0.9);
  EXPECT_EQ(merged.built_params(), 1000);
  EXPECT_EQ(merged.flash_bytes(), 2000);
  EXPECT_EQ(merged.peak_sram_bytes(), 3000);
  EXPECT_EQ(merged.arena_bytes(), 3100);
  EXPECT_EQ(merged.macs(), 4000);
  EXPECT_DOUBLE_EQ(merged.latency_ms_estimate(), 5.5);
}

TEST(ValidateTrialResultTest, AcceptsPlausibleMetricsAndFailures) {
  v1::TrialResult ok;
  ok.mutable_metrics()->set_accuracy(0.87);
  ok.mutable_metrics()->set_macro_f1(0.85);
  ok.mutable_metrics()->set_train_seconds(12.5);
  EXPECT_THAT(ValidateTrialResult(ok), IsOk());
  v1::TrialResult failed;
  failed.set_failure_reason("loss became NaN at step 17");
  EXPECT_THAT(ValidateTrialResult(failed), IsOk());
}

TEST(ValidateTrialResultTest, NamesEveryBadField) {
  v1::TrialResult bad;
  bad.mutable_metrics()->set_accuracy(1.5);
  bad.mutable_metrics()->set_macro_f1(std::nan(""));
  bad.mutable_metrics()->set_train_seconds(-1);
  bad.mutable_metrics()->set_final_loss(
      std::numeric_limits<double>::infinity());
  EXPECT_THAT(
      ValidateTrialResult(bad),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("accuracy: 1.5"), HasSubstr("macro_f1"),
                     HasSubstr("train_seconds"), HasSubstr("final_loss"))));
  EXPECT_THAT(ValidateTrialResult(v1::TrialResult()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("either metrics or failure_reason")));
  v1::TrialResult empty_reason;
  empty_reason.set_failure_reason("");
  EXPECT_THAT(ValidateTrialResult(empty_reason),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("failure_reason is empty")));
}

TEST(SanitizeReasonTest, DropsNulAndCutsAtCharacterBoundary) {
  EXPECT_EQ(SanitizeReason(std::string("out\0of memory", 13)), "outof memory");
  // 1999 ASCII bytes then a 2-byte character straddling the limit.
  std::string long_reason(kMaxFailureReasonLength - 1, 'x');
  long_reason += "\xc3\xa9tail";
  std::string cut = SanitizeReason(long_reason);
  EXPECT_EQ(cut, std::string(kMaxFailureReasonLength - 1, 'x'));
}

v1::Trial Scored(int64_t id, v1::TrialState state, double accuracy,
                 int64_t flash, int64_t sram, int64_t macs) {
  v1::Trial t;
  t.set_id(id);
  t.set_state(state);
  t.mutable_metrics()->set_accuracy(accuracy);
  t.mutable_metrics()->set_flash_bytes(flash);
  t.mutable_metrics()->set_peak_sram_bytes(sram);
  t.mutable_metrics()->set_macs(macs);
  return t;
}

std::vector<int64_t> Ids(const std::vector<v1::Trial>& trials) {
  std::vector<int64_t> ids;
  for (const v1::Trial& t : trials) ids.push_back(t.id());
  return ids;
}

TEST(ParetoTrialsTest, KeepsNonDominatedResultsBestAccuracyFirst) {
  std::vector<v1::Trial> trials = {
      Scored(1, v1::TRIAL_SUCCEEDED, 0.80, 1000, 500, 100),
      Scored(2, v1::TRIAL_SUCCEEDED, 0.90, 5000, 900, 800),
      Scored(3, v1::TRIAL_SUCCEEDED, 0.75, 2000, 600, 200),  // Dominated by 1.
      Scored(4, v1::TRIAL_CACHED, 0.85, 900, 950, 300),
      Scored(5, v1::TRIAL_FAILED, 0.99, 1, 1, 1),   // Not a result.
      Scored(6, v1::TRIAL_PENDING, 0.99, 1, 1, 1),  // Not a result.
  };
  EXPECT_THAT(Ids(ParetoTrials(trials, FrontRules())), ElementsAre(2, 4, 1));
}

TEST(ParetoTrialsTest, OrdersByTheFrontsQualityThenSpread) {
  std::vector<v1::Trial> trials = {
      Scored(1, v1::TRIAL_SUCCEEDED, 0.90, 400, 600, 100),
      Scored(2, v1::TRIAL_SUCCEEDED, 0.80, 2000, 500, 100),
      Scored(3, v1::TRIAL_SUCCEEDED, 0.80, 500, 500, 100),
  };
  // Macro-F1 ranks 2 first; 1 and 3 tie on it (neither dominates: flash
  // against SRAM), 3 has the smaller spread.
  trials[0].mutable_metrics()->set_macro_f1(0.6);
  trials[1].mutable_metrics()->set_macro_f1(0.9);
  trials[2].mutable_metrics()->set_macro_f1(0.6);
  trials[0].mutable_metrics()->set_macro_f1_spread(0.05);
  trials[2].mutable_metrics()->set_macro_f1_spread(0.01);
  FrontRules rules;
  rules.macro_f1 = true;
  EXPECT_THAT(Ids(ParetoTrials(trials, rules)), ElementsAre(2, 3, 1));
  EXPECT_THAT(Ids(ParetoTrials(trials, FrontRules())), ElementsAre(1, 3));
}

TEST(ValidateTrialResultTest, SpreadsAreInTheUnitRange) {
  v1::TrialResult result;
  result.mutable_metrics()->set_folds(5);
  result.mutable_metrics()->set_accuracy_spread(0.02);
  EXPECT_THAT(ValidateTrialResult(result), IsOk());
  result.mutable_metrics()->set_macro_f1_spread(NAN);
  result.mutable_metrics()->set_folds(-1);
  EXPECT_THAT(
      ValidateTrialResult(result),
      StatusIs(
          absl::StatusCode::kInvalidArgument,
          AllOf(
              HasSubstr("result.metrics.macro_f1_spread: nan is not in [0, 1]"),
              HasSubstr("result.metrics.folds"))));
}

}  // namespace
}  // namespace nas::controller
