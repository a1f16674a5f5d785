#ifndef NAS_TESTS_INTEGRATION_CONTROLLER_FIXTURE_H_
#define NAS_TESTS_INTEGRATION_CONTROLLER_FIXTURE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/server.h"
#include "controller/store/pg_trial_store.h"
#include "grpcpp/channel.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "proto/nas.grpc.pb.h"
#include "tests/fakes/fake_clock.h"

namespace nas::testing {

// A real controller (PgTrialStore on a fresh database of the test cluster,
// ControllerServer on 127.0.0.1:0) driven by a FakeClock, with real gRPC
// clients. Tests act as users (SearchService) and as workers
// (WorkerService), reporting synthetic but plausible metrics.
class ControllerFixture : public ::testing::Test {
 protected:
  static constexpr absl::Duration kLeaseTtl = absl::Seconds(10);

  void SetUp() override;
  void TearDown() override;

  // Starts (again) a controller on the fixture's database.
  void StartServer();
  void StopServer();

  // SearchService.
  absl::StatusOr<v1::Search> Submit(const std::string& yaml);
  absl::StatusOr<v1::Search> GetSearch(int64_t search_id);
  absl::StatusOr<std::vector<v1::Trial>> ListTrials(
      int64_t search_id, v1::TrialState state = v1::TRIAL_STATE_UNSPECIFIED);
  // Polls GetSearch until `done` holds (fails the test after `timeout`).
  v1::Search WaitForSearch(int64_t search_id,
                           const std::function<bool(const v1::Search&)>& done,
                           absl::Duration timeout = absl::Seconds(20));

  // WorkerService.
  int64_t RegisterWorker(const std::string& name, int slots);
  absl::StatusOr<std::vector<v1::TrialTask>> Lease(int64_t worker_id,
                                                   int free_slots);
  // Polls LeaseTrial until it returns a task (the queue fills
  // asynchronously); fails the test after `timeout`.
  v1::TrialTask LeaseOne(int64_t worker_id,
                         absl::Duration timeout = absl::Seconds(20));
  absl::StatusOr<v1::HeartbeatResponse> Heartbeat(
      int64_t worker_id, const std::vector<std::string>& lease_ids);
  // `lease_next`: tasks to lease with the answer.
  absl::StatusOr<v1::ReportTrialResponse> Report(int64_t worker_id,
                                                 const v1::TrialTask& task,
                                                 const v1::TrialResult& result,
                                                 int lease_next = 0);

  // Acts as a worker with `slots` slots until the search ends: leases, and
  // reports `result(task)` for every task. Returns the ended search.
  v1::Search DriveSearch(
      int64_t search_id, int64_t worker_id, int slots,
      const std::function<v1::TrialResult(const v1::TrialTask&)>& result);

  // What a worker would send after training `task`: plausible metrics and
  // some model bytes (binary, with NULs) unique to the trial.
  static v1::TrialResult Plausible(const v1::TrialTask& task, double accuracy);
  static std::string ModelBytes(int64_t trial_id);

  // Runs a single-value SQL query on the fixture's database.
  int64_t Count(const std::string& sql);

  // Moves the fake clock and runs one scheduler round.
  void AdvanceAndTick(absl::Duration d);

  FakeClock clock_;
  prometheus::Registry registry_;
  std::string uri_;
  std::unique_ptr<controller::PgTrialStore> store_;
  std::unique_ptr<controller::ControllerServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::SearchService::Stub> search_;
  std::unique_ptr<v1::WorkerService::Stub> worker_;
};

}  // namespace nas::testing

#endif  // NAS_TESTS_INTEGRATION_CONTROLLER_FIXTURE_H_
