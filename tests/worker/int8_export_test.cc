// A trained, quantised trial exported as a C library (mcu/codegen), built
// with the host's gcc and run over the trial's whole validation split: every
// output equals the worker's in-process runtime's bit for bit, and the
// library's accuracy equals the int8 accuracy the trial reported.

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "mcu/codegen/c_library.h"
#include "mcu/codegen/library_writer.h"
#include "tests/mcu/codegen/c_build.h"
#include "tests/status_matchers.h"
#include "tests/worker/test_data.h"
#include "worker/int8_evaluation.h"
#include "worker/trainer.h"

namespace nas::worker {
namespace {

using testing::MakeTask;
using testing::SharedDataset;

// Reads N inputs of TINYNAS_INPUT_SIZE bytes from argv[1], writes the
// TINYNAS_NUM_CLASSES output bytes of each to argv[2].
constexpr char kHarness[] = R"c(#include <stdio.h>
#include "model.h"
int main(int argc, char **argv) {
  static int8_t input[TINYNAS_INPUT_SIZE];
  static int8_t output[TINYNAS_NUM_CLASSES];
  FILE *in, *out;
  if (argc != 3) return 2;
  in = fopen(argv[1], "rb");
  out = fopen(argv[2], "wb");
  if (in == NULL || out == NULL) return 2;
  while (fread(input, 1, sizeof input, in) == sizeof input) {
    if (tinynas_invoke(input, output) != 0) return 3;
    if (fwrite(output, 1, sizeof output, out) != sizeof output) return 4;
  }
  fclose(in);
  return fclose(out) == 0 ? 0 : 4;
}
)c";

void ExportAndRunWholeValidationSplit(const v1::TrialTask& task) {
  auto data = SharedDataset(task.dataset());
  absl::StatusOr<TrialOutcome> outcome = RunTrial(task, *data, {});
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  ASSERT_TRUE(outcome->succeeded()) << outcome->failure_reason;
  const v1::Metrics& m = outcome->metrics;
  ASSERT_TRUE(m.int8());
  absl::StatusOr<DataSplit> split =
      SplitTrainValidation(data->train->labels, task.dataset(), task.seed());
  ASSERT_TRUE(split.ok()) << split.status();

  // The worker's side: the in-process runtime on every validation sample.
  absl::StatusOr<Int8Evaluator> evaluator =
      Int8Evaluator::Create(outcome->int8_model, data->train.get());
  ASSERT_TRUE(evaluator.ok()) << evaluator.status();
  std::string inputs, expected;
  std::vector<int8_t> input, output;
  for (int64_t index : split->validation) {
    evaluator->QuantizeSample(index, &input);
    ASSERT_TRUE(evaluator->Run(input, &output).ok());
    inputs.append(reinterpret_cast<const char*>(input.data()), input.size());
    expected.append(reinterpret_cast<const char*>(output.data()), output.size());
  }

  // The library's side: generated, written, built with gcc -Werror, run.
  absl::StatusOr<std::vector<mcu::GeneratedFile>> files =
      mcu::GenerateCLibrary(outcome->int8_model);
  ASSERT_TRUE(files.ok()) << files.status();
  const std::string root = nas::testing::MakeTempDir();
  const std::string dir = root + "/lib";
  ASSERT_TRUE(mcu::WriteCLibrary(*files, dir, false).ok());
  std::ofstream(dir + "/harness.c") << kHarness;
  std::ofstream(dir + "/inputs.bin", std::ios::binary) << inputs;
  std::vector<std::string> sources = nas::testing::CSources(*files, /*with_main=*/false);
  sources.push_back("harness.c");
  const nas::testing::CommandResult run = nas::testing::RunCommand(absl::StrCat(
      "cd ", dir, " && gcc -std=c99 -Wall -Wextra -Werror -O2 -I. ",
      absl::StrJoin(sources, " "), " -o harness && ./harness inputs.bin outputs.bin"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string got = nas::testing::ReadFile(dir + "/outputs.bin");
  nas::testing::RemoveTree(root);

  const size_t classes = static_cast<size_t>(outcome->int8_model.num_classes());
  ASSERT_EQ(got.size(), split->validation.size() * classes);
  EXPECT_TRUE(got == expected) << "the exported library's outputs differ from the worker's";
  int64_t correct = 0;
  for (size_t i = 0; i < split->validation.size(); ++i) {
    std::vector<int8_t> logits(got.begin() + i * classes, got.begin() + (i + 1) * classes);
    correct += ArgMax(logits) == data->train->labels[split->validation[i]];
  }
  const double accuracy = static_cast<double>(correct) / split->validation.size();
  std::printf("exported library: %lld/%zu validation samples = %.4f; trial reported int8 %.4f, "
              "float %.4f\n",
              static_cast<long long>(correct), split->validation.size(), accuracy,
              m.accuracy_int8(), m.accuracy());
  EXPECT_DOUBLE_EQ(accuracy, m.accuracy_int8());
}

TEST(Int8ExportTest, FashionMnistLibraryMatchesTheTrialOnTheWholeValidationSplit) {
  v1::DatasetSpec spec = testing::FashionMnistSpec();
  spec.set_train_subset(2000);
  spec.set_validation_subset(1000);
  ExportAndRunWholeValidationSplit(MakeTask(
      spec,
      "CONV2D(8,k3,p1) BATCHNORM RELU MAXPOOL2D(k2) DEPTHWISE_CONV2D(k3,p1) RELU6 "
      "POINTWISE_CONV2D(16) RELU AVGPOOL2D(k2) DROPOUT(0.1) LINEAR(10)",
      1));
}

TEST(Int8ExportTest, Ecg5000LibraryMatchesTheTrialOnTheWholeValidationSplit) {
  ExportAndRunWholeValidationSplit(MakeTask(
      testing::Ecg5000Spec(),
      "CONV1D(8,k5,s2,p2) BATCHNORM RELU MAXPOOL1D(k2) DEPTHWISE_CONV1D(k3,p1) "
      "BATCHNORM CONV1D(16,k1) RELU GLOBAL_AVGPOOL LINEAR(5) SOFTMAX",
      5));
}

TEST(Int8ExportTest, JapaneseVowelsLibraryMatchesTheTrialOnTheWholeValidationSplit) {
  // Twelve channels in, normalised per channel by the library's user.
  v1::DatasetSpec spec = testing::JapaneseVowelsSpec();
  spec.set_validation_fraction(0.2);
  ExportAndRunWholeValidationSplit(MakeTask(
      spec, "CONV1D(16,k3,p1) BATCHNORM RELU MAXPOOL1D(k2) CONV1D(16,k3,p1) RELU "
            "GLOBAL_AVGPOOL LINEAR(9)",
      10));
}

}  // namespace
}  // namespace nas::worker
