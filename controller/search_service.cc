#include "controller/search_service.h"

#include <utility>
#include <vector>

#include "common/spec.h"
#include "common/status_macros.h"
#include "controller/rpc_util.h"

namespace nas::controller {
namespace {

constexpr size_t kMaxSpecYamlBytes = 1 << 20;
constexpr int kMaxListLimit = 1000;
constexpr size_t kMaxDeviceNameLength = 100;
constexpr int kMaxPolicyTop = 1000;
constexpr int kDefaultPolicyTop = 20;

absl::StatusOr<v1::SearchSpec> SpecFromRequest(
    const v1::SubmitSearchRequest& request, const std::string& data_root) {
  switch (request.source_case()) {
    case v1::SubmitSearchRequest::kSpec:
      return request.spec();
    case v1::SubmitSearchRequest::kSpecYaml:
      if (request.spec_yaml().size() > kMaxSpecYamlBytes) {
        return absl::InvalidArgumentError(
            absl::StrCat("spec_yaml: ", request.spec_yaml().size(),
                         " bytes, at most ", kMaxSpecYamlBytes, " allowed"));
      }
      // The full check runs here only to name every problem at once; a
      // spec that parses is completed by the scheduler as any other.
      if (absl::StatusOr<v1::SearchSpec> spec =
              ParseSearchSpecYaml(request.spec_yaml());
          spec.ok()) {
        return spec;
      }
      return ParseAndCompleteSearchSpecYaml(request.spec_yaml(), data_root);
    default:
      return absl::InvalidArgumentError("set either spec or spec_yaml");
  }
}

template <typename Repeated, typename Items>
void Fill(Repeated* field, Items items) {
  for (auto& item : items) *field->Add() = std::move(item);
}

}  // namespace

grpc::ServerUnaryReactor* SearchServiceImpl::SubmitSearch(
    grpc::CallbackServerContext* context,
    const v1::SubmitSearchRequest* request, v1::Search* reply) {
  return ServeUnary(context, metrics_, "SubmitSearch", [&]() -> absl::Status {
    NAS_ASSIGN_OR_RETURN(v1::SearchSpec spec,
                         SpecFromRequest(*request, scheduler_->data_root()));
    NAS_ASSIGN_OR_RETURN(*reply, scheduler_->SubmitSearch(spec));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SearchServiceImpl::GetSearch(
    grpc::CallbackServerContext* context, const v1::GetSearchRequest* request,
    v1::Search* reply) {
  return ServeUnary(context, metrics_, "GetSearch", [&]() -> absl::Status {
    NAS_RETURN_IF_ERROR(CheckPositiveId("search_id", request->search_id()));
    NAS_ASSIGN_OR_RETURN(*reply, queries_->GetSearch(request->search_id()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SearchServiceImpl::ListSearches(
    grpc::CallbackServerContext* context,
    const v1::ListSearchesRequest* request, v1::ListSearchesResponse* reply) {
  return ServeUnary(context, metrics_, "ListSearches", [&]() -> absl::Status {
    if (request->limit() < 0 || request->limit() > kMaxListLimit) {
      return absl::InvalidArgumentError(absl::StrCat(
          "limit must be in [0, ", kMaxListLimit, "], got ", request->limit()));
    }
    NAS_ASSIGN_OR_RETURN(std::vector<v1::Search> searches,
                         queries_->ListSearches(request->limit()));
    Fill(reply->mutable_searches(), std::move(searches));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SearchServiceImpl::CancelSearch(
    grpc::CallbackServerContext* context,
    const v1::CancelSearchRequest* request, v1::Search* reply) {
  return ServeUnary(context, metrics_, "CancelSearch", [&]() -> absl::Status {
    NAS_RETURN_IF_ERROR(CheckPositiveId("search_id", request->search_id()));
    NAS_ASSIGN_OR_RETURN(*reply,
                         scheduler_->CancelSearch(request->search_id()));
    return absl::OkStatus();
  });
}

grpc::ServerWriteReactor<v1::SearchProgress>* SearchServiceImpl::WatchSearch(
    grpc::CallbackServerContext* /*context*/,
    const v1::WatchSearchRequest* request) {
  return watch_hub_->Watch(request->search_id());
}

grpc::ServerUnaryReactor* SearchServiceImpl::ListTrials(
    grpc::CallbackServerContext* context, const v1::ListTrialsRequest* request,
    v1::ListTrialsResponse* reply) {
  return ServeUnary(context, metrics_, "ListTrials", [&]() -> absl::Status {
    NAS_RETURN_IF_ERROR(CheckPositiveId("search_id", request->search_id()));
    if (!v1::TrialState_IsValid(request->state())) {
      return absl::InvalidArgumentError(
          absl::StrCat("state: unknown trial state ", request->state()));
    }
    NAS_ASSIGN_OR_RETURN(
        std::vector<v1::Trial> trials,
        queries_->ListTrials(request->search_id(), request->state()));
    Fill(reply->mutable_trials(), std::move(trials));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SearchServiceImpl::GetParetoFront(
    grpc::CallbackServerContext* context,
    const v1::GetParetoFrontRequest* request,
    v1::GetParetoFrontResponse* reply) {
  return ServeUnary(context, metrics_, "GetParetoFront", [&]() -> absl::Status {
    NAS_RETURN_IF_ERROR(CheckPositiveId("search_id", request->search_id()));
    NAS_RETURN_IF_ERROR(CheckText("device", request->device(),
                                  kMaxDeviceNameLength, /*required=*/false));
    NAS_ASSIGN_OR_RETURN(
        std::vector<v1::Trial> front,
        queries_->ParetoFront(request->search_id(), request->device()));
    Fill(reply->mutable_trials(), std::move(front));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SearchServiceImpl::ExportModel(
    grpc::CallbackServerContext* context, const v1::ExportModelRequest* request,
    v1::ExportModelResponse* reply) {
  return ServeUnary(context, metrics_, "ExportModel", [&]() -> absl::Status {
    NAS_RETURN_IF_ERROR(CheckPositiveId("search_id", request->search_id()));
    if (request->trial_id() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("trial_id must be 0 (best) or a positive id, got ",
                       request->trial_id()));
    }
    if (!v1::ModelFormat_IsValid(request->format())) {
      return absl::InvalidArgumentError(
          absl::StrCat("format: unknown model format ", request->format(),
                       " (TORCHSCRIPT or INT8)"));
    }
    NAS_ASSIGN_OR_RETURN(
        ModelExport model,
        queries_->ExportModel(request->search_id(), request->trial_id(),
                              request->format()));
    *reply->mutable_trial() = std::move(model.trial);
    *reply->mutable_torchscript() = std::move(model.torchscript);
    if (request->format() == v1::INT8) {
      *reply->mutable_int8_model() = std::move(model.int8_model);
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SearchServiceImpl::GetPolicyState(
    grpc::CallbackServerContext* context,
    const v1::GetPolicyStateRequest* request, v1::PolicyState* reply) {
  return ServeUnary(context, metrics_, "GetPolicyState", [&]() -> absl::Status {
    NAS_RETURN_IF_ERROR(CheckPositiveId("search_id", request->search_id()));
    if (request->top() < 0 || request->top() > kMaxPolicyTop) {
      return absl::InvalidArgumentError(absl::StrCat(
          "top must be in [0, ", kMaxPolicyTop, "] (0 = ", kDefaultPolicyTop,
          "), got ", request->top()));
    }
    const int top = request->top() == 0 ? kDefaultPolicyTop : request->top();
    NAS_ASSIGN_OR_RETURN(*reply,
                         queries_->GetPolicyState(request->search_id(), top));
    return absl::OkStatus();
  });
}

}  // namespace nas::controller
