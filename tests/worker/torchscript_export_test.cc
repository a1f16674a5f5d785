#include "worker/torchscript_export.h"

#include <unistd.h>

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include <torch/script.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/worker/test_data.h"

namespace nas::worker {
namespace {

using ::testing::ElementsAreArray;

BuiltModel Build(const std::string& arch, std::vector<int64_t> input, int classes) {
  v1::TensorShape shape;
  for (int64_t d : input) shape.add_dims(d);
  torch::manual_seed(3);
  absl::StatusOr<BuiltModel> model = BuildModel(testing::Arch(arch), shape, classes);
  CHECK(model.ok()) << model.status();
  // Non-trivial batch-norm statistics, as after training.
  for (auto& buffer : model->net->named_buffers()) {
    if (buffer.key().find("running_mean") != std::string::npos) {
      buffer.value().uniform_(-0.5, 0.5);
    } else if (buffer.key().find("running_var") != std::string::npos) {
      buffer.value().uniform_(0.5, 2.0);
    }
  }
  model->net->eval();
  return std::move(model).value();
}

// A deterministic input both C++ and Python can make: linspace(-1, 1).
torch::Tensor Input(const BuiltModel& model, int64_t batch) {
  std::vector<int64_t> dims = {batch};
  dims.insert(dims.end(), model.input_shape.begin(), model.input_shape.end());
  int64_t numel = 1;
  for (int64_t d : dims) numel *= d;
  return torch::linspace(-1, 1, numel).reshape(dims);
}

torch::Tensor Expected(BuiltModel& model, const torch::Tensor& input) {
  torch::NoGradGuard no_grad;
  torch::Tensor out = model.net->forward(input);
  return model.softmax_output ? torch::softmax(out, 1) : out;
}

torch::jit::Module Load(const std::string& bytes) {
  std::istringstream in(bytes);
  return torch::jit::load(in);
}

class TorchScriptExportTest : public ::testing::TestWithParam<
                                  std::pair<std::string, std::vector<int64_t>>> {};

TEST_P(TorchScriptExportTest, LoadedModuleComputesTheSameFunction) {
  BuiltModel model = Build(GetParam().first, GetParam().second, 5);
  NAS_ASSERT_OK_AND_ASSIGN(std::string bytes, ExportTorchScript(model));
  torch::jit::Module loaded = Load(bytes);
  const torch::Tensor input = Input(model, 4);
  torch::Tensor got = loaded.forward({input}).toTensor();
  const torch::Tensor want = Expected(model, input);
  ASSERT_EQ(got.sizes(), want.sizes());
  EXPECT_LT((got - want).abs().max().item<double>(), 1e-5) << GetParam().first;
  // The module states the input it expects.
  const auto shape = loaded.get_method("input_shape")({}).toIntVector();
  EXPECT_THAT(shape, ElementsAreArray(model.input_shape));
}

INSTANTIATE_TEST_SUITE_P(
    Architectures, TorchScriptExportTest,
    ::testing::Values(
        std::make_pair(std::string("CONV2D(8,k3,s1,p1) BATCHNORM RELU MAXPOOL2D(k2,s2) "
                                   "DEPTHWISE_CONV2D(k3,s2,p1) POINTWISE_CONV2D(12) "
                                   "RELU6 AVGPOOL2D(k3,s1,p1) DROPOUT(0.3) LINEAR(5)"),
                       std::vector<int64_t>{1, 16, 16}),
        std::make_pair(std::string("CONV2D(6,k5) GLOBAL_AVGPOOL BATCHNORM LINEAR(5) SOFTMAX"),
                       std::vector<int64_t>{3, 12, 12}),
        std::make_pair(std::string("CONV1D(8,k5,s2,p2) BATCHNORM RELU MAXPOOL1D(k2,s2) "
                                   "DEPTHWISE_CONV1D(k3,p1) AVGPOOL1D(k3,s2,p1) RELU6 "
                                   "FLATTEN LINEAR(16) RELU LINEAR(5) SOFTMAX"),
                       std::vector<int64_t>{1, 140}),
        std::make_pair(std::string("CONV1D(4,k3) GLOBAL_AVGPOOL LINEAR(5)"),
                       std::vector<int64_t>{2, 30})));

std::string Python() {
  return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

std::string RunCommand(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return "";
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof(buffer), pipe)) output.append(buffer, n);
  pclose(pipe);
  return output;
}

TEST(TorchScriptExportPythonTest, PythonTorchJitLoadReadsTheArchive) {
  BuiltModel model =
      Build("CONV2D(4,k3,p1) BATCHNORM RELU MAXPOOL2D(k2) LINEAR(5) SOFTMAX", {1, 8, 8}, 5);
  NAS_ASSERT_OK_AND_ASSIGN(std::string bytes, ExportTorchScript(model));
  const std::string path = testing::WriteTempFile("model.pt", bytes);
  const std::string script = absl::StrCat(
      "import torch\n"
      "m = torch.jit.load('", path, "')\n"
      "x = torch.linspace(-1, 1, 2 * 64).reshape(2, 1, 8, 8)\n"
      "print(' '.join('%.9g' % v for v in m(x).flatten().tolist()))\n");
  const std::string output =
      RunCommand(absl::StrCat(Python(), " -c \"", script, "\" 2>&1"));
  std::vector<double> values;
  for (absl::string_view word : absl::StrSplit(output, ' ', absl::SkipWhitespace())) {
    double value = 0;
    ASSERT_TRUE(absl::SimpleAtod(word, &value)) << "python said: " << output;
    values.push_back(value);
  }
  const torch::Tensor want = Expected(model, Input(model, 2)).flatten();
  ASSERT_EQ(values.size(), static_cast<size_t>(want.numel())) << output;
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_NEAR(values[i], want[i].item<double>(), 1e-5);
  }
}

}  // namespace
}  // namespace nas::worker
