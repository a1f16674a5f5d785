// The gRPC adapter: the one worker file that sees grpc:: types.
#include "worker/controller_client.h"

#include <chrono>
#include <utility>

#include "common/grpc_status.h"
#include "grpcpp/grpcpp.h"
#include "proto/nas.grpc.pb.h"

namespace nas::worker {
namespace {

// gRPC waits up to two minutes between reconnection attempts of a channel
// that keeps failing (a controller down for a while); calls fail at once
// meanwhile. Capped at 1 s, a worker reaches a restarted controller within
// about a second instead of after its channel's backoff (given the backup
// poll interval that worker/main.cc sets).
grpc::ChannelArguments ChannelArgs() {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  return args;
}

class GrpcControllerClient : public ControllerClient {
 public:
  GrpcControllerClient(const std::string& target,
                       const std::shared_ptr<grpc::ChannelCredentials>& credentials,
                       absl::Duration rpc_timeout)
      : stub_(v1::WorkerService::NewStub(
            grpc::CreateCustomChannel(target, credentials, ChannelArgs()))),
        rpc_timeout_(rpc_timeout) {}

  absl::StatusOr<v1::RegisterWorkerResponse> RegisterWorker(
      const v1::RegisterWorkerRequest& request) override {
    return Call(&v1::WorkerService::Stub::RegisterWorker, request);
  }
  absl::StatusOr<v1::LeaseTrialResponse> LeaseTrial(
      const v1::LeaseTrialRequest& request) override {
    return Call(&v1::WorkerService::Stub::LeaseTrial, request);
  }
  absl::StatusOr<v1::HeartbeatResponse> Heartbeat(
      const v1::HeartbeatRequest& request) override {
    return Call(&v1::WorkerService::Stub::Heartbeat, request);
  }
  absl::StatusOr<v1::ReportTrialResponse> ReportTrial(
      const v1::ReportTrialRequest& request) override {
    return Call(&v1::WorkerService::Stub::ReportTrial, request);
  }

 private:
  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(
      grpc::Status (v1::WorkerService::Stub::*method)(grpc::ClientContext*,
                                                      const Request&, Response*),
      const Request& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         absl::ToChronoMilliseconds(rpc_timeout_));
    Response response;
    const grpc::Status status = (stub_.get()->*method)(&context, request, &response);
    if (!status.ok()) return FromGrpcStatus(status);
    return response;
  }

  std::unique_ptr<v1::WorkerService::Stub> stub_;
  const absl::Duration rpc_timeout_;
};

}  // namespace

std::unique_ptr<ControllerClient> NewGrpcControllerClient(
    const std::string& target,
    const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    absl::Duration rpc_timeout) {
  return std::make_unique<GrpcControllerClient>(target, credentials, rpc_timeout);
}

}  // namespace nas::worker
