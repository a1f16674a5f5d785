#include "controller/controller_metrics.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace nas::controller {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Scrape(prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

v1::Trial FinalTrial(int64_t search_id, v1::TrialState state, double reward) {
  v1::Trial trial;
  trial.set_id(1000 + search_id);
  trial.set_search_id(search_id);
  trial.set_state(state);
  trial.set_reward(reward);
  return trial;
}

TEST(ControllerMetricsTest, TrialsByStateAndBestPerSearch) {
  prometheus::Registry registry;
  ControllerMetrics metrics(&registry);
  v1::Search search;
  search.set_id(12);
  search.set_trials_pending(3);
  search.set_trials_running(2);
  search.set_trials_done(7);  // 4 succeeded + 2 failed + 1 cached.
  search.set_trials_failed(2);
  search.set_trials_cached(1);
  search.set_trials_infeasible(5);
  search.set_best_trial_id(99);
  search.set_best_reward(0.75);
  search.set_best_accuracy(0.875);
  metrics.SetSearch(search);
  metrics.SetSearch(search);  // Updates, never duplicates, the series.
  const std::string text = Scrape(registry);
  EXPECT_THAT(text, HasSubstr(R"(nas_trials{search="12",state="pending"} 3)"));
  EXPECT_THAT(text, HasSubstr(R"(nas_trials{search="12",state="running"} 2)"));
  EXPECT_THAT(text,
              HasSubstr(R"(nas_trials{search="12",state="succeeded"} 4)"));
  EXPECT_THAT(text,
              HasSubstr(R"(nas_trials{search="12",state="infeasible"} 5)"));
  EXPECT_THAT(text, HasSubstr(R"(nas_search_best_reward{search="12"} 0.75)"));
  EXPECT_THAT(text,
              HasSubstr(R"(nas_search_best_accuracy{search="12"} 0.875)"));
  // Never a trial id as a label.
  EXPECT_THAT(text, Not(HasSubstr("trial=")));
}

TEST(ControllerMetricsTest, CountersQueueAndSlots) {
  prometheus::Registry registry;
  ControllerMetrics metrics(&registry);
  metrics.CacheHit(FinalTrial(1, v1::TRIAL_CACHED, 0.5));
  metrics.CacheHit(FinalTrial(1, v1::TRIAL_CACHED, 0.5));
  metrics.InfeasibleRejected();
  metrics.LeasesExpired(3);
  metrics.DuplicateSkipped();
  metrics.SetQueueDepth(6);
  metrics.SetSlots(/*busy_slots=*/2, /*free_slots=*/1);
  const std::string text = Scrape(registry);
  EXPECT_THAT(text, HasSubstr("nas_cache_hits_total 2"));
  EXPECT_THAT(text, HasSubstr("nas_infeasible_rejected_total 1"));
  EXPECT_THAT(text, HasSubstr("nas_leases_expired_total 3"));
  EXPECT_THAT(text, HasSubstr("nas_duplicate_proposals_skipped_total 1"));
  EXPECT_THAT(text, HasSubstr("nas_queue_depth 6"));
  EXPECT_THAT(text, HasSubstr(R"(nas_worker_slots{state="busy"} 2)"));
  EXPECT_THAT(text, HasSubstr(R"(nas_worker_slots{state="free"} 1)"));
}

// Between rounds the slot gauges follow leases and finished trials, within the
// slots the last round counted; the next round's count replaces them.
TEST(ControllerMetricsTest, SlotsFollowLeasesAndReportsBetweenRounds) {
  prometheus::Registry registry;
  ControllerMetrics metrics(&registry);
  auto slots = [&](int busy, int free) {
    const std::string text = Scrape(registry);
    EXPECT_THAT(text, HasSubstr(absl::StrCat(
                          R"(nas_worker_slots{state="busy"} )", busy, "\n")));
    EXPECT_THAT(text, HasSubstr(absl::StrCat(
                          R"(nas_worker_slots{state="free"} )", free, "\n")));
  };
  // A report's trial made final frees its slot.
  auto finished = [&] {
    metrics.TrialFinished(FinalTrial(1, v1::TRIAL_SUCCEEDED, 0.5), 1);
  };
  metrics.SetSlots(/*busy_slots=*/1, /*free_slots=*/2);
  metrics.SlotsLeased(1);
  slots(2, 1);
  metrics.SlotsLeased(5);  // More than the round counted: capped.
  slots(3, 0);
  finished();
  slots(2, 1);
  finished();
  finished();
  finished();  // More than were busy: never below zero.
  slots(0, 3);
  metrics.SetSlots(/*busy_slots=*/3, /*free_slots=*/5);
  slots(3, 5);
  metrics.SlotsLeased(2);
  slots(5, 3);
}

TEST(ControllerMetricsTest, DurationsAndRpcs) {
  prometheus::Registry registry;
  ControllerMetrics metrics(&registry);
  metrics.TrialFinished(FinalTrial(1, v1::TRIAL_SUCCEEDED, 0.5), 42);
  metrics.TrialFinished(FinalTrial(1, v1::TRIAL_SUCCEEDED, 0.5), 7);
  metrics.RpcFinished("LeaseTrial", 0, 0.002);
  metrics.RpcFinished("LeaseTrial", 0, 0.003);
  metrics.RpcFinished("LeaseTrial", 5, 0.001);
  const std::string text = Scrape(registry);
  EXPECT_THAT(
      text,
      HasSubstr(R"(nas_trial_duration_seconds_count{state="succeeded"} 2)"));
  EXPECT_THAT(
      text,
      HasSubstr(R"(nas_trial_duration_seconds_sum{state="succeeded"} 49)"));
  EXPECT_THAT(
      text,
      HasSubstr(R"(nas_rpc_requests_total{code="0",method="LeaseTrial"} 2)"));
  EXPECT_THAT(
      text,
      HasSubstr(R"(nas_rpc_requests_total{code="5",method="LeaseTrial"} 1)"));
  EXPECT_THAT(
      text,
      HasSubstr(R"(nas_rpc_latency_seconds_count{method="LeaseTrial"} 3)"));
}

TEST(ControllerMetricsTest, RewardHistogramPerSearch) {
  prometheus::Registry registry;
  ControllerMetrics metrics(&registry);
  metrics.TrialFinished(FinalTrial(3, v1::TRIAL_SUCCEEDED, 0.75), 10);
  metrics.TrialFinished(FinalTrial(3, v1::TRIAL_SUCCEEDED, 0.875), 10);
  metrics.CacheHit(FinalTrial(3, v1::TRIAL_CACHED, 0.75));
  // A failed trial has no reward: its duration counts, its reward does not.
  metrics.TrialFinished(FinalTrial(3, v1::TRIAL_FAILED, 0), 4);
  metrics.TrialFinished(FinalTrial(4, v1::TRIAL_SUCCEEDED, -1.5), 10);
  const std::string text = Scrape(registry);
  EXPECT_THAT(text, HasSubstr(R"(nas_trial_reward_count{search="3"} 3)"));
  EXPECT_THAT(text, HasSubstr(R"(nas_trial_reward_sum{search="3"} 2.375)"));
  EXPECT_THAT(text,
              HasSubstr(R"(nas_trial_reward_bucket{search="3",le="0.7"} 0)"));
  EXPECT_THAT(text,
              HasSubstr(R"(nas_trial_reward_bucket{search="3",le="0.8"} 2)"));
  EXPECT_THAT(text,
              HasSubstr(R"(nas_trial_reward_bucket{search="3",le="0.9"} 3)"));
  EXPECT_THAT(text, HasSubstr(R"(nas_trial_reward_count{search="4"} 1)"));
  EXPECT_THAT(text,
              HasSubstr(R"(nas_trial_reward_bucket{search="4",le="-1"} 1)"));
  EXPECT_THAT(
      text, HasSubstr(R"(nas_trial_duration_seconds_count{state="failed"} 1)"));
}

TEST(ControllerMetricsTest, EpsilonOnlyForSearchesThatSetIt) {
  prometheus::Registry registry;
  ControllerMetrics metrics(&registry);
  metrics.SetEpsilon(5, 1.0);
  metrics.SetEpsilon(5, 0.3);
  const std::string text = Scrape(registry);
  EXPECT_THAT(text, HasSubstr(R"(nas_search_epsilon{search="5"} 0.3)"));
  EXPECT_THAT(text, Not(HasSubstr(R"(nas_search_epsilon{search="6"})")));
}

}  // namespace
}  // namespace nas::controller
