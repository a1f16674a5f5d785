#include "controller/worker_service.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "controller/rpc_util.h"

namespace nas::controller {
namespace {

constexpr size_t kMaxWorkerNameLength = 200;
constexpr size_t kMaxDeviceLength = 64;
constexpr size_t kMaxLeaseIdLength = 64;
constexpr int kMaxSlots = 256;

absl::Status CheckSlots(absl::string_view field, int value, int min) {
  if (value >= min && value <= kMaxSlots) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      field, " must be in [", min, ", ", kMaxSlots, "], got ", value));
}

absl::Status CheckLeaseId(const std::string& lease_id) {
  return CheckText("lease_id", lease_id, kMaxLeaseIdLength, /*required=*/true);
}

// A worker's progress figures: finite, not negative (remaining -1 =
// unknown), and no more than its own totals.
absl::Status CheckProgress(const v1::LeaseProgress& lease) {
  if (!lease.has_progress()) return absl::OkStatus();
  const v1::TrialProgress& p = lease.progress();
  std::vector<std::string> problems;
  auto check = [&](absl::string_view field, double value, double min) {
    if (!std::isfinite(value) || value < min) {
      problems.push_back(absl::StrCat("progress.", field, ": ", value));
    }
  };
  check("epoch", p.epoch(), 0);
  check("epochs", p.epochs(), 0);
  check("batches_done", static_cast<double>(p.batches_done()), 0);
  check("batches_per_epoch", static_cast<double>(p.batches_per_epoch()), 0);
  check("loss", p.loss(), 0);
  check("samples_per_second", p.samples_per_second(), 0);
  check("elapsed_seconds", p.elapsed_seconds(), 0);
  check("remaining_seconds", p.remaining_seconds(), -1);
  if (p.epoch() > p.epochs()) problems.push_back("progress.epoch > epochs");
  if (p.batches_done() > p.batches_per_epoch()) {
    problems.push_back("progress.batches_done > batches_per_epoch");
  }
  if (!v1::TrialProgress::Phase_IsValid(p.phase())) {
    problems.push_back(absl::StrCat("progress.phase: unknown ", p.phase()));
  }
  if (p.trial_id() != 0 || p.trial_number() != 0 || !p.worker().empty() ||
      p.updated_unix_ms() != 0) {
    problems.push_back("progress: trial_id, trial_number, worker and "
                       "updated_unix_ms are the controller's to set");
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "lease ", lease.lease_id(), ": ", absl::StrJoin(problems, "; ")));
}

}  // namespace

grpc::ServerUnaryReactor* WorkerServiceImpl::RegisterWorker(
    grpc::CallbackServerContext* context,
    const v1::RegisterWorkerRequest* request,
    v1::RegisterWorkerResponse* reply) {
  return ServeUnaryOn(&executor_, context, metrics_, "RegisterWorker",
                      [this, request, reply]() -> absl::Status {
    NAS_RETURN_IF_ERROR(CheckText("name", request->name(), kMaxWorkerNameLength,
                                  /*required=*/true));
    NAS_RETURN_IF_ERROR(CheckText("device", request->device(), kMaxDeviceLength,
                                  /*required=*/true));
    NAS_RETURN_IF_ERROR(CheckSlots("slots", request->slots(), 1));
    if (request->memory_bytes() < 0) {
      return absl::InvalidArgumentError("memory_bytes must be >= 0");
    }
    NAS_ASSIGN_OR_RETURN(int64_t id,
                         dispatcher_->RegisterWorker(
                             {0, request->name(), request->device(),
                              request->slots(), request->memory_bytes()}));
    reply->set_worker_id(id);
    const DispatcherOptions& options = dispatcher_->options();
    reply->set_heartbeat_interval_ms(static_cast<int32_t>(
        absl::ToInt64Milliseconds(options.heartbeat_interval)));
    reply->set_lease_ttl_ms(
        static_cast<int32_t>(absl::ToInt64Milliseconds(options.lease_ttl)));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* WorkerServiceImpl::LeaseTrial(
    grpc::CallbackServerContext* context, const v1::LeaseTrialRequest* request,
    v1::LeaseTrialResponse* reply) {
  return ServeUnaryOn(&executor_, context, metrics_, "LeaseTrial",
                      [this, request, reply]() -> absl::Status {
    NAS_RETURN_IF_ERROR(CheckPositiveId("worker_id", request->worker_id()));
    NAS_RETURN_IF_ERROR(CheckSlots("free_slots", request->free_slots(), 0));
    NAS_ASSIGN_OR_RETURN(
        std::vector<v1::TrialTask> tasks,
        dispatcher_->Lease(request->worker_id(), request->free_slots()));
    for (v1::TrialTask& task : tasks) *reply->add_tasks() = std::move(task);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* WorkerServiceImpl::Heartbeat(
    grpc::CallbackServerContext* context, const v1::HeartbeatRequest* request,
    v1::HeartbeatResponse* reply) {
  return ServeUnaryOn(&executor_, context, metrics_, "Heartbeat",
                      [this, request, reply]() -> absl::Status {
    NAS_RETURN_IF_ERROR(CheckPositiveId("worker_id", request->worker_id()));
    if (request->leases_size() > kMaxSlots) {
      return absl::InvalidArgumentError(absl::StrCat(
          "leases: ", request->leases_size(), ", at most ", kMaxSlots));
    }
    std::vector<std::string> lease_ids;
    std::vector<const v1::TrialProgress*> progress;
    for (const v1::LeaseProgress& lease : request->leases()) {
      NAS_RETURN_IF_ERROR(CheckLeaseId(lease.lease_id()));
      NAS_RETURN_IF_ERROR(CheckProgress(lease));
      lease_ids.push_back(lease.lease_id());
      progress.push_back(lease.has_progress() ? &lease.progress() : nullptr);
    }
    NAS_ASSIGN_OR_RETURN(
        std::vector<v1::LeaseVerdict> verdicts,
        dispatcher_->Heartbeat(request->worker_id(), lease_ids, progress));
    for (v1::LeaseVerdict& v : verdicts) *reply->add_verdicts() = std::move(v);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* WorkerServiceImpl::ReportTrial(
    grpc::CallbackServerContext* context, const v1::ReportTrialRequest* request,
    v1::ReportTrialResponse* reply) {
  return ServeUnaryOn(&executor_, context, metrics_, "ReportTrial",
                      [this, request, reply]() -> absl::Status {
    NAS_RETURN_IF_ERROR(CheckPositiveId("worker_id", request->worker_id()));
    NAS_RETURN_IF_ERROR(CheckPositiveId("trial_id", request->trial_id()));
    NAS_RETURN_IF_ERROR(CheckLeaseId(request->lease_id()));
    if (!request->has_result()) {
      return absl::InvalidArgumentError("result is required");
    }
    if (request->result().data_error() &&
        !request->result().has_failure_reason()) {
      return absl::InvalidArgumentError(
          "result.data_error: needs failure_reason (what is wrong with the "
          "data)");
    }
    NAS_RETURN_IF_ERROR(CheckSlots("lease_next", request->lease_next(), 0));
    NAS_ASSIGN_OR_RETURN(
        ReportAck ack,
        dispatcher_->Report(request->worker_id(), request->lease_id(),
                            request->trial_id(), request->result(),
                            request->lease_next()));
    reply->set_accepted(ack.accepted);
    reply->set_detail(std::move(ack.detail));
    for (v1::TrialTask& task : ack.tasks) *reply->add_tasks() = std::move(task);
    return absl::OkStatus();
  });
}

}  // namespace nas::controller
