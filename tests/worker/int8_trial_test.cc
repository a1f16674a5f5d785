// Whole trials with int8 quantisation (RunTrial) on real data: Fashion-MNIST
// and ECG5000 subsets.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mcu/model_tables.h"
#include "tests/status_matchers.h"
#include "tests/worker/test_data.h"
#include "worker/trainer.h"

namespace nas::worker {
namespace {

using ::nas::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Each;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::MakeTask;
using testing::SharedDataset;

constexpr char kFashionCnn[] =
    "CONV2D(8,k3,p1) BATCHNORM RELU MAXPOOL2D(k2) CONV2D(16,k3,p1) BATCHNORM RELU "
    "MAXPOOL2D(k2) LINEAR(10)";
constexpr char kEcgCnn[] =
    "CONV1D(8,k5,s2,p2) BATCHNORM RELU MAXPOOL1D(k2) CONV1D(16,k5,p2) RELU "
    "GLOBAL_AVGPOOL LINEAR(5) SOFTMAX";

v1::TrialTask FashionTask(int64_t train_subset, int epochs) {
  v1::DatasetSpec spec = testing::FashionMnistSpec();
  spec.set_train_subset(train_subset);
  spec.set_validation_subset(1000);
  return MakeTask(spec, kFashionCnn, epochs);
}

// Runs the task, printing the float and int8 figures and the times.
TrialOutcome RunAndPrint(const v1::TrialTask& task, const std::string& name,
                         TrainOptions options = {}) {
  auto data = SharedDataset(task.dataset());
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<TrialOutcome> outcome = RunTrial(task, *data, options);
  const double total =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(outcome.ok()) << outcome.status();
  if (!outcome.ok()) return TrialOutcome();
  const v1::Metrics& m = outcome->metrics;
  std::cout << name << ": float accuracy " << m.accuracy() << " int8 " << m.accuracy_int8()
            << " (test " << m.test_accuracy() << " / " << m.test_accuracy_int8()
            << "); train " << m.train_seconds() << " s, whole trial " << total
            << " s; int8 latency " << m.latency_ms_int8_cpu() << " ms vs float "
            << m.latency_ms_cpu() << " ms; notes: " << m.notes_size() << "\n";
  return *std::move(outcome);
}

// The stored test vectors, run on a fresh interpreter, give the stored
// outputs bit for bit.
void ExpectTestVectorsReproduce(const v1::QuantizedModel& model) {
  NAS_ASSERT_OK_AND_ASSIGN(mcu::Int8Interpreter interpreter,
                           mcu::Int8Interpreter::Create(model));
  const int n = model.test_labels_size();
  ASSERT_EQ(n, 32);
  const int in = interpreter.input_bytes(), out = interpreter.output_bytes();
  ASSERT_EQ(model.test_inputs().size(), static_cast<size_t>(n * in));
  ASSERT_EQ(model.test_outputs().size(), static_cast<size_t>(n * out));
  std::vector<int8_t> output(out);
  int agree = 0;
  for (int i = 0; i < n; ++i) {
    const auto* input = reinterpret_cast<const int8_t*>(model.test_inputs().data()) + i * in;
    NAS_ASSERT_OK(interpreter.Invoke(absl::MakeConstSpan(input, in), absl::MakeSpan(output)));
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(output.data()), out),
              model.test_outputs().substr(i * out, out))
        << "test vector " << i;
    const int predicted = static_cast<int>(
        std::max_element(output.begin(), output.end()) - output.begin());
    agree += predicted == model.test_labels(i);
  }
  EXPECT_GT(agree, n / 2);  // Real inputs with their real labels.
}

TEST(Int8TrialTest, FashionMnistInt8WithinOnePointOfFloat) {
  v1::TrialTask task = FashionTask(3000, 2);
  task.mutable_dataset()->set_evaluate_test(true);
  const TrialOutcome outcome = RunAndPrint(task, "fashion-mnist 3000x2");
  ASSERT_TRUE(outcome.succeeded()) << outcome.failure_reason;
  const v1::Metrics& m = outcome.metrics;
  EXPECT_TRUE(m.int8());
  EXPECT_GT(m.accuracy(), 0.7);
  EXPECT_NEAR(m.accuracy_int8(), m.accuracy(), 0.01);
  EXPECT_NEAR(m.macro_f1_int8(), m.macro_f1(), 0.02);
  EXPECT_NEAR(m.test_accuracy_int8(), m.test_accuracy(), 0.01);
  EXPECT_GT(m.test_macro_f1_int8(), 0.6);
  EXPECT_GT(m.latency_ms_int8_cpu(), 0);
  const v1::QuantizedModel& q = outcome.int8_model;
  EXPECT_EQ(q.layers_size(), 5);  // conv, pool, conv, pool, linear.
  EXPECT_EQ(q.num_classes(), 10);
  EXPECT_EQ(q.calibration_samples(), 1000);
  EXPECT_EQ(q.calibration(), "minmax");
  EXPECT_THAT(q.input_mean(), ElementsAre(0.0f));
  EXPECT_THAT(q.input_std(), ElementsAre(255.0f));
  EXPECT_EQ(q.labels_size(), 10);
  EXPECT_EQ(q.labels(9), "Ankle boot");
  EXPECT_EQ(q.dataset(), "fashion-mnist");
  EXPECT_THAT(q.architecture(), HasSubstr("CONV2D(8,k3,s1,p1) BATCHNORM RELU"));
  // [0, 1] pixels: zero point -128, scale 1/255.
  EXPECT_EQ(q.input_zero_point(), -128);
  EXPECT_FLOAT_EQ(q.input_scale(), 1.0f / 255);
  ExpectTestVectorsReproduce(q);
}

TEST(Int8TrialTest, Ecg5000Int8WithinOnePointOfFloat) {
  v1::DatasetSpec spec = testing::Ecg5000Spec();
  spec.set_validation_fraction(0.3);
  spec.set_evaluate_test(true);
  v1::TrialTask task = MakeTask(spec, kEcgCnn, 10);
  task.mutable_training()->set_calibration("percentile");
  const TrialOutcome outcome = RunAndPrint(task, "ecg5000 x10 percentile");
  ASSERT_TRUE(outcome.succeeded()) << outcome.failure_reason;
  const v1::Metrics& m = outcome.metrics;
  EXPECT_TRUE(m.int8());
  EXPECT_GT(m.accuracy(), 0.8);
  EXPECT_NEAR(m.accuracy_int8(), m.accuracy(), 0.01);
  EXPECT_NEAR(m.test_accuracy_int8(), m.test_accuracy(), 0.01);
  const v1::QuantizedModel& q = outcome.int8_model;
  EXPECT_EQ(q.calibration(), "percentile 99.99");
  // The whole training split: 500 beats less round(0.3 n) of each class
  // (88 + 53 + 3 + 6 + 1).
  EXPECT_EQ(q.calibration_samples(), 349);
  // Series are z-scored per channel with the training split's statistics
  // (UCR beats are z-normalised one by one, so near 0 and 1).
  ASSERT_EQ(q.input_mean_size(), 1);
  ASSERT_EQ(q.input_std_size(), 1);
  EXPECT_NEAR(q.input_mean(0), 0.0, 0.1);
  EXPECT_NEAR(q.input_std(0), 1.0, 0.1);
  EXPECT_NE(q.input_mean(0), 0.0f);
  EXPECT_EQ(q.labels_size(), 5);
  EXPECT_EQ(q.layers(q.layers_size() - 1).op(), v1::INT8_LINEAR);  // No softmax.
  ExpectTestVectorsReproduce(q);
}

TEST(Int8TrialTest, JapaneseVowelsTwelveChannelsInt8) {
  // 12 channels of 7..29 frames, padded to 29: a Conv1D over 12 input
  // channels, z-scored per channel, quantised and measured in int8.
  v1::DatasetSpec spec = testing::JapaneseVowelsSpec();
  spec.set_validation_fraction(0.2);
  spec.set_evaluate_test(true);
  v1::TrialTask task = MakeTask(
      spec, "CONV1D(16,k3,p1) BATCHNORM RELU MAXPOOL1D(k2) CONV1D(16,k3,p1) RELU "
            "GLOBAL_AVGPOOL LINEAR(9) SOFTMAX",
      15);
  const TrialOutcome outcome = RunAndPrint(task, "japanese-vowels x15");
  ASSERT_TRUE(outcome.succeeded()) << outcome.failure_reason;
  const v1::Metrics& m = outcome.metrics;
  EXPECT_TRUE(m.int8());
  // Chance is 1/9 (0.24 for the largest test class); such a net gets ~0.9.
  EXPECT_GT(m.test_accuracy(), 0.8);
  EXPECT_GT(m.test_accuracy_int8(), 0.8);
  EXPECT_NEAR(m.test_accuracy_int8(), m.test_accuracy(), 0.03);
  // The first convolution has 12 input channels: 16 * 12 * 3 + 16 weights
  // (then batch norm's 2 * 16).
  EXPECT_EQ(m.params(), m.built_params());
  EXPECT_EQ(m.params(),
            (16 * 12 * 3 + 16) + 2 * 16 + (16 * 16 * 3 + 16) + (16 * 9 + 9));
  const v1::QuantizedModel& q = outcome.int8_model;
  EXPECT_THAT(q.input_shape().dims(), ElementsAre(12, 29));
  ASSERT_EQ(q.input_mean_size(), 12);
  ASSERT_EQ(q.input_std_size(), 12);
  EXPECT_NE(q.input_mean(0), q.input_mean(1));  // Per channel.
  EXPECT_THAT(q.input_std(), Each(::testing::Gt(0.0f)));
  EXPECT_EQ(q.num_classes(), 9);
  EXPECT_THAT(q.labels(), ElementsAre("1", "2", "3", "4", "5", "6", "7", "8", "9"));
  EXPECT_EQ(q.dataset(), "japanese-vowels");
  EXPECT_EQ(q.test_inputs().size(), 32u * 12 * 29);
  ExpectTestVectorsReproduce(q);
}

TEST(Int8TrialTest, FoldsReportTheMeanAndSpreadOfTheInt8Figures) {
  v1::DatasetSpec spec = testing::Ecg5000Spec();
  spec.set_folds(4);
  spec.set_evaluate_test(true);
  v1::TrialTask task = MakeTask(spec, kEcgCnn, 10);
  const TrialOutcome outcome = RunAndPrint(task, "ecg5000 4 folds x10");
  ASSERT_TRUE(outcome.succeeded()) << outcome.failure_reason;
  const v1::Metrics& m = outcome.metrics;
  std::cout << "  spreads: accuracy " << m.accuracy_spread() << " macro-F1 "
            << m.macro_f1_spread() << "\n";
  EXPECT_EQ(m.folds(), 4);
  EXPECT_TRUE(m.int8());
  EXPECT_GT(m.accuracy_int8(), 0.8);
  EXPECT_NEAR(m.accuracy_int8(), m.accuracy(), 0.02);
  // Four networks on four validation folds of 125 beats do not all agree.
  EXPECT_GT(m.accuracy_spread(), 0);
  EXPECT_LT(m.accuracy_spread(), 0.05);
  EXPECT_GT(m.macro_f1_spread(), 0);
  EXPECT_GT(m.test_accuracy_int8(), 0.8);
  // The delivered model is fold 1's, with its test vectors.
  EXPECT_EQ(outcome.int8_model.input_mean_size(), 1);
  ExpectTestVectorsReproduce(outcome.int8_model);
}

TEST(Int8TrialTest, ALargeInt8DropIsNoted) {
  // Ranges cut at the 51st percentile clip half of every tensor's values.
  v1::DatasetSpec spec = testing::Ecg5000Spec();
  spec.set_validation_fraction(0.3);
  v1::TrialTask task = MakeTask(spec, kEcgCnn, 10);
  task.mutable_training()->set_calibration("percentile");
  task.mutable_training()->set_calibration_percentile(51);
  const TrialOutcome outcome = RunAndPrint(task, "ecg5000 x10 percentile 51");
  ASSERT_TRUE(outcome.succeeded()) << outcome.failure_reason;
  const v1::Metrics& m = outcome.metrics;
  ASSERT_GT(m.accuracy() - m.accuracy_int8(), 0.02);
  const std::string expected = absl::StrFormat(
      "int8 accuracy %.1f%% is %.1f points below float %.1f%%: try training.qat_epochs",
      100 * m.accuracy_int8(), 100 * (m.accuracy() - m.accuracy_int8()),
      100 * m.accuracy());
  EXPECT_THAT(m.notes(), ::testing::Contains(expected));
  EXPECT_EQ(outcome.int8_model.calibration(), "percentile 51");
}

TEST(Int8TrialTest, QuantizeNoneGivesNoInt8Figures) {
  v1::TrialTask task = FashionTask(600, 1);
  task.mutable_training()->set_quantize("none");
  const TrialOutcome outcome = RunAndPrint(task, "fashion-mnist none");
  ASSERT_TRUE(outcome.succeeded());
  const v1::Metrics& m = outcome.metrics;
  EXPECT_GT(m.accuracy(), 0.3);
  EXPECT_FALSE(m.int8());
  EXPECT_EQ(m.accuracy_int8(), 0);
  EXPECT_EQ(m.latency_ms_int8_cpu(), 0);
  EXPECT_THAT(m.notes(), IsEmpty());
  EXPECT_EQ(outcome.int8_model.ByteSizeLong(), 0u);
}

TEST(Int8TrialTest, QuantisationAwareTrainingReportsInt8Figures) {
  v1::TrialTask task = FashionTask(1500, 1);
  task.mutable_training()->set_qat_epochs(1);
  std::vector<TrainProgress> seen;
  TrainOptions options;
  options.on_progress = [&](const TrainProgress& p) { seen.push_back(p); };
  const TrialOutcome outcome = RunAndPrint(task, "fashion-mnist qat 1", options);
  ASSERT_TRUE(outcome.succeeded()) << outcome.failure_reason;
  const v1::Metrics& m = outcome.metrics;
  EXPECT_TRUE(m.int8());
  EXPECT_GT(m.accuracy_int8(), 0.6);
  EXPECT_EQ(outcome.int8_model.qat_epochs(), 1);
  EXPECT_EQ(m.epochs_run(), 1);  // The recipe's epochs; QAT comes after.
  // Progress: epoch 1 (training), then epoch 2 (QAT) of 2, then evaluating.
  ASSERT_FALSE(seen.empty());
  EXPECT_TRUE(seen.back().evaluating);
  EXPECT_EQ(seen.back().epoch, 2);
  EXPECT_THAT(seen, Each(::testing::Field(&TrainProgress::epochs, 2)));
  const TrainProgress& last_qat_step = seen[seen.size() - 2];
  EXPECT_EQ(last_qat_step.epoch, 2);
  EXPECT_EQ(last_qat_step.batches_done, last_qat_step.batches_per_epoch);
  ExpectTestVectorsReproduce(outcome.int8_model);
}

TEST(Int8TrialTest, QatStopsWhenAskedTo) {
  v1::TrialTask task = FashionTask(600, 1);
  task.mutable_training()->set_qat_epochs(2);
  std::atomic<bool> stop{false};
  TrainOptions options;
  options.stop = &stop;
  options.on_progress = [&](const TrainProgress& p) {
    if (p.epoch == 2 && p.batches_done == 3) stop = true;
  };
  NAS_ASSERT_OK_AND_ASSIGN(TrialOutcome outcome,
                           RunTrial(task, *SharedDataset(task.dataset()), options));
  EXPECT_EQ(outcome.kind, TrialOutcome::Kind::kCancelled);
  EXPECT_EQ(outcome.failure_reason, "cancelled at epoch 2 step 3");
}

TEST(Int8TrialTest, RejectsABadInt8Recipe) {
  v1::TrialTask task = FashionTask(600, 1);
  task.mutable_training()->set_quantize("int4");
  task.mutable_training()->set_calibration("entropy");
  EXPECT_THAT(RunTrial(task, *SharedDataset(task.dataset()), {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("training.quantize: unknown 'int4'"),
                             HasSubstr("training.calibration: unknown 'entropy'"))));
}

}  // namespace
}  // namespace nas::worker
