#ifndef NAS_TESTS_NASCTL_TEST_SEARCH_SERVICE_H_
#define NAS_TESTS_NASCTL_TEST_SEARCH_SERVICE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/server.h"
#include "proto/nas.grpc.pb.h"

namespace nas::nasctl {

// A unit-level fake of the controller's SearchService for testing nasctl's
// client logic (request building, output, exit codes) over real gRPC on
// port 0. It is NOT the controller: end-to-end claims are made by
// tests/e2e/ against the real nas-controller. Searches, trials, models and
// the watch script are set by the test; every request is recorded.
// Thread-safe.
class TestSearchService final : public v1::SearchService::Service {
 public:
  void AddSearch(const v1::Search& search) ABSL_LOCKS_EXCLUDED(mu_);
  void AddTrial(const v1::Trial& trial) ABSL_LOCKS_EXCLUDED(mu_);
  void SetModel(int64_t trial_id, std::string bytes) ABSL_LOCKS_EXCLUDED(mu_);
  // Updates streamed by WatchSearch (those of the watched search), in
  // order. The stored search starts as the first update's and follows each
  // update as it is streamed, as the controller's would.
  void SetWatchScript(std::vector<v1::SearchProgress> updates) ABSL_LOCKS_EXCLUDED(mu_);
  // SubmitSearch answers INVALID_ARGUMENT with `message` when set.
  void RejectSubmissions(std::string message) ABSL_LOCKS_EXCLUDED(mu_);
  // The id SubmitSearch gives the next search (1 at first).
  void SetNextSearchId(int64_t id) ABSL_LOCKS_EXCLUDED(mu_);
  // What GetPolicyState answers for the (added) search.
  void SetPolicyState(int64_t search_id, v1::PolicyState state) ABSL_LOCKS_EXCLUDED(mu_);
  // What GetParetoFront answers for the search (by default: its SUCCEEDED
  // trials).
  void SetParetoFront(int64_t search_id, std::vector<v1::Trial> front) ABSL_LOCKS_EXCLUDED(mu_);
  // GetSearch sleeps this long first (to trigger client deadlines).
  void SetGetDelay(absl::Duration delay) ABSL_LOCKS_EXCLUDED(mu_);

  std::string last_spec_yaml() ABSL_LOCKS_EXCLUDED(mu_);
  v1::ListTrialsRequest last_list_trials() ABSL_LOCKS_EXCLUDED(mu_);
  v1::GetParetoFrontRequest last_pareto() ABSL_LOCKS_EXCLUDED(mu_);
  v1::ExportModelRequest last_export() ABSL_LOCKS_EXCLUDED(mu_);
  v1::GetPolicyStateRequest last_policy() ABSL_LOCKS_EXCLUDED(mu_);

  grpc::Status SubmitSearch(grpc::ServerContext*, const v1::SubmitSearchRequest*,
                            v1::Search*) override;
  grpc::Status GetSearch(grpc::ServerContext*, const v1::GetSearchRequest*,
                         v1::Search*) override;
  grpc::Status ListSearches(grpc::ServerContext*, const v1::ListSearchesRequest*,
                            v1::ListSearchesResponse*) override;
  grpc::Status CancelSearch(grpc::ServerContext*, const v1::CancelSearchRequest*,
                            v1::Search*) override;
  grpc::Status WatchSearch(grpc::ServerContext*, const v1::WatchSearchRequest*,
                           grpc::ServerWriter<v1::SearchProgress>*) override;
  grpc::Status ListTrials(grpc::ServerContext*, const v1::ListTrialsRequest*,
                          v1::ListTrialsResponse*) override;
  grpc::Status GetParetoFront(grpc::ServerContext*, const v1::GetParetoFrontRequest*,
                              v1::GetParetoFrontResponse*) override;
  grpc::Status ExportModel(grpc::ServerContext*, const v1::ExportModelRequest*,
                           v1::ExportModelResponse*) override;
  grpc::Status GetPolicyState(grpc::ServerContext*, const v1::GetPolicyStateRequest*,
                              v1::PolicyState*) override;

 private:
  grpc::Status FindSearch(int64_t id, v1::Search* search) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::map<int64_t, v1::Search> searches_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::Trial> trials_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, std::string> models_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, v1::PolicyState> policies_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, std::vector<v1::Trial>> fronts_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::SearchProgress> watch_script_ ABSL_GUARDED_BY(mu_);
  std::string reject_message_ ABSL_GUARDED_BY(mu_);
  int64_t next_search_id_ ABSL_GUARDED_BY(mu_) = 1;
  absl::Duration get_delay_ ABSL_GUARDED_BY(mu_);
  std::string last_spec_yaml_ ABSL_GUARDED_BY(mu_);
  v1::ListTrialsRequest last_list_trials_ ABSL_GUARDED_BY(mu_);
  v1::GetParetoFrontRequest last_pareto_ ABSL_GUARDED_BY(mu_);
  v1::ExportModelRequest last_export_ ABSL_GUARDED_BY(mu_);
  v1::GetPolicyStateRequest last_policy_ ABSL_GUARDED_BY(mu_);
};

// Starts `service` on 127.0.0.1:0; sets `*address` to "127.0.0.1:PORT".
std::unique_ptr<grpc::Server> StartTestServer(TestSearchService* service,
                                              std::string* address);

}  // namespace nas::nasctl

#endif  // NAS_TESTS_NASCTL_TEST_SEARCH_SERVICE_H_
