// Misbehaving reports against the real nas-controller binary: the test acts
// as two workers over gRPC (generated stubs), reports a trial twice and
// reports for a lease that expired and was handed to the other worker. Each
// is answered accepted=false and leaves the stored trial as it was.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/e2e/fault_fixture.h"
#include "tests/status_matchers.h"

namespace nas::testing {
namespace {

using ::testing::HasSubstr;

class ReportFaultTest : public FaultTest {
 protected:
  void SetUp() override {
    FaultTest::SetUp();
    lease_ttl_ms_ = 1000;
    ASSERT_NO_FATAL_FAILURE(StartController());
    stub_ = v1::WorkerService::NewStub(
        grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
  }

  template <typename Request, typename Response>
  Response Call(grpc::Status (v1::WorkerService::Stub::*method)(
                    grpc::ClientContext*, const Request&, Response*),
                const Request& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
    Response response;
    const grpc::Status status = (stub_.get()->*method)(&context, request,
                                                       &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  int64_t Register(const std::string& name) {
    v1::RegisterWorkerRequest request;
    request.set_name(name);
    request.set_device("cpu");
    request.set_slots(2);
    return Call(&v1::WorkerService::Stub::RegisterWorker, request).worker_id();
  }

  // Leases one task (polling: the queue fills asynchronously); keeps the
  // leases in `held` alive meanwhile.
  v1::TrialTask LeaseOne(int64_t worker,
                         const std::vector<v1::TrialTask>& held = {}) {
    v1::LeaseTrialRequest request;
    request.set_worker_id(worker);
    request.set_free_slots(1);
    v1::TrialTask task;
    EXPECT_TRUE(WaitUntil(
        [&] {
          Beat(worker, held);
          v1::LeaseTrialResponse r =
              Call(&v1::WorkerService::Stub::LeaseTrial, request);
          if (r.tasks().empty()) return false;
          task = r.tasks(0);
          return true;
        },
        absl::Seconds(20)))
        << "worker " << worker << " leased nothing";
    return task;
  }

  v1::HeartbeatResponse Beat(int64_t worker,
                             const std::vector<v1::TrialTask>& tasks) {
    v1::HeartbeatRequest request;
    request.set_worker_id(worker);
    for (const v1::TrialTask& t : tasks) {
      request.add_leases()->set_lease_id(t.lease_id());
    }
    return Call(&v1::WorkerService::Stub::Heartbeat, request);
  }

  v1::ReportTrialResponse Report(int64_t worker, const v1::TrialTask& task,
                                 double accuracy) {
    v1::ReportTrialRequest request;
    request.set_worker_id(worker);
    request.set_lease_id(task.lease_id());
    request.set_trial_id(task.trial_id());
    v1::Metrics* m = request.mutable_result()->mutable_metrics();
    m->set_accuracy(accuracy);
    m->set_macro_f1(accuracy);
    m->set_epochs_run(1);
    return Call(&v1::WorkerService::Stub::ReportTrial, request);
  }

  std::unique_ptr<v1::WorkerService::Stub> stub_;
};

TEST_F(ReportFaultTest, SecondReportAndStaleLeaseReportChangeNothing) {
  FaultSpec spec;
  spec.name = "report-faults";
  spec.max_trials = 4;
  NAS_ASSERT_OK_AND_ASSIGN(v1::Search search, Submit(FaultSpecYaml(spec)));
  const int64_t a = Register("report-a");
  const int64_t b = Register("report-b");

  // A worker that reports twice: the second report is refused.
  const v1::TrialTask first = LeaseOne(a);
  v1::ReportTrialResponse ack = Report(a, first, 0.75);
  ASSERT_TRUE(ack.accepted()) << ack.detail();
  const std::string stored = TrialJson(first.trial_id());
  ack = Report(a, first, 0.25);
  EXPECT_FALSE(ack.accepted());
  EXPECT_THAT(ack.detail(), HasSubstr("duplicate report"));
  EXPECT_EQ(TrialJson(first.trial_id()), stored);

  // A worker that stops heart-beating: its lease expires, the trial goes to
  // b, and a's report for the old lease is refused.
  const v1::TrialTask lost = LeaseOne(a);
  std::vector<v1::TrialTask> b_tasks;
  v1::TrialTask handed;
  while (handed.trial_id() != lost.trial_id()) {
    const v1::TrialTask t = LeaseOne(b, b_tasks);
    ASSERT_NE(t.trial_id(), 0);
    if (t.trial_id() == lost.trial_id()) {
      handed = t;
    } else {
      b_tasks.push_back(t);
    }
  }
  EXPECT_EQ(handed.attempt(), 2);
  EXPECT_NE(handed.lease_id(), lost.lease_id());
  const v1::HeartbeatResponse a_beat = Beat(a, {lost});
  ASSERT_EQ(a_beat.verdicts_size(), 1);
  EXPECT_FALSE(a_beat.verdicts(0).keep_going()) << "the old lease lives on";
  const std::string running = TrialJson(lost.trial_id());
  ack = Report(a, lost, 0.5);
  EXPECT_FALSE(ack.accepted());
  EXPECT_THAT(ack.detail(), HasSubstr("stale report"));
  EXPECT_EQ(TrialJson(lost.trial_id()), running);
  // Nor may the worker that lost the lease report under the new one.
  ack = Report(a, handed, 0.5);
  EXPECT_FALSE(ack.accepted());
  EXPECT_EQ(TrialJson(lost.trial_id()), running);

  ack = Report(b, handed, 0.625);
  EXPECT_TRUE(ack.accepted()) << ack.detail();
  const TrialRow row = Trial(lost.trial_id());
  EXPECT_EQ(row.state, v1::TRIAL_SUCCEEDED);
  EXPECT_EQ(row.worker, "report-b");
  EXPECT_EQ(row.attempts, 2);
  for (const v1::TrialTask& t : b_tasks) {
    EXPECT_TRUE(Report(b, t, 0.5).accepted());
  }
  // b finishes the search.
  v1::LeaseTrialRequest lease;
  lease.set_worker_id(b);
  lease.set_free_slots(1);
  EXPECT_TRUE(WaitUntil(
      [&] {
        for (const v1::TrialTask& t :
             Call(&v1::WorkerService::Stub::LeaseTrial, lease).tasks()) {
          EXPECT_TRUE(Report(b, t, 0.5).accepted());
        }
        absl::StatusOr<v1::Search> now = GetSearch(search.id());
        return now.ok() && now->state() != v1::SEARCH_RUNNING;
      },
      absl::Seconds(30)));
  Accounting accounting{spec.max_trials};
  accounting.leases_logged_exactly = false;  // No worker logs: the test is
  accounting.reports_logged = false;         // the worker.
  ExpectEveryTrialAccountedFor(search.id(), accounting);
}

}  // namespace
}  // namespace nas::testing
