#ifndef NAS_TESTS_WORKER_FAKE_WORKER_SERVICE_H_
#define NAS_TESTS_WORKER_FAKE_WORKER_SERVICE_H_

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "proto/nas.grpc.pb.h"

namespace nas::worker::testing {

// An in-test WorkerService for unit-testing the worker's client loop: it
// hands out queued tasks (on LeaseTrial, and on ReportTrial as lease_next
// asks), records heartbeats and reports, and can refuse
// reports with UNAVAILABLE, stop leases through verdicts, or not know a
// worker id (NOT_FOUND), as a restarted controller would. Not a controller:
// no store, no scheduling. Thread-safe (gRPC calls it from its threads).
class FakeWorkerService final : public v1::WorkerService::Service {
 public:
  // Worker ids start at `first_worker_id` (a restarted fake uses another).
  explicit FakeWorkerService(int64_t first_worker_id = 1)
      : next_worker_id_(first_worker_id) {}

  void AddTask(const v1::TrialTask& task);
  // The next `count` ReportTrial calls fail with UNAVAILABLE.
  void FailReports(int count);
  // Heartbeats answer keep_going=false for this lease.
  void StopLease(const std::string& lease_id);

  std::vector<v1::ReportTrialRequest> reports() const;
  int report_calls() const;
  // Tasks handed out in ReportTrial answers (as asked by lease_next).
  int tasks_with_reports() const;
  int registrations() const;
  int leases_in_heartbeats() const;  // LeaseProgress entries seen.
  // The least age (since it was handed out) of a lease in a heartbeat;
  // infinite when none came.
  absl::Duration youngest_lease_in_heartbeats() const;
  // Blocks until a heartbeat carried progress (epoch >= 1, i.e. at least one
  // training step) for `lease_id`; false after `timeout`.
  bool WaitForProgress(const std::string& lease_id, absl::Duration timeout);

  grpc::Status RegisterWorker(grpc::ServerContext*, const v1::RegisterWorkerRequest*,
                              v1::RegisterWorkerResponse*) override;
  grpc::Status LeaseTrial(grpc::ServerContext*, const v1::LeaseTrialRequest*,
                          v1::LeaseTrialResponse*) override;
  grpc::Status Heartbeat(grpc::ServerContext*, const v1::HeartbeatRequest*,
                         v1::HeartbeatResponse*) override;
  grpc::Status ReportTrial(grpc::ServerContext*, const v1::ReportTrialRequest*,
                           v1::ReportTrialResponse*) override;

 private:
  bool KnownWorker(int64_t id) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves the queue's first task into `task`, noting when.
  void HandOut(v1::TrialTask* task) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  int64_t next_worker_id_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<int64_t> workers_ ABSL_GUARDED_BY(mu_);
  std::deque<v1::TrialTask> queue_ ABSL_GUARDED_BY(mu_);
  int failing_reports_ ABSL_GUARDED_BY(mu_) = 0;
  int report_calls_ ABSL_GUARDED_BY(mu_) = 0;
  int tasks_with_reports_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_set<std::string> stopped_leases_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> progressed_leases_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::ReportTrialRequest> reports_ ABSL_GUARDED_BY(mu_);
  int leases_in_heartbeats_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, absl::Time> handed_out_ ABSL_GUARDED_BY(mu_);
  absl::Duration youngest_lease_in_heartbeats_ ABSL_GUARDED_BY(mu_) =
      absl::InfiniteDuration();
};

// A real gRPC server for a FakeWorkerService on 127.0.0.1. Start(0) picks a
// free port; Start(port) reuses one (a controller restarting at its address).
class FakeControllerServer {
 public:
  explicit FakeControllerServer(FakeWorkerService* service) : service_(service) {}
  ~FakeControllerServer() { Stop(); }

  int Start(int port);
  void Stop();
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  FakeWorkerService* service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace nas::worker::testing

#endif  // NAS_TESTS_WORKER_FAKE_WORKER_SERVICE_H_
