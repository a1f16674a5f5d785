#include "tests/worker/fake_worker_service.h"

#include <algorithm>

#include "common/logging.h"

namespace nas::worker::testing {

void FakeWorkerService::AddTask(const v1::TrialTask& task) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(task);
}

void FakeWorkerService::FailReports(int count) {
  absl::MutexLock lock(&mu_);
  failing_reports_ = count;
}

void FakeWorkerService::StopLease(const std::string& lease_id) {
  absl::MutexLock lock(&mu_);
  stopped_leases_.insert(lease_id);
}

std::vector<v1::ReportTrialRequest> FakeWorkerService::reports() const {
  absl::MutexLock lock(&mu_);
  return reports_;
}

int FakeWorkerService::report_calls() const {
  absl::MutexLock lock(&mu_);
  return report_calls_;
}

int FakeWorkerService::registrations() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(workers_.size());
}

int FakeWorkerService::leases_in_heartbeats() const {
  absl::MutexLock lock(&mu_);
  return leases_in_heartbeats_;
}

bool FakeWorkerService::WaitForProgress(const std::string& lease_id,
                                        absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto seen = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return progressed_leases_.contains(lease_id);
  };
  return mu_.AwaitWithTimeout(absl::Condition(&seen), timeout);
}

bool FakeWorkerService::KnownWorker(int64_t id) const { return workers_.contains(id); }

grpc::Status FakeWorkerService::RegisterWorker(grpc::ServerContext*,
                                               const v1::RegisterWorkerRequest* request,
                                               v1::RegisterWorkerResponse* response) {
  absl::MutexLock lock(&mu_);
  if (request->slots() < 1 || request->name().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad registration");
  }
  const int64_t id = next_worker_id_++;
  workers_.insert(id);
  response->set_worker_id(id);
  response->set_heartbeat_interval_ms(50);
  response->set_lease_ttl_ms(5000);
  return grpc::Status::OK;
}

grpc::Status FakeWorkerService::LeaseTrial(grpc::ServerContext*,
                                           const v1::LeaseTrialRequest* request,
                                           v1::LeaseTrialResponse* response) {
  absl::MutexLock lock(&mu_);
  if (!KnownWorker(request->worker_id())) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown worker");
  }
  for (int i = 0; i < request->free_slots() && !queue_.empty(); ++i) {
    HandOut(response->add_tasks());
  }
  return grpc::Status::OK;
}

grpc::Status FakeWorkerService::Heartbeat(grpc::ServerContext*,
                                          const v1::HeartbeatRequest* request,
                                          v1::HeartbeatResponse* response) {
  absl::MutexLock lock(&mu_);
  if (!KnownWorker(request->worker_id())) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown worker");
  }
  const absl::Time now = absl::Now();
  for (const v1::LeaseProgress& progress : request->leases()) {
    ++leases_in_heartbeats_;
    auto handed_out = handed_out_.find(progress.lease_id());
    if (handed_out != handed_out_.end()) {
      youngest_lease_in_heartbeats_ =
          std::min(youngest_lease_in_heartbeats_, now - handed_out->second);
    }
    if (progress.epoch() >= 1) progressed_leases_.insert(progress.lease_id());
    v1::LeaseVerdict* verdict = response->add_verdicts();
    verdict->set_lease_id(progress.lease_id());
    verdict->set_keep_going(!stopped_leases_.contains(progress.lease_id()));
  }
  return grpc::Status::OK;
}

grpc::Status FakeWorkerService::ReportTrial(grpc::ServerContext*,
                                            const v1::ReportTrialRequest* request,
                                            v1::ReportTrialResponse* response) {
  absl::MutexLock lock(&mu_);
  ++report_calls_;
  if (failing_reports_ > 0) {
    --failing_reports_;
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "database down");
  }
  if (!KnownWorker(request->worker_id())) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown worker");
  }
  reports_.push_back(*request);
  response->set_accepted(true);
  for (int i = 0; i < request->lease_next() && !queue_.empty(); ++i) {
    HandOut(response->add_tasks());
    ++tasks_with_reports_;
  }
  return grpc::Status::OK;
}

void FakeWorkerService::HandOut(v1::TrialTask* task) {
  *task = queue_.front();
  queue_.pop_front();
  handed_out_[task->lease_id()] = absl::Now();
}

absl::Duration FakeWorkerService::youngest_lease_in_heartbeats() const {
  absl::MutexLock lock(&mu_);
  return youngest_lease_in_heartbeats_;
}

int FakeWorkerService::tasks_with_reports() const {
  absl::MutexLock lock(&mu_);
  return tasks_with_reports_;
}

int FakeControllerServer::Start(int port) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:" + std::to_string(port),
                           grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(service_);
  server_ = builder.BuildAndStart();
  CHECK(server_ != nullptr && port_ > 0) << "cannot listen on port " << port;
  return port_;
}

void FakeControllerServer::Stop() {
  if (server_ == nullptr) return;
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(100));
  server_->Wait();
  server_.reset();
}

}  // namespace nas::worker::testing
