#ifndef NAS_WORKER_CONTROLLER_CLIENT_H_
#define NAS_WORKER_CONTROLLER_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/security/credentials.h"
#include "proto/nas.pb.h"

namespace nas::worker {

// The worker's view of the controller's WorkerService. The loop (and its
// tests) code against this interface; only controller_client.cc knows gRPC.
//
// Every call returns the RPC's status mapped to absl codes: kUnavailable or
// kDeadlineExceeded when the controller cannot be reached in time (retry),
// kNotFound when it does not know this worker id (register again), and the
// controller's own codes otherwise. Implementations are thread-safe.
class ControllerClient {
 public:
  virtual ~ControllerClient() = default;

  virtual absl::StatusOr<v1::RegisterWorkerResponse> RegisterWorker(
      const v1::RegisterWorkerRequest& request) = 0;
  virtual absl::StatusOr<v1::LeaseTrialResponse> LeaseTrial(
      const v1::LeaseTrialRequest& request) = 0;
  virtual absl::StatusOr<v1::HeartbeatResponse> Heartbeat(
      const v1::HeartbeatRequest& request) = 0;
  virtual absl::StatusOr<v1::ReportTrialResponse> ReportTrial(
      const v1::ReportTrialRequest& request) = 0;
};

// A ControllerClient over a gRPC channel to `target` ("host:port") with
// `credentials` (TLS with the worker's client certificate, or plain text).
// Every call carries a deadline of `rpc_timeout`. The channel connects lazily
// and reconnects by itself, so a controller that restarts is reached again.
std::unique_ptr<ControllerClient> NewGrpcControllerClient(
    const std::string& target,
    const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    absl::Duration rpc_timeout);

}  // namespace nas::worker

#endif  // NAS_WORKER_CONTROLLER_CLIENT_H_
