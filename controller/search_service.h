#ifndef NAS_CONTROLLER_SEARCH_SERVICE_H_
#define NAS_CONTROLLER_SEARCH_SERVICE_H_

#include "controller/controller_metrics.h"
#include "controller/scheduler.h"
#include "controller/search_queries.h"
#include "controller/watch_hub.h"
#include "proto/nas.grpc.pb.h"

namespace nas::controller {

// nas.v1.SearchService on the gRPC callback API. Only translates: checks
// request sizes and ids (INVALID_ARGUMENT), calls the scheduler, queries or
// watch hub, and maps statuses. Thread-safe; borrows everything, which must
// outlive the server.
class SearchServiceImpl : public v1::SearchService::CallbackService {
 public:
  SearchServiceImpl(Scheduler* scheduler, SearchQueries* queries,
                    WatchHub* watch_hub, ControllerMetrics* metrics)
      : scheduler_(scheduler),
        queries_(queries),
        watch_hub_(watch_hub),
        metrics_(metrics) {}

  grpc::ServerUnaryReactor* SubmitSearch(grpc::CallbackServerContext* context,
                                         const v1::SubmitSearchRequest* request,
                                         v1::Search* reply) override;
  grpc::ServerUnaryReactor* GetSearch(grpc::CallbackServerContext* context,
                                      const v1::GetSearchRequest* request,
                                      v1::Search* reply) override;
  grpc::ServerUnaryReactor* ListSearches(
      grpc::CallbackServerContext* context,
      const v1::ListSearchesRequest* request,
      v1::ListSearchesResponse* reply) override;
  grpc::ServerUnaryReactor* CancelSearch(grpc::CallbackServerContext* context,
                                         const v1::CancelSearchRequest* request,
                                         v1::Search* reply) override;
  grpc::ServerWriteReactor<v1::SearchProgress>* WatchSearch(
      grpc::CallbackServerContext* context,
      const v1::WatchSearchRequest* request) override;
  grpc::ServerUnaryReactor* ListTrials(grpc::CallbackServerContext* context,
                                       const v1::ListTrialsRequest* request,
                                       v1::ListTrialsResponse* reply) override;
  grpc::ServerUnaryReactor* GetParetoFront(
      grpc::CallbackServerContext* context,
      const v1::GetParetoFrontRequest* request,
      v1::GetParetoFrontResponse* reply) override;
  grpc::ServerUnaryReactor* ExportModel(
      grpc::CallbackServerContext* context,
      const v1::ExportModelRequest* request,
      v1::ExportModelResponse* reply) override;
  grpc::ServerUnaryReactor* GetPolicyState(
      grpc::CallbackServerContext* context,
      const v1::GetPolicyStateRequest* request,
      v1::PolicyState* reply) override;

 private:
  Scheduler* const scheduler_;
  SearchQueries* const queries_;
  WatchHub* const watch_hub_;
  ControllerMetrics* const metrics_;
};

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_SEARCH_SERVICE_H_
