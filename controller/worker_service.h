#ifndef NAS_CONTROLLER_WORKER_SERVICE_H_
#define NAS_CONTROLLER_WORKER_SERVICE_H_

#include "controller/controller_metrics.h"
#include "controller/rpc_executor.h"
#include "controller/trial_dispatcher.h"
#include "proto/nas.grpc.pb.h"

namespace nas::controller {

// nas.v1.WorkerService on the gRPC callback API. Only translates: checks
// ids and sizes (INVALID_ARGUMENT), calls the dispatcher and maps statuses.
// The dispatcher blocks on the database (and a report on its group
// commit), so the calls run on threads of the service's own RpcExecutor.
// Thread-safe; borrows the dispatcher and metrics, which must outlive the
// server. Destroy it after the server has shut down.
class WorkerServiceImpl : public v1::WorkerService::CallbackService {
 public:
  WorkerServiceImpl(TrialDispatcher* dispatcher, ControllerMetrics* metrics)
      : dispatcher_(dispatcher), metrics_(metrics), executor_(kThreads) {}

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
  // Calls handled at once: enough for the database connections and the
  // reports waiting for a group commit.
  static constexpr int kThreads = 48;

  TrialDispatcher* const dispatcher_;
  ControllerMetrics* const metrics_;
  RpcExecutor executor_;
};

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_WORKER_SERVICE_H_
