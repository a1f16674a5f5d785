#include "tests/hostile/corpus.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/client_context.h"
#include "proto/nas.grpc.pb.h"

namespace nas::testing {
namespace {

using Sender = std::function<absl::StatusOr<grpc::Status>(
    const std::string& body, const std::shared_ptr<grpc::Channel>& channel)>;

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(20));
  return context;
}

template <typename Request>
absl::StatusOr<Request> ParseText(const std::string& body) {
  Request request;
  if (!google::protobuf::TextFormat::ParseFromString(body, &request)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "body does not parse as ", Request::descriptor()->full_name()));
  }
  return request;
}

// A unary RPC of `Stub` called with the body parsed as its request.
template <typename Service, typename Request, typename Reply>
Sender Unary(grpc::Status (Service::Stub::*method)(grpc::ClientContext*,
                                                   const Request&, Reply*)) {
  return [method](const std::string& body,
                  const std::shared_ptr<grpc::Channel>& channel)
             -> absl::StatusOr<grpc::Status> {
    absl::StatusOr<Request> request = ParseText<Request>(body);
    if (!request.ok()) return request.status();
    auto stub = Service::NewStub(channel);
    Reply reply;
    return ((*stub).*method)(Context().get(), *request, &reply);
  };
}

absl::StatusOr<grpc::Status> Watch(
    const std::string& body, const std::shared_ptr<grpc::Channel>& channel) {
  absl::StatusOr<v1::WatchSearchRequest> request =
      ParseText<v1::WatchSearchRequest>(body);
  if (!request.ok()) return request.status();
  auto stub = v1::SearchService::NewStub(channel);
  std::unique_ptr<grpc::ClientContext> context = Context();
  auto reader = stub->WatchSearch(context.get(), *request);
  v1::SearchProgress progress;
  // A bad request ends the stream before its first update.
  if (reader->Read(&progress)) {
    context->TryCancel();
    while (reader->Read(&progress)) {
    }
    reader->Finish();
    return grpc::Status::OK;
  }
  return reader->Finish();
}

absl::StatusOr<grpc::Status> SubmitYaml(
    const std::string& body, const std::shared_ptr<grpc::Channel>& channel) {
  v1::SubmitSearchRequest request;
  request.set_spec_yaml(body);
  auto stub = v1::SearchService::NewStub(channel);
  v1::Search reply;
  return stub->SubmitSearch(Context().get(), request, &reply);
}

const std::map<std::string, Sender>& Senders() {
  using S = v1::SearchService;
  using W = v1::WorkerService;
  static const auto* const senders = new std::map<std::string, Sender>{
      {"SubmitSearch", Unary<S>(&S::Stub::SubmitSearch)},
      {"GetSearch", Unary<S>(&S::Stub::GetSearch)},
      {"ListSearches", Unary<S>(&S::Stub::ListSearches)},
      {"CancelSearch", Unary<S>(&S::Stub::CancelSearch)},
      {"WatchSearch", Watch},
      {"ListTrials", Unary<S>(&S::Stub::ListTrials)},
      {"GetParetoFront", Unary<S>(&S::Stub::GetParetoFront)},
      {"ExportModel", Unary<S>(&S::Stub::ExportModel)},
      {"GetPolicyState", Unary<S>(&S::Stub::GetPolicyState)},
      {"RegisterWorker", Unary<W>(&W::Stub::RegisterWorker)},
      {"LeaseTrial", Unary<W>(&W::Stub::LeaseTrial)},
      {"Heartbeat", Unary<W>(&W::Stub::Heartbeat)},
      {"ReportTrial", Unary<W>(&W::Stub::ReportTrial)},
  };
  return *senders;
}

absl::StatusOr<grpc::StatusCode> CodeByName(const std::string& name) {
  static const auto* const codes = new std::map<std::string, grpc::StatusCode>{
      {"OK", grpc::StatusCode::OK},
      {"INVALID_ARGUMENT", grpc::StatusCode::INVALID_ARGUMENT},
      {"NOT_FOUND", grpc::StatusCode::NOT_FOUND},
      {"FAILED_PRECONDITION", grpc::StatusCode::FAILED_PRECONDITION},
      {"OUT_OF_RANGE", grpc::StatusCode::OUT_OF_RANGE},
      {"RESOURCE_EXHAUSTED", grpc::StatusCode::RESOURCE_EXHAUSTED},
  };
  auto it = codes->find(name);
  if (it == codes->end()) {
    return absl::InvalidArgumentError(absl::StrCat("unknown code '", name, "'"));
  }
  return it->second;
}

absl::StatusOr<CorpusCase> ReadCase(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  CorpusCase c;
  c.file = path.filename().string();
  c.body = text.str();
  const bool yaml = path.extension() == ".yaml";
  if (yaml) c.rpc = "SubmitSearch";
  bool has_expect = false;
  for (absl::string_view line : absl::StrSplit(c.body, '\n')) {
    if (!absl::ConsumePrefix(&line, "# ")) break;
    std::pair<std::string, std::string> kv =
        absl::StrSplit(line, absl::MaxSplits(": ", 1));
    if (kv.first == "rpc") {
      c.rpc = kv.second;
    } else if (kv.first == "expect") {
      absl::StatusOr<grpc::StatusCode> code = CodeByName(kv.second);
      if (!code.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(c.file, ": ", code.status().message()));
      }
      c.expect = *code;
      has_expect = true;
    } else if (kv.first == "says") {
      c.says.push_back(kv.second);
    }
  }
  if (!has_expect || c.rpc.empty() || Senders().count(c.rpc) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        c.file, ": needs '# rpc: <known RPC>' and '# expect: <code>' lines"));
  }
  return c;
}

}  // namespace

absl::StatusOr<std::vector<CorpusCase>> LoadCorpus(const std::string& dir) {
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string ext = entry.path().extension().string();
    if (ext == ".yaml" || ext == ".textproto") paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<CorpusCase> cases;
  for (const auto& path : paths) {
    absl::StatusOr<CorpusCase> c = ReadCase(path);
    if (!c.ok()) return c.status();
    cases.push_back(*std::move(c));
  }
  return cases;
}

absl::StatusOr<grpc::Status> SendCase(
    const CorpusCase& c, const std::map<std::string, std::string>& ids,
    const std::shared_ptr<grpc::Channel>& channel) {
  std::vector<std::pair<std::string, std::string>> replacements(ids.begin(),
                                                                ids.end());
  const std::string body = absl::StrReplaceAll(c.body, replacements);
  if (absl::EndsWith(c.file, ".yaml")) return SubmitYaml(body, channel);
  return Senders().at(c.rpc)(body, channel);
}

}  // namespace nas::testing
