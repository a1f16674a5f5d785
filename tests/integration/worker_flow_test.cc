// The worker side over real gRPC against a real PostgreSQL: leases,
// heartbeats, reports, expiry, infeasible and cached candidates.
#include <memory>
#include <string>
#include <vector>

#include "common/architecture.h"
#include "controller/store/pg_trial_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "tests/controller/test_specs.h"
#include "tests/integration/controller_fixture.h"
#include "tests/status_matchers.h"

namespace nas::testing {
namespace {

using ::testing::AllOf;
using ::testing::Each;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::SizeIs;

class WorkerFlowTest : public ControllerFixture {};

bool Ended(const v1::Search& s) {
  return s.state() == v1::SEARCH_SUCCEEDED || s.state() == v1::SEARCH_FAILED ||
         s.state() == v1::SEARCH_CANCELLED;
}

TEST_F(WorkerFlowTest, LeaseHeartbeatReportIsCommitted) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::Search search, Submit(EcgSpecYaml()));
  const int64_t worker = RegisterWorker("w-1", 1);
  const v1::TrialTask task = LeaseOne(worker);
  EXPECT_EQ(task.search_id(), search.id());
  EXPECT_THAT(task.lease_id(), MatchesRegex("[0-9a-f]{32}"));
  EXPECT_EQ(ArchitectureToString(task.architecture()),
            "CONV1D(4,k3,s1,p1) RELU LINEAR(5)");  // The seed comes first.
  EXPECT_EQ(task.dataset().format(), v1::UCR_TSV);
  EXPECT_EQ(task.dataset().train_path().front(), '/');  // Resolved.
  EXPECT_EQ(task.dataset().num_classes(), 5);
  EXPECT_EQ(task.training().epochs(), 1);
  EXPECT_EQ(task.seed(), 7u);
  EXPECT_NE(task.trial_seed(), 0u);
  EXPECT_EQ(task.attempt(), 1);

  NAS_ASSERT_OK_AND_ASSIGN(v1::HeartbeatResponse beat,
                           Heartbeat(worker, {task.lease_id()}));
  ASSERT_THAT(beat.verdicts(), SizeIs(1));
  EXPECT_TRUE(beat.verdicts(0).keep_going());

  NAS_ASSERT_OK_AND_ASSIGN(v1::ReportTrialResponse ack,
                           Report(worker, task, Plausible(task, 0.875)));
  EXPECT_TRUE(ack.accepted()) << ack.detail();

  // Committed before the reply: a separate connection sees it at once.
  pqxx::connection conn(uri_);
  pqxx::work txn(conn);
  pqxx::row row = txn.exec_params1(
      "SELECT state, accuracy, reward, flash_bytes, length(model), int8_model "
      "FROM trials WHERE id = $1",
      task.trial_id());
  EXPECT_EQ(row[0].as<int>(), v1::TRIAL_SUCCEEDED);
  EXPECT_DOUBLE_EQ(row[1].as<double>(), 0.875);
  EXPECT_DOUBLE_EQ(row[2].as<double>(), 0.875);  // reward: accuracy
  EXPECT_GT(row[3].as<int64_t>(), 0);            // analytic flash kept
  EXPECT_EQ(row[4].as<size_t>(), ModelBytes(task.trial_id()).size());
  // The search quantises (the default): the int8 model is stored with it.
  EXPECT_EQ(task.training().quantize(), "int8");
  v1::QuantizedModel int8;
  ASSERT_TRUE(int8.ParseFromString(pqxx::binarystring(row[5]).str()));
  EXPECT_EQ(int8.arena_bytes(), task.trial_id());
}

TEST_F(WorkerFlowTest, ReportAnswersWithTheNextTasks) {
  EcgSpecOptions options;
  options.max_trials = 6;
  NAS_ASSERT_OK_AND_ASSIGN(v1::Search search, Submit(EcgSpecYaml(options)));
  const int64_t worker = RegisterWorker("w-1", 3);
  const v1::TrialTask first = LeaseOne(worker);
  const std::string pending = absl::StrCat(
      "SELECT COUNT(*) FROM trials WHERE state = 1 AND search_id = ", search.id());
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (Count(pending) < 3 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_GE(Count(pending), 3);

  NAS_ASSERT_OK_AND_ASSIGN(v1::ReportTrialResponse ack,
                           Report(worker, first, Plausible(first, 0.8), 2));
  EXPECT_TRUE(ack.accepted()) << ack.detail();
  ASSERT_THAT(ack.tasks(), SizeIs(2));
  for (const v1::TrialTask& task : ack.tasks()) {
    EXPECT_NE(task.trial_id(), first.trial_id());
    EXPECT_THAT(task.lease_id(), MatchesRegex("[0-9a-f]{32}"));
    EXPECT_EQ(task.dataset().num_classes(), 5);  // A whole task.
    EXPECT_EQ(Count(absl::StrCat("SELECT COUNT(*) FROM trials WHERE state = 2 "
                                 "AND worker_id = ", worker, " AND lease_id = '",
                                 task.lease_id(), "' AND id = ", task.trial_id())),
              1);
  }
  EXPECT_NE(ack.tasks(0).trial_id(), ack.tasks(1).trial_id());
  const std::string running = absl::StrCat(
      "SELECT COUNT(*) FROM trials WHERE state = 2 AND search_id = ", search.id());
  EXPECT_EQ(Count(running), 2);

  // The answer was lost: the worker repeats the report. It is refused as a
  // duplicate and answered with the same two tasks, not new ones.
  NAS_ASSERT_OK_AND_ASSIGN(v1::ReportTrialResponse again,
                           Report(worker, first, Plausible(first, 0.3), 2));
  EXPECT_FALSE(again.accepted());
  ASSERT_THAT(again.tasks(), SizeIs(2));
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(again.tasks(i).trial_id(), ack.tasks(i).trial_id());
    EXPECT_EQ(again.tasks(i).lease_id(), ack.tasks(i).lease_id());
    EXPECT_EQ(ArchitectureToString(again.tasks(i).architecture()),
              ArchitectureToString(ack.tasks(i).architecture()));
  }
  EXPECT_EQ(Count(running), 2);

  // Only those the worker still holds: one is reported meanwhile.
  NAS_ASSERT_OK_AND_ASSIGN(
      v1::ReportTrialResponse done,
      Report(worker, ack.tasks(0), Plausible(ack.tasks(0), 0.6)));
  EXPECT_TRUE(done.accepted()) << done.detail();
  EXPECT_THAT(done.tasks(), SizeIs(0));  // lease_next 0: none.
  NAS_ASSERT_OK_AND_ASSIGN(v1::ReportTrialResponse third,
                           Report(worker, first, Plausible(first, 0.3), 2));
  ASSERT_THAT(third.tasks(), SizeIs(1));
  EXPECT_EQ(third.tasks(0).lease_id(), ack.tasks(1).lease_id());

  // None held any more: a repeat leases anew, like any report.
  NAS_ASSERT_OK_AND_ASSIGN(
      done, Report(worker, ack.tasks(1), Plausible(ack.tasks(1), 0.7)));
  EXPECT_TRUE(done.accepted()) << done.detail();
  while (Count(pending) < 1 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  NAS_ASSERT_OK_AND_ASSIGN(v1::ReportTrialResponse fresh,
                           Report(worker, first, Plausible(first, 0.3), 1));
  EXPECT_FALSE(fresh.accepted());
  ASSERT_THAT(fresh.tasks(), SizeIs(1));
  EXPECT_NE(fresh.tasks(0).trial_id(), ack.tasks(0).trial_id());
  EXPECT_NE(fresh.tasks(0).trial_id(), ack.tasks(1).trial_id());
  EXPECT_EQ(Count(absl::StrCat("SELECT COUNT(*) FROM trials WHERE state = 2 "
                               "AND lease_id = '", fresh.tasks(0).lease_id(),
                               "' AND id = ", fresh.tasks(0).trial_id())),
            1);
  EXPECT_EQ(Count(absl::StrCat("SELECT COUNT(*) FROM trials WHERE state = 3 "
                               "AND search_id = ", search.id())),
            3);
}

TEST_F(WorkerFlowTest, DuplicateReportIsRefusedAndChangesNothing) {
  NAS_ASSERT_OK(Submit(EcgSpecYaml()).status());
  const int64_t worker = RegisterWorker("w-1", 1);
  const v1::TrialTask task = LeaseOne(worker);
  NAS_ASSERT_OK_AND_ASSIGN(v1::ReportTrialResponse first,
                           Report(worker, task, Plausible(task, 0.8)));
  EXPECT_TRUE(first.accepted());
  NAS_ASSERT_OK_AND_ASSIGN(v1::ReportTrialResponse second,
                           Report(worker, task, Plausible(task, 0.3)));
  EXPECT_FALSE(second.accepted());
  EXPECT_THAT(second.detail(), HasSubstr("duplicate"));
  EXPECT_EQ(Count(absl::StrCat("SELECT COUNT(*) FROM result_cache WHERE "
                               "trial_id = ",
                               task.trial_id())),
            1);
  EXPECT_EQ(Count(absl::StrCat("SELECT (accuracy * 1000)::bigint FROM trials "
                               "WHERE id = ",
                               task.trial_id())),
            800);
}

TEST_F(WorkerFlowTest, ExpiredLeaseIsHandedOnAndTheOldOneRefused) {
  NAS_ASSERT_OK(Submit(EcgSpecYaml()).status());
  const int64_t slow = RegisterWorker("w-slow", 1);
  const v1::TrialTask first = LeaseOne(slow);
  AdvanceAndTick(kLeaseTtl + absl::Seconds(1));
  const int64_t fast = RegisterWorker("w-fast", 1);
  v1::TrialTask second;
  // The requeued trial is the oldest PENDING one, so it is handed out first.
  do {
    second = LeaseOne(fast);
  } while (second.trial_id() != first.trial_id() && !HasFailure());
  EXPECT_EQ(second.attempt(), 2);
  EXPECT_NE(second.lease_id(), first.lease_id());

  NAS_ASSERT_OK_AND_ASSIGN(v1::HeartbeatResponse beat,
                           Heartbeat(slow, {first.lease_id()}));
  EXPECT_FALSE(beat.verdicts(0).keep_going());
  NAS_ASSERT_OK_AND_ASSIGN(v1::ReportTrialResponse stale,
                           Report(slow, first, Plausible(first, 0.9)));
  EXPECT_FALSE(stale.accepted());
  EXPECT_THAT(stale.detail(), HasSubstr("stale"));
  NAS_ASSERT_OK_AND_ASSIGN(v1::ReportTrialResponse ok,
                           Report(fast, second, Plausible(second, 0.7)));
  EXPECT_TRUE(ok.accepted());
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::Trial> trials,
                           ListTrials(second.search_id()));
  for (const v1::Trial& t : trials) {
    if (t.id() != first.trial_id()) continue;
    EXPECT_EQ(t.state(), v1::TRIAL_SUCCEEDED);
    EXPECT_DOUBLE_EQ(t.metrics().accuracy(), 0.7);
    EXPECT_EQ(t.attempts(), 2);
    EXPECT_EQ(t.worker(), "w-fast");
  }
}

TEST_F(WorkerFlowTest, TrialFailsAfterMaxAttemptsExpire) {
  EcgSpecOptions options;
  options.max_attempts = 2;
  NAS_ASSERT_OK(Submit(EcgSpecYaml(options)).status());
  const int64_t worker = RegisterWorker("w-flaky", 1);
  const v1::TrialTask first = LeaseOne(worker);
  AdvanceAndTick(kLeaseTtl + absl::Seconds(1));
  v1::TrialTask again;
  do {
    again = LeaseOne(worker);
  } while (again.trial_id() != first.trial_id() && !HasFailure());
  EXPECT_EQ(again.attempt(), 2);
  AdvanceAndTick(kLeaseTtl + absl::Seconds(1));
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::Trial> failed,
                           ListTrials(first.search_id(), v1::TRIAL_FAILED));
  ASSERT_THAT(failed, SizeIs(1));
  EXPECT_EQ(failed[0].id(), first.trial_id());
  EXPECT_EQ(failed[0].attempts(), 2);
  EXPECT_EQ(failed[0].failure_reason(),
            "lease expired 2 times (last worker w-flaky)");
  EXPECT_GT(Count("SELECT COUNT(*) FROM trials WHERE state = 4"), 0);
}

TEST_F(WorkerFlowTest, InfeasibleCandidatesAreRecordedAndNeverLeased) {
  EcgSpecOptions options;
  options.max_infeasible = 5;
  options.constraints = "{max_flash_bytes: 100}";  // Nothing fits.
  NAS_ASSERT_OK_AND_ASSIGN(v1::Search search, Submit(EcgSpecYaml(options)));
  const v1::Search ended = WaitForSearch(search.id(), Ended);
  EXPECT_EQ(ended.state(), v1::SEARCH_FAILED);
  EXPECT_THAT(ended.message(), HasSubstr("5 infeasible candidates in a row"));
  EXPECT_EQ(ended.trials_infeasible(), 5);
  EXPECT_EQ(ended.trials_done(), 0);
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::Trial> trials,
                           ListTrials(search.id()));
  ASSERT_THAT(trials, SizeIs(5));
  for (const v1::Trial& t : trials) {
    EXPECT_EQ(t.state(), v1::TRIAL_INFEASIBLE);
    EXPECT_EQ(t.attempts(), 0);
    EXPECT_THAT(t.violations(),
                Each(AllOf(HasSubstr("flash"), HasSubstr("> limit 100 B"))));
    EXPECT_GT(t.metrics().flash_bytes(), 100);
  }
  const int64_t worker = RegisterWorker("w-1", 2);
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::TrialTask> tasks, Lease(worker, 2));
  EXPECT_THAT(tasks, SizeIs(0));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM trials WHERE worker_id IS NOT NULL"),
            0);
}

TEST_F(WorkerFlowTest, CachedResultIsReusedInsteadOfRetraining) {
  EcgSpecOptions options;
  options.name = "first";
  options.max_trials = 1;
  NAS_ASSERT_OK_AND_ASSIGN(v1::Search first, Submit(EcgSpecYaml(options)));
  const int64_t worker = RegisterWorker("w-1", 1);
  const v1::TrialTask task = LeaseOne(worker);
  NAS_ASSERT_OK(Report(worker, task, Plausible(task, 0.91)).status());
  WaitForSearch(first.id(), Ended);

  // Same network, recipe, data and seed in another search.
  options.name = "second";
  NAS_ASSERT_OK_AND_ASSIGN(v1::Search second, Submit(EcgSpecYaml(options)));
  const v1::Search ended = WaitForSearch(second.id(), Ended);
  EXPECT_EQ(ended.state(), v1::SEARCH_SUCCEEDED);
  EXPECT_EQ(ended.trials_cached(), 1);
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::Trial> trials,
                           ListTrials(second.id()));
  ASSERT_THAT(trials, SizeIs(1));
  EXPECT_EQ(trials[0].state(), v1::TRIAL_CACHED);
  EXPECT_EQ(trials[0].cached_from_trial_id(), task.trial_id());
  EXPECT_DOUBLE_EQ(trials[0].metrics().accuracy(), 0.91);
  EXPECT_DOUBLE_EQ(trials[0].reward(), 0.91);
  EXPECT_EQ(trials[0].attempts(), 0);  // Never leased.
  EXPECT_TRUE(trials[0].has_model());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM trials WHERE attempts > 0"), 1);
}

TEST_F(WorkerFlowTest, FailureReportIsStoredWithItsReason) {
  NAS_ASSERT_OK(Submit(EcgSpecYaml()).status());
  const int64_t worker = RegisterWorker("w-1", 1);
  const v1::TrialTask task = LeaseOne(worker);
  v1::TrialResult diverged;
  diverged.set_failure_reason("loss became NaN at epoch 1, step 17");
  NAS_ASSERT_OK_AND_ASSIGN(v1::ReportTrialResponse ack,
                           Report(worker, task, diverged));
  EXPECT_TRUE(ack.accepted());
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::Trial> failed,
                           ListTrials(task.search_id(), v1::TRIAL_FAILED));
  ASSERT_THAT(failed, SizeIs(1));
  EXPECT_EQ(failed[0].failure_reason(), "loss became NaN at epoch 1, step 17");
  EXPECT_FALSE(failed[0].has_model());
}

TEST_F(WorkerFlowTest, BadWorkerInputIsRefusedClearly) {
  NAS_ASSERT_OK(Submit(EcgSpecYaml()).status());
  EXPECT_THAT(Lease(0, 1), StatusIs(absl::StatusCode::kInvalidArgument,
                                    HasSubstr("worker_id")));
  EXPECT_THAT(Lease(424242, 1),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("424242")));
  const int64_t worker = RegisterWorker("w-1", 1);
  EXPECT_THAT(Lease(worker, -1), StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("free_slots")));
  v1::TrialTask task = LeaseOne(worker);
  v1::TrialResult absurd = Plausible(task, 1.7);
  EXPECT_THAT(
      Report(worker, task, absurd),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("accuracy: 1.7")));
  v1::TrialTask unknown = task;
  unknown.set_trial_id(987654);
  EXPECT_THAT(Report(worker, unknown, Plausible(task, 0.5)),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("987654")));
  unknown = task;
  unknown.set_lease_id("");
  EXPECT_THAT(
      Report(worker, unknown, Plausible(task, 0.5)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("lease_id")));
  EXPECT_THAT(Report(worker, task, v1::TrialResult()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("metrics or failure_reason")));
  // The trial is untouched by all of that and still completes.
  NAS_ASSERT_OK_AND_ASSIGN(v1::ReportTrialResponse ack,
                           Report(worker, task, Plausible(task, 0.5)));
  EXPECT_TRUE(ack.accepted());
}

}  // namespace
}  // namespace nas::testing
