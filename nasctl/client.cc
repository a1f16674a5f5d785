#include "nasctl/client.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace nas::nasctl {
namespace {

// Exported models are small, but a big search space may still produce a few
// MB of TorchScript; stay well above gRPC's 4 MB default.
constexpr int kMaxMessageBytes = 256 << 20;

}  // namespace

ControllerClient::ControllerClient(v1::SearchService::StubInterface* stub,
                                   std::string address, absl::Duration timeout)
    : stub_(stub), address_(std::move(address)), timeout_(timeout) {}

std::unique_ptr<v1::SearchService::StubInterface> ControllerClient::NewStub(
    const std::string& address, const std::shared_ptr<grpc::ChannelCredentials>& credentials) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  return v1::SearchService::NewStub(grpc::CreateCustomChannel(address, credentials, args));
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ControllerClient::Credentials(
    const ClientTlsFlags& tls, const std::string& token) {
  if (tls.insecure && !token.empty()) {
    return absl::InvalidArgumentError(
        "a bearer token (--token, --token_file, $TINYNAS_TOKEN) is only sent over TLS; "
        "drop --insecure");
  }
  NAS_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> channel,
                       MakeChannelCredentials(tls));
  if (token.empty()) return channel;
  return grpc::CompositeChannelCredentials(channel, grpc::AccessTokenCredentials(token));
}

absl::Status ControllerClient::Translate(const grpc::Status& status) const {
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return absl::OkStatus();
    case grpc::StatusCode::UNAVAILABLE:
      return absl::UnavailableError(absl::StrCat("controller at ", address_,
                                                 " unavailable: ", status.error_message()));
    case grpc::StatusCode::UNAUTHENTICATED:
      return absl::UnauthenticatedError(
          absl::StrCat("unauthenticated: ", status.error_message()));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::DeadlineExceededError(
          absl::StrCat("no answer from the controller at ", address_, " within ",
                       absl::FormatDuration(timeout_), " (raise --timeout?)"));
    default:
      return FromGrpcStatus(status);
  }
}

template <typename Request, typename Response>
absl::StatusOr<Response> ControllerClient::Call(
    grpc::Status (v1::SearchService::StubInterface::*method)(grpc::ClientContext*,
                                                             const Request&, Response*),
    const Request& request) const {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  Response response;
  grpc::Status status = (stub_->*method)(&context, request, &response);
  if (!status.ok()) return Translate(status);
  return response;
}

absl::StatusOr<v1::Search> ControllerClient::Submit(const v1::SubmitSearchRequest& request) {
  return Call(&v1::SearchService::StubInterface::SubmitSearch, request);
}

absl::StatusOr<v1::Search> ControllerClient::GetSearch(int64_t search_id) {
  v1::GetSearchRequest request;
  request.set_search_id(search_id);
  return Call(&v1::SearchService::StubInterface::GetSearch, request);
}

absl::StatusOr<std::vector<v1::Search>> ControllerClient::ListSearches() {
  absl::StatusOr<v1::ListSearchesResponse> response =
      Call(&v1::SearchService::StubInterface::ListSearches, v1::ListSearchesRequest());
  if (!response.ok()) return response.status();
  return std::vector<v1::Search>(response->searches().begin(), response->searches().end());
}

absl::StatusOr<v1::Search> ControllerClient::Cancel(int64_t search_id) {
  v1::CancelSearchRequest request;
  request.set_search_id(search_id);
  return Call(&v1::SearchService::StubInterface::CancelSearch, request);
}

absl::StatusOr<std::vector<v1::Trial>> ControllerClient::ListTrials(int64_t search_id,
                                                                    v1::TrialState state) {
  v1::ListTrialsRequest request;
  request.set_search_id(search_id);
  request.set_state(state);
  absl::StatusOr<v1::ListTrialsResponse> response =
      Call(&v1::SearchService::StubInterface::ListTrials, request);
  if (!response.ok()) return response.status();
  std::vector<v1::Trial> trials(response->trials().begin(), response->trials().end());
  std::stable_sort(trials.begin(), trials.end(), [](const v1::Trial& a, const v1::Trial& b) {
    return a.number() < b.number();
  });
  return trials;
}

absl::StatusOr<std::vector<v1::Trial>> ControllerClient::ParetoFront(
    int64_t search_id, const std::string& device) {
  v1::GetParetoFrontRequest request;
  request.set_search_id(search_id);
  request.set_device(device);
  absl::StatusOr<v1::GetParetoFrontResponse> response =
      Call(&v1::SearchService::StubInterface::GetParetoFront, request);
  if (!response.ok()) return response.status();
  return std::vector<v1::Trial>(response->trials().begin(), response->trials().end());
}

absl::StatusOr<v1::ExportModelResponse> ControllerClient::Export(int64_t search_id,
                                                                 int64_t trial_id,
                                                                 v1::ModelFormat format) {
  v1::ExportModelRequest request;
  request.set_search_id(search_id);
  request.set_trial_id(trial_id);
  request.set_format(format);
  return Call(&v1::SearchService::StubInterface::ExportModel, request);
}

absl::StatusOr<v1::PolicyState> ControllerClient::GetPolicyState(int64_t search_id, int top) {
  v1::GetPolicyStateRequest request;
  request.set_search_id(search_id);
  request.set_top(top);
  return Call(&v1::SearchService::StubInterface::GetPolicyState, request);
}

absl::Status ControllerClient::Watch(
    int64_t search_id, const std::function<bool(const v1::SearchProgress&)>& on_update) {
  grpc::ClientContext context;
  v1::WatchSearchRequest request;
  request.set_search_id(search_id);
  std::unique_ptr<grpc::ClientReaderInterface<v1::SearchProgress>> reader =
      stub_->WatchSearch(&context, request);
  v1::SearchProgress progress;
  bool stopped = false;
  while (reader->Read(&progress)) {
    if (!on_update(progress)) {
      stopped = true;
      context.TryCancel();
      while (reader->Read(&progress)) {
        // Drain what was in flight; Finish() expects an exhausted stream.
      }
      break;
    }
  }
  grpc::Status status = reader->Finish();
  if (stopped) return absl::OkStatus();
  return Translate(status);
}

}  // namespace nas::nasctl
