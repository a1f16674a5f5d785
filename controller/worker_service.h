#ifndef NAS_CONTROLLER_WORKER_SERVICE_H_
#define NAS_CONTROLLER_WORKER_SERVICE_H_

#include "controller/controller_metrics.h"
#include "controller/trial_dispatcher.h"
#include "proto/nas.grpc.pb.h"

namespace nas::controller {

// nas.v1.WorkerService on the gRPC callback API. Only translates: checks
// ids and sizes (INVALID_ARGUMENT), calls the dispatcher and maps statuses.
// Thread-safe; borrows the dispatcher and metrics, which must outlive the
// server.
class WorkerServiceImpl : public v1::WorkerService::CallbackService {
 public:
  WorkerServiceImpl(TrialDispatcher* dispatcher, ControllerMetrics* metrics)
      : dispatcher_(dispatcher), metrics_(metrics) {}

  grpc::ServerUnaryReactor* RegisterWorker(
      grpc::CallbackServerContext* context,
      const v1::RegisterWorkerRequest* request,
      v1::RegisterWorkerResponse* reply) override;
  grpc::ServerUnaryReactor* LeaseTrial(grpc::CallbackServerContext* context,
                                       const v1::LeaseTrialRequest* request,
                                       v1::LeaseTrialResponse* reply) override;
  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* context,
                                      const v1::HeartbeatRequest* request,
                                      v1::HeartbeatResponse* reply) override;
  grpc::ServerUnaryReactor* ReportTrial(
      grpc::CallbackServerContext* context,
      const v1::ReportTrialRequest* request,
      v1::ReportTrialResponse* reply) override;

 private:
  TrialDispatcher* const dispatcher_;
  ControllerMetrics* const metrics_;
};

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_WORKER_SERVICE_H_
