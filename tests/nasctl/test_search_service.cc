#include "tests/nasctl/test_search_service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace nas::nasctl {

void TestSearchService::AddSearch(const v1::Search& search) {
  absl::MutexLock lock(&mu_);
  searches_[search.id()] = search;
}

void TestSearchService::AddTrial(const v1::Trial& trial) {
  absl::MutexLock lock(&mu_);
  trials_.push_back(trial);
}

void TestSearchService::SetModel(int64_t trial_id, std::string bytes) {
  absl::MutexLock lock(&mu_);
  models_[trial_id] = std::move(bytes);
}

void TestSearchService::SetWatchScript(std::vector<v1::SearchProgress> updates) {
  absl::MutexLock lock(&mu_);
  watch_script_ = std::move(updates);
  if (!watch_script_.empty()) {
    const v1::Search& first = watch_script_.front().search();
    searches_[first.id()] = first;
  }
}

void TestSearchService::RejectSubmissions(std::string message) {
  absl::MutexLock lock(&mu_);
  reject_message_ = std::move(message);
}

void TestSearchService::SetNextSearchId(int64_t id) {
  absl::MutexLock lock(&mu_);
  next_search_id_ = id;
}

void TestSearchService::SetPolicyState(int64_t search_id, v1::PolicyState state) {
  absl::MutexLock lock(&mu_);
  policies_[search_id] = std::move(state);
}

void TestSearchService::SetParetoFront(int64_t search_id, std::vector<v1::Trial> front) {
  absl::MutexLock lock(&mu_);
  fronts_[search_id] = std::move(front);
}

void TestSearchService::SetGetDelay(absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  get_delay_ = delay;
}

std::string TestSearchService::last_spec_yaml() {
  absl::MutexLock lock(&mu_);
  return last_spec_yaml_;
}

v1::ListTrialsRequest TestSearchService::last_list_trials() {
  absl::MutexLock lock(&mu_);
  return last_list_trials_;
}

v1::GetParetoFrontRequest TestSearchService::last_pareto() {
  absl::MutexLock lock(&mu_);
  return last_pareto_;
}

v1::ExportModelRequest TestSearchService::last_export() {
  absl::MutexLock lock(&mu_);
  return last_export_;
}

v1::GetPolicyStateRequest TestSearchService::last_policy() {
  absl::MutexLock lock(&mu_);
  return last_policy_;
}

grpc::Status TestSearchService::FindSearch(int64_t id, v1::Search* search) {
  auto it = searches_.find(id);
  if (it == searches_.end()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, absl::StrCat("search ", id, " not found"));
  }
  *search = it->second;
  return grpc::Status::OK;
}

grpc::Status TestSearchService::SubmitSearch(grpc::ServerContext*,
                                             const v1::SubmitSearchRequest* request,
                                             v1::Search* search) {
  absl::MutexLock lock(&mu_);
  last_spec_yaml_ = request->spec_yaml();
  if (!reject_message_.empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, reject_message_);
  }
  search->set_id(next_search_id_++);
  search->set_name("submitted");
  search->set_state(v1::SEARCH_PENDING);
  search->set_trials_total(4);
  searches_[search->id()] = *search;
  return grpc::Status::OK;
}

grpc::Status TestSearchService::GetSearch(grpc::ServerContext*,
                                          const v1::GetSearchRequest* request,
                                          v1::Search* search) {
  absl::Duration delay;
  {
    absl::MutexLock lock(&mu_);
    delay = get_delay_;
  }
  absl::SleepFor(delay);
  absl::MutexLock lock(&mu_);
  return FindSearch(request->search_id(), search);
}

grpc::Status TestSearchService::ListSearches(grpc::ServerContext*,
                                             const v1::ListSearchesRequest*,
                                             v1::ListSearchesResponse* response) {
  absl::MutexLock lock(&mu_);
  for (const auto& [id, search] : searches_) *response->add_searches() = search;
  return grpc::Status::OK;
}

grpc::Status TestSearchService::CancelSearch(grpc::ServerContext*,
                                             const v1::CancelSearchRequest* request,
                                             v1::Search* search) {
  absl::MutexLock lock(&mu_);
  grpc::Status status = FindSearch(request->search_id(), search);
  if (!status.ok()) return status;
  search->set_state(v1::SEARCH_CANCELLED);
  searches_[search->id()] = *search;
  return grpc::Status::OK;
}

grpc::Status TestSearchService::WatchSearch(grpc::ServerContext*,
                                            const v1::WatchSearchRequest* request,
                                            grpc::ServerWriter<v1::SearchProgress>* writer) {
  std::vector<v1::SearchProgress> script;
  {
    absl::MutexLock lock(&mu_);
    v1::Search search;
    grpc::Status status = FindSearch(request->search_id(), &search);
    if (!status.ok()) return status;
    script = watch_script_;
  }
  for (const v1::SearchProgress& update : script) {
    if (update.search().id() != request->search_id()) continue;
    {
      absl::MutexLock lock(&mu_);
      searches_[update.search().id()] = update.search();
    }
    if (!writer->Write(update)) break;
  }
  return grpc::Status::OK;
}

grpc::Status TestSearchService::ListTrials(grpc::ServerContext*,
                                           const v1::ListTrialsRequest* request,
                                           v1::ListTrialsResponse* response) {
  absl::MutexLock lock(&mu_);
  last_list_trials_ = *request;
  v1::Search search;
  grpc::Status status = FindSearch(request->search_id(), &search);
  if (!status.ok()) return status;
  for (const v1::Trial& trial : trials_) {
    if (trial.search_id() != request->search_id()) continue;
    if (request->state() != v1::TRIAL_STATE_UNSPECIFIED && trial.state() != request->state()) {
      continue;
    }
    *response->add_trials() = trial;
  }
  return grpc::Status::OK;
}

grpc::Status TestSearchService::GetParetoFront(grpc::ServerContext*,
                                               const v1::GetParetoFrontRequest* request,
                                               v1::GetParetoFrontResponse* response) {
  absl::MutexLock lock(&mu_);
  last_pareto_ = *request;
  auto front = fronts_.find(request->search_id());
  if (front != fronts_.end()) {
    for (const v1::Trial& trial : front->second) *response->add_trials() = trial;
    return grpc::Status::OK;
  }
  for (const v1::Trial& trial : trials_) {
    if (trial.search_id() == request->search_id() && trial.state() == v1::TRIAL_SUCCEEDED) {
      *response->add_trials() = trial;
    }
  }
  return grpc::Status::OK;
}

grpc::Status TestSearchService::ExportModel(grpc::ServerContext*,
                                            const v1::ExportModelRequest* request,
                                            v1::ExportModelResponse* response) {
  absl::MutexLock lock(&mu_);
  last_export_ = *request;
  v1::Search search;
  grpc::Status status = FindSearch(request->search_id(), &search);
  if (!status.ok()) return status;
  const int64_t trial_id =
      request->trial_id() == 0 ? search.best_trial_id() : request->trial_id();
  for (const v1::Trial& trial : trials_) {
    if (trial.id() != trial_id) continue;
    *response->mutable_trial() = trial;
    auto model = models_.find(trial_id);
    if (model != models_.end()) response->set_torchscript(model->second);
    return grpc::Status::OK;
  }
  return grpc::Status(grpc::StatusCode::NOT_FOUND, absl::StrCat("trial ", trial_id, " not found"));
}

grpc::Status TestSearchService::GetPolicyState(grpc::ServerContext*,
                                               const v1::GetPolicyStateRequest* request,
                                               v1::PolicyState* state) {
  absl::MutexLock lock(&mu_);
  last_policy_ = *request;
  v1::Search search;
  grpc::Status status = FindSearch(request->search_id(), &search);
  if (!status.ok()) return status;
  auto it = policies_.find(request->search_id());
  if (it != policies_.end()) *state = it->second;
  return grpc::Status::OK;
}

std::unique_ptr<grpc::Server> StartTestServer(TestSearchService* service,
                                              std::string* address) {
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  *address = absl::StrCat("127.0.0.1:", port);
  return server;
}

}  // namespace nas::nasctl
