// `nasctl export --format c`: the argument errors, and whole command lines
// against a fake controller (real gRPC on port 0) that answers ExportModel
// with a synthetic int8 model of a real architecture.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/architecture.h"
#include "gmock/gmock.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "mcu/codegen/c_library.h"
#include "mcu/model_tables.h"
#include "nasctl/args.h"
#include "nasctl/commands.h"
#include "nlohmann/json.hpp"
#include "proto/nas.grpc.pb.h"
#include "tests/mcu/codegen/c_build.h"
#include "tests/mcu/codegen/synthetic_model.h"
#include "tests/status_matchers.h"

namespace nas::nasctl {
namespace {

using ::nas::testing::StatusIs;
using ::testing::HasSubstr;

// Answers GetSearch and ExportModel from what the test set; counts and
// records the ExportModel requests. Thread-safe.
class ExportService final : public v1::SearchService::Service {
 public:
  void Set(const v1::Search& search, const v1::ExportModelResponse& reply) {
    absl::MutexLock lock(&mu_);
    search_ = search;
    reply_ = reply;
  }
  int exports() {
    absl::MutexLock lock(&mu_);
    return exports_;
  }
  v1::ExportModelRequest last_export() {
    absl::MutexLock lock(&mu_);
    return last_export_;
  }
  grpc::Status GetSearch(grpc::ServerContext*, const v1::GetSearchRequest*,
                         v1::Search* search) override {
    absl::MutexLock lock(&mu_);
    *search = search_;
    return grpc::Status::OK;
  }
  grpc::Status ExportModel(grpc::ServerContext*, const v1::ExportModelRequest* request,
                           v1::ExportModelResponse* response) override {
    absl::MutexLock lock(&mu_);
    ++exports_;
    last_export_ = *request;
    *response = reply_;
    if (request->format() == v1::INT8) response->clear_torchscript();
    if (request->format() != v1::INT8) response->clear_int8_model();
    return grpc::Status::OK;
  }

 private:
  absl::Mutex mu_;
  v1::Search search_ ABSL_GUARDED_BY(mu_);
  v1::ExportModelResponse reply_ ABSL_GUARDED_BY(mu_);
  v1::ExportModelRequest last_export_ ABSL_GUARDED_BY(mu_);
  int exports_ ABSL_GUARDED_BY(mu_) = 0;
};

struct Result {
  int code;
  std::string out;
  std::string err;
};

v1::QuantizedModel EcgModel() {
  absl::StatusOr<v1::Architecture> arch =
      ParseArchitecture("CONV1D(8,k5,p2) BATCHNORM RELU MAXPOOL1D(k2) GLOBAL_AVGPOOL LINEAR(5)");
  EXPECT_TRUE(arch.ok()) << arch.status();
  v1::TensorShape input;
  input.add_dims(1);
  input.add_dims(140);
  testing::SyntheticOptions options;
  options.seed = 7;
  options.dataset = "ecg5000";
  absl::StatusOr<v1::QuantizedModel> model =
      testing::SyntheticQuantizedModel(*arch, input, 5, options);
  EXPECT_TRUE(model.ok()) << model.status();
  return *model;
}

class ExportCTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    address_ = absl::StrCat("127.0.0.1:", port);
    dir_ = testing::MakeTempDir();
    out_ = dir_ + "/lib";
    search_.set_id(1);
    search_.set_best_trial_id(7);
    reply_.mutable_trial()->set_id(7);
    reply_.mutable_trial()->set_number(3);
    reply_.mutable_trial()->set_state(v1::TRIAL_SUCCEEDED);
    reply_.mutable_trial()->mutable_metrics()->set_int8(true);
    reply_.mutable_trial()->mutable_metrics()->set_accuracy_int8(0.875);
    reply_.set_torchscript("torchscript bytes");
    *reply_.mutable_int8_model() = EcgModel();
  }
  void TearDown() override {
    server_->Shutdown();
    testing::RemoveTree(dir_);
  }

  Result Nasctl(std::vector<std::string> args) {
    service_.Set(search_, reply_);
    args.insert(args.begin(), {"--controller", address_, "--insecure"});
    std::ostringstream out, err;
    Environment env;
    env.out = &out;
    env.err = &err;
    env.now_ms = [] { return int64_t{1700000000000}; };
    const int code = RunNasctl(args, env);
    return {code, out.str(), err.str()};
  }

  ExportService service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_, dir_, out_;
  v1::Search search_;
  v1::ExportModelResponse reply_;
};

TEST(ExportArgsTest, FormatAndForce) {
  NAS_ASSERT_OK_AND_ASSIGN(Invocation plain, ParseArgs({"export", "3", "best", "-o", "m.pt"}, ""));
  EXPECT_EQ(plain.format, "torchscript");
  EXPECT_FALSE(plain.force);
  NAS_ASSERT_OK_AND_ASSIGN(
      Invocation c, ParseArgs({"export", "3", "7", "--format", "C", "-o", "lib", "--force"}, ""));
  EXPECT_EQ(c.format, "c");
  EXPECT_TRUE(c.force);
  EXPECT_THAT(ParseArgs({"export", "3", "7", "--format", "onnx", "-o", "x"}, ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--format: expected torchscript or c, got 'onnx'")));
  EXPECT_THAT(ParseArgs({"export", "3", "7", "--format"}, ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--format needs a value")));
  EXPECT_THAT(
      ParseArgs({"report", "3", "-o", "r", "--force"}, ""),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'report' does not take --force")));
  EXPECT_THAT(ParseArgs({"export", "3", "7", "--format", "c"}, ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("export needs -o")));
  EXPECT_THAT(Usage(), HasSubstr("--format torchscript|c"));
}

TEST_F(ExportCTest, AnUnknownFormatIsOneLineAndNoCall) {
  Result r = Nasctl({"export", "1", "best", "--format", "onnx", "-o", out_});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err, "nasctl: --format: expected torchscript or c, got 'onnx'\n");
  EXPECT_EQ(service_.exports(), 0);
  EXPECT_FALSE(std::filesystem::exists(out_));
}

TEST_F(ExportCTest, WritesALibraryThatPassesItsTestVectors) {
  Result r = Nasctl({"export", "1", "best", "--format", "c", "-o", out_});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(service_.last_export().format(), v1::INT8);
  EXPECT_EQ(service_.last_export().trial_id(), 0);
  NAS_ASSERT_OK_AND_ASSIGN(mcu::ModelTables tables, mcu::BuildTables(reply_.int8_model()));
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("exported trial 7 (#3, int8 accuracy 0.8750) as a C "
                                            "library to ",
                                            out_)));
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("flash ", tables.ConstantBytes(), " B")));
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("arena ", tables.arena_bytes, " B")));
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<mcu::GeneratedFile> files,
                           mcu::GenerateCLibrary(reply_.int8_model()));
  for (const mcu::GeneratedFile& file : files) {
    EXPECT_EQ(testing::ReadFile(out_ + "/" + file.path), file.contents) << file.path;
  }
  const testing::CommandResult run = testing::BuildAndRunOnHost(out_, files);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("8 of 8 test vectors match bit for bit, 0 mismatched"));
}

TEST_F(ExportCTest, JsonNamesThePathAndTheBytes) {
  Result r = Nasctl({"export", "1", "7", "--format=c", "-o", out_, "--json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(service_.last_export().trial_id(), 7);
  const nlohmann::json doc = nlohmann::json::parse(r.out);
  NAS_ASSERT_OK_AND_ASSIGN(mcu::ModelTables tables, mcu::BuildTables(reply_.int8_model()));
  EXPECT_EQ(doc["path"], out_);
  EXPECT_EQ(doc["format"], "c");
  EXPECT_EQ(doc["flash_bytes"], tables.ConstantBytes());
  EXPECT_EQ(doc["arena_bytes"], tables.arena_bytes);
  EXPECT_EQ(doc["test_vectors"], 8);
  EXPECT_EQ(doc["trial"]["id"], "7");
}

TEST_F(ExportCTest, RefusesANonEmptyFolderBeforeAskingAndForceReplacesIt) {
  std::filesystem::create_directory(out_);
  std::ofstream(out_ + "/mine.txt") << "mine";
  Result refused = Nasctl({"export", "1", "best", "--format", "c", "-o", out_});
  EXPECT_EQ(refused.code, kExitUsage);
  EXPECT_EQ(refused.err, absl::StrCat("nasctl: export 1 best: ", out_,
                                      " exists and is not empty (--force replaces it)\n"));
  EXPECT_EQ(service_.exports(), 0);
  EXPECT_EQ(testing::ReadFile(out_ + "/mine.txt"), "mine");
  Result forced = Nasctl({"export", "1", "best", "--format", "c", "-o", out_, "--force"});
  ASSERT_EQ(forced.code, kExitOk) << forced.err;
  EXPECT_FALSE(std::filesystem::exists(out_ + "/mine.txt"));
  EXPECT_TRUE(std::filesystem::exists(out_ + "/model.c"));
  EXPECT_THAT(testing::ListDir(dir_), ::testing::ElementsAre("lib"));
}

TEST_F(ExportCTest, ATrialWithoutAnInt8ModelIsOneLineAndNothingWritten) {
  reply_.clear_int8_model();
  search_.mutable_spec()->mutable_training()->set_quantize("none");
  Result none = Nasctl({"export", "1", "7", "--format", "c", "-o", out_});
  EXPECT_EQ(none.code, kExitError);
  EXPECT_EQ(none.err,
            "nasctl: export 1 7: trial 7 has no int8 model: its search ran with quantize: none\n");
  reply_.mutable_trial()->set_state(v1::TRIAL_FAILED);
  Result failed = Nasctl({"export", "1", "7", "--format", "c", "-o", out_});
  EXPECT_EQ(failed.code, kExitError);
  EXPECT_EQ(failed.err, "nasctl: export 1 7: trial 7 has no trained model (it is FAILED)\n");
  EXPECT_FALSE(std::filesystem::exists(out_));
}

TEST_F(ExportCTest, AModelTheRuntimeCannotRunIsRefusedWithNothingWritten) {
  reply_.mutable_int8_model()->mutable_layers(0)->mutable_weights()->pop_back();
  Result r = Nasctl({"export", "1", "best", "--format", "c", "-o", out_});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("nasctl: export 1 best: cannot export: int8 layer 0 (INT8_CONV): "
                               "39 weights, expected 40"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
  EXPECT_TRUE(testing::ListDir(dir_).empty());
}

TEST_F(ExportCTest, TorchScriptStaysTheDefault) {
  const std::string path = dir_ + "/model.pt";
  Result r = Nasctl({"export", "1", "best", "-o", path});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(service_.last_export().format(), v1::TORCHSCRIPT);
  EXPECT_EQ(testing::ReadFile(path), "torchscript bytes");
}

}  // namespace
}  // namespace nas::nasctl
