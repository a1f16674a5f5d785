#ifndef NAS_NASCTL_CLIENT_H_
#define NAS_NASCTL_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/tls_files.h"
#include "grpcpp/security/credentials.h"
#include "proto/nas.grpc.pb.h"
#include "proto/nas.pb.h"

namespace nas::nasctl {

// Typed access to the controller's SearchService: every unary call carries
// a deadline of `timeout`, and gRPC failures come back as absl::Status with
// the gRPC code kept and a message a user can act on ("cannot reach the
// controller at HOST:PORT: ...", "no answer from the controller at ...
// within 10s"). Thread-compatible; the stub is borrowed and must outlive
// the client.
class ControllerClient {
 public:
  ControllerClient(v1::SearchService::StubInterface* stub, std::string address,
                   absl::Duration timeout);
  ControllerClient(const ControllerClient&) = delete;
  ControllerClient& operator=(const ControllerClient&) = delete;

  // A stub on a channel to `address` with `credentials` (no connection is
  // made yet).
  static std::unique_ptr<v1::SearchService::StubInterface> NewStub(
      const std::string& address,
      const std::shared_ptr<grpc::ChannelCredentials>& credentials);

  // The channel credentials of nasctl's options: plain text only with
  // --insecure; otherwise TLS (MakeChannelCredentials) carrying `token`, when
  // not empty, as "authorization: Bearer <token>" on every call.
  // InvalidArgument naming the flag for a bad file or a token with
  // --insecure (a token never travels in plain text).
  static absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> Credentials(
      const ClientTlsFlags& tls, const std::string& token);

  absl::StatusOr<v1::Search> Submit(const v1::SubmitSearchRequest& request);
  absl::StatusOr<v1::Search> GetSearch(int64_t search_id);
  absl::StatusOr<std::vector<v1::Search>> ListSearches();
  absl::StatusOr<v1::Search> Cancel(int64_t search_id);
  // All trials of the search (state UNSPECIFIED) or those in `state`,
  // ordered by trial number.
  absl::StatusOr<std::vector<v1::Trial>> ListTrials(int64_t search_id,
                                                    v1::TrialState state);
  absl::StatusOr<std::vector<v1::Trial>> ParetoFront(int64_t search_id,
                                                     const std::string& device);
  // trial_id 0 = the best trial; `format` INT8 asks for the QuantizedModel.
  absl::StatusOr<v1::ExportModelResponse> Export(
      int64_t search_id, int64_t trial_id,
      v1::ModelFormat format = v1::MODEL_FORMAT_UNSPECIFIED);
  // What the search's policy has learnt, with its `top` highest Q entries.
  absl::StatusOr<v1::PolicyState> GetPolicyState(int64_t search_id, int top);

  // Streams WatchSearch updates into `on_update` until the server ends the
  // stream, or `on_update` returns false (then the call is cancelled and OK
  // is returned). The stream itself has no deadline; connection failures
  // still fail fast.
  absl::Status Watch(int64_t search_id,
                     const std::function<bool(const v1::SearchProgress&)>& on_update);

  const std::string& address() const { return address_; }

 private:
  // One unary call of `method` with the deadline set and errors translated.
  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(
      grpc::Status (v1::SearchService::StubInterface::*method)(
          grpc::ClientContext*, const Request&, Response*),
      const Request& request) const;
  absl::Status Translate(const grpc::Status& status) const;

  v1::SearchService::StubInterface* stub_;  // Not owned.
  std::string address_;
  absl::Duration timeout_;
};

}  // namespace nas::nasctl

#endif  // NAS_NASCTL_CLIENT_H_
