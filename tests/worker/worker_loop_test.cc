#include "worker/worker_loop.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "tests/status_matchers.h"
#include "tests/worker/fake_worker_service.h"
#include "tests/worker/test_data.h"
#include "worker/controller_client.h"
#include "worker/dataset_cache.h"
#include "worker/run_worker.h"

namespace nas::worker {
namespace {

using ::testing::HasSubstr;
using testing::FakeControllerServer;
using testing::FakeWorkerService;

constexpr char kTinyEcgCnn[] =
    "CONV1D(8,k5,s2,p2) RELU MAXPOOL1D(k2) CONV1D(16,k5,p2) RELU GLOBAL_AVGPOOL LINEAR(5)";

v1::TrialTask EcgTask(int64_t trial_id, int epochs, const std::string& arch = kTinyEcgCnn) {
  v1::TrialTask task = testing::MakeTask(testing::Ecg5000Spec(), arch, epochs);
  task.set_trial_id(trial_id);
  task.set_lease_id("lease-" + std::to_string(trial_id));
  return task;
}

// A longer real trial: `epochs` over 5000 Fashion-MNIST images (~0.5 s each).
v1::TrialTask LongTask(int64_t trial_id, int epochs) {
  v1::DatasetSpec spec = testing::FashionMnistSpec();
  spec.set_train_subset(5000);
  v1::TrialTask task =
      testing::MakeTask(spec, "CONV2D(8,k3,p1) RELU MAXPOOL2D(k2) LINEAR(10)", epochs);
  task.set_trial_id(trial_id);
  task.set_lease_id("lease-" + std::to_string(trial_id));
  return task;
}

double CounterValue(prometheus::Registry& registry, const std::string& name,
                    const std::string& outcome) {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      for (const prometheus::ClientMetric::Label& label : metric.label) {
        if (outcome.empty() || (label.name == "outcome" && label.value == outcome)) {
          return metric.counter.value;
        }
      }
    }
  }
  return -1;
}

// A worker loop with the real trainer and real gRPC client, against a fake
// controller on a real port.
class WorkerLoopTest : public ::testing::Test {
 protected:
  void SetUp() override { server_.Start(0); }

  std::unique_ptr<WorkerLoop> MakeLoop(int slots, absl::Duration exit_when_idle,
                                       const std::string& name = "test-worker") {
    client_ = NewGrpcControllerClient(
        server_.address(), grpc::InsecureChannelCredentials(), absl::Seconds(2));
    metrics_ = std::make_unique<WorkerMetrics>(&registry_, "cpu", slots);
    WorkerLoopOptions options;
    options.name = name;
    options.slots = slots;
    options.idle_poll = absl::Milliseconds(20);
    options.retry_initial = absl::Milliseconds(20);
    options.retry_max = absl::Milliseconds(200);
    options.exit_when_idle = exit_when_idle;
    return std::make_unique<WorkerLoop>(client_.get(),
                                        MakeTrialRunner(&cache_, ComputeDevice::kCpu),
                                        metrics_.get(), options);
  }

  FakeWorkerService service_;
  FakeControllerServer server_{&service_};
  DatasetCache cache_;
  prometheus::Registry registry_;
  std::unique_ptr<ControllerClient> client_;
  std::unique_ptr<WorkerMetrics> metrics_;
};

TEST_F(WorkerLoopTest, RunsLeasedTrialsInSlotsAndReportsEach) {
  for (int id = 1; id <= 3; ++id) service_.AddTask(EcgTask(id, 5));
  // A diverging trial and an invalid one are reported as failures.
  v1::TrialTask diverging = EcgTask(4, 2);
  diverging.mutable_training()->set_optimizer("sgd");
  diverging.mutable_training()->set_learning_rate(1e6);
  service_.AddTask(diverging);
  service_.AddTask(EcgTask(5, 1, "CONV2D(4,k3) LINEAR(5)"));
  auto loop = MakeLoop(2, absl::Milliseconds(500));
  NAS_ASSERT_OK(loop->Run());

  const std::vector<v1::ReportTrialRequest> reports = service_.reports();
  ASSERT_EQ(reports.size(), 5u);
  for (const v1::ReportTrialRequest& report : reports) {
    EXPECT_EQ(report.worker_id(), 1);
    EXPECT_EQ(report.lease_id(), "lease-" + std::to_string(report.trial_id()));
    if (report.trial_id() <= 3) {
      ASSERT_TRUE(report.result().has_metrics()) << report.result().failure_reason();
      EXPECT_GT(report.result().metrics().accuracy(), 0.5);
      EXPECT_EQ(report.result().metrics().built_params(),
                report.result().metrics().params());
      EXPECT_FALSE(report.result().torchscript().empty());
    } else if (report.trial_id() == 4) {
      EXPECT_THAT(report.result().failure_reason(), HasSubstr("diverged: loss"));
    } else {
      EXPECT_THAT(report.result().failure_reason(),
                  HasSubstr("INVALID_ARGUMENT: layer 0 (CONV2D)"));
    }
    // The candidate failed, not the data set.
    EXPECT_FALSE(report.result().data_error());
  }
  EXPECT_EQ(service_.registrations(), 1);
  EXPECT_EQ(loop->reports_answered(), 5);
  EXPECT_EQ(CounterValue(registry_, "tinynas_worker_trials_total", "succeeded"), 3);
  EXPECT_EQ(CounterValue(registry_, "tinynas_worker_trials_total", "failed"), 2);
}

TEST_F(WorkerLoopTest, ADataSetThatDoesNotLoadIsReportedAsADataError) {
  // A file gone since submit, a label the submitted summary lacks, a shape
  // unlike the spec's; then a good trial, which the worker still runs.
  v1::TrialTask missing = EcgTask(1, 1);
  missing.mutable_dataset()->set_train_path(testing::TempDir() + "/gone.tsv.gz");
  v1::TrialTask unknown_label = EcgTask(2, 1);
  unknown_label.mutable_dataset()->mutable_summary()->set_class_names(4, "6");
  v1::TrialTask wrong_shape = EcgTask(3, 1);
  wrong_shape.mutable_dataset()->mutable_input_shape()->set_dims(1, 150);
  for (const v1::TrialTask* task : {&missing, &unknown_label, &wrong_shape}) {
    service_.AddTask(*task);
  }
  service_.AddTask(EcgTask(4, 1));
  auto loop = MakeLoop(1, absl::Milliseconds(300));
  NAS_ASSERT_OK(loop->Run());
  const std::vector<v1::ReportTrialRequest> reports = service_.reports();
  ASSERT_EQ(reports.size(), 4u);
  for (const v1::ReportTrialRequest& report : reports) {
    const v1::TrialResult& result = report.result();
    if (report.trial_id() == 4) {
      EXPECT_TRUE(result.has_metrics()) << result.failure_reason();
      EXPECT_FALSE(result.data_error());
      continue;
    }
    EXPECT_FALSE(result.has_metrics());
    EXPECT_TRUE(result.data_error()) << report.trial_id();
    EXPECT_THAT(result.failure_reason(), ::testing::StartsWith("data set: "));
  }
  EXPECT_THAT(reports[0].result().failure_reason(), HasSubstr("gone.tsv.gz"));
  EXPECT_THAT(reports[1].result().failure_reason(),
              ::testing::AllOf(HasSubstr("ECG5000_TRAIN"), HasSubstr("label '5'")));
  EXPECT_THAT(reports[2].result().failure_reason(),
              HasSubstr("dataset.input_shape says {1,150}"));
  EXPECT_EQ(CounterValue(registry_, "tinynas_worker_trials_total", "failed"), 3);
}

TEST_F(WorkerLoopTest, GoesOnWithTheTaskItsReportBrings) {
  for (int id = 1; id <= 4; ++id) service_.AddTask(EcgTask(id, 1));
  auto loop = MakeLoop(1, absl::Milliseconds(300));
  NAS_ASSERT_OK(loop->Run());
  const std::vector<v1::ReportTrialRequest> reports = service_.reports();
  ASSERT_EQ(reports.size(), 4u);
  for (size_t i = 0; i < reports.size(); ++i) {
    EXPECT_EQ(reports[i].trial_id(), static_cast<int64_t>(i + 1));
    EXPECT_EQ(reports[i].lease_id(), "lease-" + std::to_string(i + 1));
    EXPECT_EQ(reports[i].lease_next(), 1);  // One slot: its next trial.
    EXPECT_TRUE(reports[i].result().has_metrics()) << reports[i].result().failure_reason();
  }
  // The first task came by LeaseTrial, the other three with the reports.
  EXPECT_EQ(service_.tasks_with_reports(), 3);
  EXPECT_EQ(CounterValue(registry_, "tinynas_worker_trials_total", "succeeded"), 4);
}

TEST_F(WorkerLoopTest, KeepsTheResultUntilTheReportIsAccepted) {
  service_.AddTask(EcgTask(1, 1));
  service_.FailReports(3);
  auto loop = MakeLoop(1, absl::Milliseconds(300));
  NAS_ASSERT_OK(loop->Run());
  EXPECT_EQ(service_.report_calls(), 4);
  ASSERT_EQ(service_.reports().size(), 1u);
  EXPECT_TRUE(service_.reports()[0].result().has_metrics());
  // Repeats ask for the next task as the first attempt did: a lost answer
  // may have carried one, and the controller answers the repeat with it.
  EXPECT_EQ(service_.reports()[0].lease_next(), 1);
  EXPECT_EQ(CounterValue(registry_, "tinynas_worker_report_retries_total", ""), 3);
}

TEST_F(WorkerLoopTest, ReRegistersAndDeliversTheResultAfterAControllerRestart) {
  service_.AddTask(LongTask(1, 3));
  auto loop = MakeLoop(1, absl::Milliseconds(500));
  std::thread run([&] { NAS_EXPECT_OK(loop->Run()); });
  ASSERT_TRUE(service_.WaitForProgress("lease-1", absl::Seconds(30)));
  // The controller goes away while the trial trains (heartbeats, and maybe
  // the report, fail with UNAVAILABLE) ...
  const std::string address = server_.address();
  const int port = std::stoi(address.substr(address.rfind(':') + 1));
  server_.Stop();
  absl::SleepFor(absl::Milliseconds(300));
  // ... and comes back at the same address without knowing worker 1.
  FakeWorkerService restarted(/*first_worker_id=*/100);
  FakeControllerServer server2(&restarted);
  server2.Start(port);
  run.join();  // The trial ends, is reported, then the loop idles out.
  ASSERT_EQ(restarted.reports().size(), 1u);
  EXPECT_EQ(restarted.reports()[0].worker_id(), 100);
  EXPECT_EQ(restarted.reports()[0].trial_id(), 1);
  EXPECT_TRUE(restarted.reports()[0].result().has_metrics());
  EXPECT_EQ(restarted.registrations(), 1);
}

TEST_F(WorkerLoopTest, VerdictStopsTheTrialWithoutAReport) {
  service_.AddTask(LongTask(1, 50));
  service_.StopLease("lease-1");
  auto loop = MakeLoop(1, absl::Milliseconds(300));
  const absl::Time start = absl::Now();
  NAS_ASSERT_OK(loop->Run());
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));  // 50 epochs take ~25 s.
  EXPECT_GE(service_.leases_in_heartbeats(), 1);
  EXPECT_TRUE(service_.reports().empty());
  EXPECT_EQ(CounterValue(registry_, "tinynas_worker_trials_total", "cancelled"), 1);
}

TEST_F(WorkerLoopTest, HeartbeatsCarryOnlyLeasesOlderThanAnInterval) {
  // The fake's interval is 50 ms; each trial lasts ~0.5 s an epoch, so
  // every lease is old enough for several heartbeats before it ends.
  for (int id = 1; id <= 3; ++id) service_.AddTask(LongTask(id, 1));
  auto loop = MakeLoop(1, absl::Milliseconds(300));
  NAS_ASSERT_OK(loop->Run());
  ASSERT_EQ(service_.reports().size(), 3u);
  EXPECT_GE(service_.leases_in_heartbeats(), 3);
  // Measured from the hand-out, which precedes the worker's own clock.
  EXPECT_GE(service_.youngest_lease_in_heartbeats(), absl::Milliseconds(50));
}

TEST_F(WorkerLoopTest, ShutdownAbandonsRunningTrialsAndReturns) {
  service_.AddTask(LongTask(1, 50));
  auto loop = MakeLoop(1, absl::ZeroDuration());  // Never exits by itself.
  std::thread run([&] { NAS_EXPECT_OK(loop->Run()); });
  ASSERT_TRUE(service_.WaitForProgress("lease-1", absl::Seconds(30)));
  const absl::Time start = absl::Now();
  loop->RequestShutdown();
  run.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_TRUE(service_.reports().empty());  // Abandoned: the lease will expire.
}

TEST_F(WorkerLoopTest, RefusedRegistrationEndsTheLoopWithTheError) {
  auto loop = MakeLoop(1, absl::Seconds(5), /*name=*/"");  // The fake refuses "".
  EXPECT_THAT(loop->Run(), ::nas::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                                    HasSubstr("RegisterWorker: bad registration")));
}

TEST_F(WorkerLoopTest, UnreachableControllerIsIdleAndExits) {
  server_.Stop();
  auto loop = MakeLoop(1, absl::Milliseconds(300));
  NAS_EXPECT_OK(loop->Run());
  EXPECT_EQ(loop->reports_answered(), 0);
}

TEST(RunWorkerTest, RejectsABadConfiguration) {
  WorkerConfig config;
  config.metrics_listen = "none";
  config.device = "gpu";
  EXPECT_THAT(RunWorker(config), ::nas::testing::StatusIs(
                                     absl::StatusCode::kInvalidArgument,
                                     HasSubstr("--device: unknown 'gpu'")));
  config.device = "cpu";
  config.slots = -1;
  EXPECT_THAT(RunWorker(config),
              ::nas::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                       HasSubstr("--slots: -1 < 0")));
  config.slots = 0;
  config.threads = -2;
  EXPECT_THAT(RunWorker(config),
              ::nas::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                       HasSubstr("--threads: -2 < 0")));
}

}  // namespace
}  // namespace nas::worker
