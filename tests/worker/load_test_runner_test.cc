#include "worker/load_test_runner.h"

#include <atomic>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/status_matchers.h"
#include "tests/worker/fake_worker_service.h"
#include "tests/worker/test_data.h"
#include "worker/run_worker.h"

namespace nas::worker {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::HasSubstr;
using testing::FakeControllerServer;
using testing::FakeWorkerService;

v1::TrialTask SeededTask(int64_t trial_id, uint64_t trial_seed) {
  v1::TrialTask task =
      testing::MakeTask(testing::Ecg5000Spec(), "CONV1D(8,k5) RELU GLOBAL_AVGPOOL LINEAR(5)", 3);
  task.set_trial_id(trial_id);
  task.set_lease_id("lease-" + std::to_string(trial_id));
  task.set_trial_seed(trial_seed);
  return task;
}

TEST(LoadTestMetricsTest, AreAPlausibleFunctionOfTheTrialSeed) {
  std::set<double> accuracies;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const v1::Metrics m = LoadTestMetrics(SeededTask(1, seed));
    EXPECT_GE(m.accuracy(), 0.5);
    EXPECT_LE(m.accuracy(), 0.95);
    EXPECT_GT(m.macro_f1(), 0);
    EXPECT_LE(m.macro_f1(), m.accuracy());
    EXPECT_EQ(m.test_accuracy(), 0);  // The data set does not ask for it.
    EXPECT_EQ(m.epochs_run(), 3);
    EXPECT_EQ(m.train_seconds(), 0);
    EXPECT_GT(m.latency_ms_cpu(), 0);
    EXPECT_GT(m.final_loss(), 0);
    EXPECT_EQ(m.params(), 0);  // Analytic fields are the controller's.
    EXPECT_EQ(m.macs(), 0);
    EXPECT_TRUE(MessageDifferencer::Equals(m, LoadTestMetrics(SeededTask(2, seed))))
        << "only the trial seed counts";
    accuracies.insert(m.accuracy());
  }
  EXPECT_GT(accuracies.size(), 190u) << "seeds must give different results";
}

TEST(LoadTestMetricsTest, FillTestFiguresWhenAsked) {
  v1::TrialTask task = SeededTask(1, 42);
  task.mutable_dataset()->set_evaluate_test(true);
  const v1::Metrics m = LoadTestMetrics(task);
  EXPECT_GT(m.test_accuracy(), 0);
  EXPECT_LE(m.test_accuracy(), m.accuracy());
  EXPECT_GT(m.test_macro_f1(), 0);
}

TEST(LoadTestRunnerTest, SucceedsAtOnceWithoutAModel) {
  const v1::TrialTask task = SeededTask(7, 99);
  std::atomic<bool> stop{false};
  TrialControl control;
  control.stop = &stop;
  absl::StatusOr<TrialOutcome> outcome = MakeLoadTestRunner()(task, control);
  NAS_ASSERT_OK(outcome.status());
  EXPECT_TRUE(outcome->succeeded());
  EXPECT_TRUE(outcome->torchscript.empty());
  EXPECT_TRUE(MessageDifferencer::Equals(outcome->metrics, LoadTestMetrics(task)));
}

TEST(RunWorkerLoadTestTest, SimulatedWorkersRegisterAndReportOnTheirOwn) {
  FakeWorkerService service;
  FakeControllerServer server(&service);
  server.Start(0);
  std::vector<v1::TrialTask> tasks;
  for (int id = 1; id <= 40; ++id) {
    tasks.push_back(SeededTask(id, 1000 + id));
    service.AddTask(tasks.back());
  }
  WorkerConfig config;
  config.controller = server.address();
  config.name = "sim";
  config.metrics_listen = "none";
  config.device = "cpu";
  config.tls.insecure = true;  // The in-test controller serves plain text.
  config.exit_when_idle = absl::Milliseconds(800);
  config.load_test_skip_training = true;
  config.load_test_workers = 5;
  NAS_ASSERT_OK(RunWorker(config));

  EXPECT_EQ(service.registrations(), 5);
  const std::vector<v1::ReportTrialRequest> reports = service.reports();
  ASSERT_EQ(reports.size(), tasks.size());
  std::set<int64_t> trials, workers;
  for (const v1::ReportTrialRequest& report : reports) {
    ASSERT_TRUE(report.result().has_metrics());
    const v1::TrialTask& task = tasks[report.trial_id() - 1];
    EXPECT_EQ(report.lease_id(), task.lease_id());
    EXPECT_TRUE(MessageDifferencer::Equals(report.result().metrics(), LoadTestMetrics(task)));
    EXPECT_TRUE(report.result().torchscript().empty());
    trials.insert(report.trial_id());
    workers.insert(report.worker_id());
  }
  EXPECT_EQ(trials.size(), tasks.size()) << "each trial reported once";
  EXPECT_GT(workers.size(), 1u) << "the simulated workers share the queue";
}

TEST(RunWorkerLoadTestTest, RejectsSimulatedWorkersThatWouldTrain) {
  WorkerConfig config;
  config.metrics_listen = "none";
  config.device = "cpu";
  config.load_test_workers = 8;
  EXPECT_THAT(RunWorker(config),
              ::nas::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                       HasSubstr("needs --load_test_skip_training")));
  config.load_test_skip_training = true;
  config.load_test_workers = -1;
  EXPECT_THAT(RunWorker(config),
              ::nas::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                       HasSubstr("--load_test_workers: -1 not in")));
}

}  // namespace
}  // namespace nas::worker
