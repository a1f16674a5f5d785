#ifndef NAS_TESTS_HOSTILE_CORPUS_H_
#define NAS_TESTS_HOSTILE_CORPUS_H_

// The hostile-input corpus (tests/hostile/corpus/): malformed specs and
// requests, each with the answer the controller must give. A case file
// starts with comment lines
//   # rpc: SubmitSearch            (.yaml files: always SubmitSearch)
//   # expect: INVALID_ARGUMENT     (a grpc::StatusCode name)
//   # says: training.epochs        (text the error message must hold;
//                                   repeatable)
// followed by the body: a YAML spec (sent as spec_yaml) or the request in
// protobuf text format. $SEARCH_ID, $WORKER_ID, $TRIAL_ID and $LEASE_ID in
// a body are replaced by ids of a live search, worker, leased trial and its
// lease, so that requests can be wrong about everything but the id.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "grpcpp/support/status.h"

namespace nas::testing {

struct CorpusCase {
  std::string file;  // Name within the corpus folder.
  std::string rpc;   // e.g. "SubmitSearch", "ReportTrial".
  grpc::StatusCode expect = grpc::StatusCode::OK;
  std::vector<std::string> says;
  std::string body;
};

// Every case under `dir` (files *.yaml and *.textproto), sorted by name.
// An error names the file and what is wrong with its header.
absl::StatusOr<std::vector<CorpusCase>> LoadCorpus(const std::string& dir);

// Sends the case's request (placeholders replaced from `ids`) to the
// controller on `channel` and returns its answer. A body that does not parse
// as the RPC's request is an InvalidArgument of this function, not a call.
absl::StatusOr<grpc::Status> SendCase(
    const CorpusCase& c, const std::map<std::string, std::string>& ids,
    const std::shared_ptr<grpc::Channel>& channel);

}  // namespace nas::testing

#endif  // NAS_TESTS_HOSTILE_CORPUS_H_
