#include "worker/trainer.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <torch/cuda.h>
#include <torch/script.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/worker/test_data.h"

namespace nas::worker {
namespace {

using ::nas::testing::StatusIs;
using ::testing::AllOf;
using ::testing::Gt;
using ::testing::HasSubstr;
using ::testing::Le;
using ::testing::StartsWith;
using testing::MakeTask;
using testing::SharedDataset;

constexpr char kSmallCnn[] =
    "CONV2D(8,k3,p1) RELU MAXPOOL2D(k2) CONV2D(16,k3,p1) RELU MAXPOOL2D(k2) LINEAR(10)";
constexpr char kEcgCnn[] =
    "CONV1D(8,k5,s2,p2) BATCHNORM RELU MAXPOOL1D(k2) CONV1D(16,k5,p2) RELU "
    "GLOBAL_AVGPOOL LINEAR(5) SOFTMAX";

v1::TrialTask FashionTask(int64_t train_subset) {
  v1::DatasetSpec spec = testing::FashionMnistSpec();
  spec.set_train_subset(train_subset);
  spec.set_validation_subset(1000);
  return MakeTask(spec, kSmallCnn, 1);
}

// Accuracy of an exported TorchScript model on `indices` of `set`,
// normalised with `normalization`.
double ExportedAccuracy(const std::string& bytes, const SampleSet& set,
                        const InputNormalization& normalization,
                        const std::vector<int64_t>& indices) {
  std::istringstream in(bytes);
  torch::jit::Module module = torch::jit::load(in);
  std::vector<int64_t> dims = {static_cast<int64_t>(indices.size())};
  dims.insert(dims.end(), set.shape().begin(), set.shape().end());
  torch::Tensor input = torch::empty(dims);
  for (size_t i = 0; i < indices.size(); ++i) {
    set.CopySample(indices[i], normalization,
                   input.data_ptr<float>() + i * set.sample_size());
  }
  torch::Tensor predicted = module.forward({input}).toTensor().argmax(1);
  int64_t correct = 0;
  for (size_t i = 0; i < indices.size(); ++i) {
    correct += predicted[i].item<int64_t>() == set.labels[indices[i]];
  }
  return static_cast<double>(correct) / indices.size();
}

TEST(TrainerTest, TrainsFashionMnistSubsetWellAboveChance) {
  v1::TrialTask task = FashionTask(2000);
  task.mutable_dataset()->set_evaluate_test(true);
  auto data = SharedDataset(task.dataset());
  std::vector<int> epochs_seen;
  std::vector<TrainProgress> seen;
  TrainOptions options;
  options.on_progress = [&](const TrainProgress& progress) {
    if (!progress.evaluating) epochs_seen.push_back(progress.epoch);
    seen.push_back(progress);
    ASSERT_TRUE(std::isfinite(progress.loss));
  };
  NAS_ASSERT_OK_AND_ASSIGN(TrialOutcome outcome, RunTrial(task, *data, options));
  ASSERT_TRUE(outcome.succeeded()) << outcome.failure_reason;
  const v1::Metrics& m = outcome.metrics;
  std::cout << "fashion-mnist 2000: " << m.ShortDebugString() << "\n";
  // 2000 samples, one epoch: chance is 0.10; such a CNN reaches ~0.7.
  EXPECT_GT(m.accuracy(), 0.6);
  EXPECT_GT(m.test_accuracy(), 0.6);
  EXPECT_THAT(m.macro_f1(), AllOf(Gt(0.5), Le(1.0)));
  EXPECT_THAT(m.test_macro_f1(), AllOf(Gt(0.5), Le(1.0)));
  EXPECT_EQ(m.epochs_run(), 1);
  EXPECT_EQ(epochs_seen.size(), 2000u / 32 + 1);  // 62 full batches + 16.
  // Every step counted, then one update as evaluation starts.
  ASSERT_EQ(seen.size(), epochs_seen.size() + 1);
  const TrainProgress& last_step = seen[seen.size() - 2];
  EXPECT_FALSE(last_step.evaluating);
  EXPECT_EQ(last_step.epoch, 1);
  EXPECT_EQ(last_step.epochs, 1);
  EXPECT_EQ(last_step.batches_done, 63);
  EXPECT_EQ(last_step.batches_per_epoch, 63);
  EXPECT_EQ(last_step.samples_seen, 2000);
  EXPECT_GT(last_step.train_seconds, 0);
  EXPECT_EQ(seen[0].batches_done, 1);
  EXPECT_EQ(seen[0].samples_seen, 32);
  EXPECT_TRUE(seen.back().evaluating);
  EXPECT_DOUBLE_EQ(seen.back().train_seconds, m.train_seconds());
  EXPECT_GT(m.samples_per_second(), 0);
  EXPECT_GT(m.train_seconds(), 0);
  EXPECT_GT(m.latency_ms_cpu(), 0);
  EXPECT_TRUE(std::isfinite(m.final_loss()));
  // The built LibTorch model has exactly the analytic parameter count.
  EXPECT_EQ(m.built_params(), m.params());
  EXPECT_EQ(m.params(), (8 * 9 + 8) + (16 * 8 * 9 + 16) + (16 * 7 * 7 * 10 + 10));
  EXPECT_GT(m.macs(), 0);
  EXPECT_GT(m.flash_bytes(), 0);
  // The export, loaded back, classifies the validation samples exactly as
  // the trained model did.
  ASSERT_FALSE(outcome.torchscript.empty());
  NAS_ASSERT_OK_AND_ASSIGN(DataSplit split,
                           SplitTrainValidation(data->train->labels, task.dataset(),
                                                task.seed()));
  EXPECT_DOUBLE_EQ(ExportedAccuracy(outcome.torchscript, *data->train,
                                    InputNormalization::Scale(1), split.validation),
                   m.accuracy());
}

TEST(TrainerTest, TrainsEcg5000ToAUsefulClassifier) {
  v1::TrialTask task = MakeTask(testing::Ecg5000Spec(), kEcgCnn, 15);
  task.mutable_dataset()->set_evaluate_test(true);
  auto data = SharedDataset(task.dataset());
  NAS_ASSERT_OK_AND_ASSIGN(TrialOutcome outcome, RunTrial(task, *data, TrainOptions()));
  ASSERT_TRUE(outcome.succeeded()) << outcome.failure_reason;
  std::cout << "ecg5000: " << outcome.metrics.ShortDebugString() << "\n";
  // The majority class is 58% of the test set; published classifiers reach
  // 0.92-0.95 on it. 450 training beats and a ~1k-parameter CNN get ~0.9.
  EXPECT_GT(outcome.metrics.test_accuracy(), 0.85);
  EXPECT_GT(outcome.metrics.accuracy(), 0.8);
  EXPECT_EQ(outcome.metrics.epochs_run(), 15);
  EXPECT_EQ(outcome.metrics.built_params(), outcome.metrics.params());
}

TEST(TrainerTest, SameSeedsGiveTheSameRun) {
  v1::TrialTask task = MakeTask(testing::Ecg5000Spec(), kEcgCnn, 2);
  auto data = SharedDataset(task.dataset());
  TrainOptions options;
  options.export_model = false;
  NAS_ASSERT_OK_AND_ASSIGN(TrialOutcome a, RunTrial(task, *data, options));
  NAS_ASSERT_OK_AND_ASSIGN(TrialOutcome b, RunTrial(task, *data, options));
  EXPECT_EQ(a.metrics.final_loss(), b.metrics.final_loss());
  EXPECT_EQ(a.metrics.accuracy(), b.metrics.accuracy());
  task.set_trial_seed(12);
  NAS_ASSERT_OK_AND_ASSIGN(TrialOutcome c, RunTrial(task, *data, options));
  EXPECT_NE(a.metrics.final_loss(), c.metrics.final_loss());
}

TEST(TrainerTest, DivergingRunIsAFailedTrialWithItsReason) {
  v1::TrialTask task = MakeTask(testing::Ecg5000Spec(), kEcgCnn, 3);
  task.mutable_training()->set_optimizer("sgd");
  task.mutable_training()->set_learning_rate(1e6);
  task.mutable_training()->set_momentum(0.9);
  auto data = SharedDataset(task.dataset());
  NAS_ASSERT_OK_AND_ASSIGN(TrialOutcome outcome, RunTrial(task, *data, TrainOptions()));
  EXPECT_EQ(outcome.kind, TrialOutcome::Kind::kFailed);
  std::cout << "lr 1e6: " << outcome.failure_reason << "\n";
  EXPECT_THAT(outcome.failure_reason,
              AllOf(StartsWith("diverged: "), HasSubstr("at epoch 1")));
  EXPECT_TRUE(outcome.torchscript.empty());
}

TEST(TrainerTest, StopFlagCancelsPromptly) {
  v1::TrialTask task = FashionTask(2000);
  auto data = SharedDataset(task.dataset());
  std::atomic<bool> stop{false};
  int steps = 0;
  TrainOptions options;
  options.stop = &stop;
  options.on_progress = [&](const TrainProgress&) {
    if (++steps == 3) stop = true;
  };
  NAS_ASSERT_OK_AND_ASSIGN(TrialOutcome outcome, RunTrial(task, *data, options));
  EXPECT_EQ(outcome.kind, TrialOutcome::Kind::kCancelled);
  EXPECT_EQ(outcome.failure_reason, "cancelled at epoch 1 step 3");
  EXPECT_EQ(steps, 3);
  EXPECT_TRUE(outcome.torchscript.empty());
}

TEST(TrainerTest, BadRecipeListsEveryProblem) {
  v1::TrialTask task = MakeTask(testing::Ecg5000Spec(), kEcgCnn, 0);
  task.mutable_training()->set_optimizer("rmsprop");
  task.mutable_training()->set_learning_rate(-1);
  task.mutable_training()->set_batch_size(0);
  auto data = SharedDataset(task.dataset());
  EXPECT_THAT(RunTrial(task, *data, TrainOptions()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("training.optimizer: unknown 'rmsprop'"),
                             HasSubstr("training.learning_rate: -1 must be > 0"),
                             HasSubstr("training.epochs: 0 must be > 0"),
                             HasSubstr("training.batch_size: 0 must be > 0"))));
}

TEST(TrainerTest, InvalidArchitectureIsAnError) {
  v1::TrialTask task = MakeTask(testing::Ecg5000Spec(), "CONV2D(8,k3) LINEAR(5)", 1);
  auto data = SharedDataset(task.dataset());
  EXPECT_THAT(RunTrial(task, *data, TrainOptions()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("layer 0 (CONV2D)")));
}

TEST(TrainerTest, SgdAndAdamwTrainToo) {
  auto data = SharedDataset(testing::Ecg5000Spec());
  for (const char* optimizer : {"sgd", "adamw"}) {
    v1::TrialTask task = MakeTask(testing::Ecg5000Spec(), kEcgCnn, 10);
    task.mutable_training()->set_optimizer(optimizer);
    task.mutable_training()->set_learning_rate(optimizer[0] == 's' ? 0.05 : 0.003);
    task.mutable_training()->set_momentum(0.9);
    task.mutable_training()->set_weight_decay(1e-4);
    NAS_ASSERT_OK_AND_ASSIGN(TrialOutcome outcome, RunTrial(task, *data, TrainOptions()));
    ASSERT_TRUE(outcome.succeeded()) << optimizer << ": " << outcome.failure_reason;
    // The majority class is 29 of the 50 validation beats (0.58).
    EXPECT_GT(outcome.metrics.accuracy(), 0.8) << optimizer;
  }
}

TEST(TrainerTest, StockOptimizerAndLayoutTrainToo) {
  v1::TrialTask task = FashionTask(2000);
  auto data = SharedDataset(task.dataset());
  TrainOptions options;
  options.fused_optimizer = false;
  options.channels_last = false;
  NAS_ASSERT_OK_AND_ASSIGN(TrialOutcome outcome, RunTrial(task, *data, options));
  ASSERT_TRUE(outcome.succeeded()) << outcome.failure_reason;
  EXPECT_GT(outcome.metrics.accuracy(), 0.6);
}

// An ECG5000 task trained on `folds` folds, float only.
v1::TrialTask FoldTask(int folds, int epochs) {
  v1::DatasetSpec spec = testing::Ecg5000Spec();
  spec.set_folds(folds);
  spec.set_evaluate_test(true);
  v1::TrialTask task = MakeTask(spec, kEcgCnn, epochs);
  task.mutable_training()->set_quantize("none");
  return task;
}

TEST(TrainerTest, FoldsTrainTheCandidateOncePerFold) {
  const v1::TrialTask task = FoldTask(3, 8);
  auto data = SharedDataset(task.dataset());
  std::vector<TrainProgress> seen;
  TrainOptions options;
  options.on_progress = [&](const TrainProgress& p) { seen.push_back(p); };
  NAS_ASSERT_OK_AND_ASSIGN(TrialOutcome outcome, RunTrial(task, *data, options));
  ASSERT_TRUE(outcome.succeeded()) << outcome.failure_reason;
  const v1::Metrics& m = outcome.metrics;
  std::cout << "ecg5000 3 folds: " << m.ShortDebugString() << "\n";
  EXPECT_EQ(m.folds(), 3);
  EXPECT_GT(m.accuracy(), 0.8);
  EXPECT_EQ(m.epochs_run(), 8);
  // Progress runs over 3 x 8 epochs, fold 2's epochs numbered 9..16, each
  // fold over its own ~333 training beats; `evaluating` once, at the end.
  ASSERT_FALSE(seen.empty());
  EXPECT_THAT(seen, ::testing::Each(::testing::Field(&TrainProgress::epochs, 24)));
  std::set<int> epochs;
  int evaluating = 0;
  for (const TrainProgress& p : seen) {
    epochs.insert(p.epoch);
    evaluating += p.evaluating;
  }
  EXPECT_EQ(epochs.size(), 24u);
  EXPECT_EQ(*epochs.begin(), 1);
  EXPECT_EQ(*epochs.rbegin(), 24);
  EXPECT_EQ(evaluating, 1);
  EXPECT_TRUE(seen.back().evaluating);
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<DataSplit> folds,
                           TrialSplits(data->train->labels, task.dataset(), task.seed()));
  ASSERT_EQ(folds.size(), 3u);
  int64_t samples = 0;
  for (const DataSplit& fold : folds) {
    const auto n = static_cast<int64_t>(fold.train.size());
    EXPECT_NEAR(n, 333, 1);
    samples += 8 * (n % 32 == 1 ? n - 1 : n);  // A last batch of one is dropped.
  }
  EXPECT_EQ(seen.back().samples_seen, samples);
  EXPECT_DOUBLE_EQ(seen.back().train_seconds, m.train_seconds());

  // The export and the test figures are fold 1's network: its validation
  // fold (with its normalisation) gives one of the three accuracies, within
  // sqrt(K - 1) spreads of their mean, and the test set gives test_accuracy.
  NAS_ASSERT_OK_AND_ASSIGN(
      InputNormalization fold1,
      TrialNormalization(task.dataset(), *data->train, folds[0].train));
  std::vector<int64_t> test(data->test->size());
  for (size_t i = 0; i < test.size(); ++i) test[i] = static_cast<int64_t>(i);
  EXPECT_DOUBLE_EQ(ExportedAccuracy(outcome.torchscript, *data->test, fold1, test),
                   m.test_accuracy());
  const double first = ExportedAccuracy(outcome.torchscript, *data->train, fold1,
                                        folds[0].validation);
  EXPECT_GT(m.accuracy_spread(), 0);
  EXPECT_LE(std::abs(first - m.accuracy()), std::sqrt(2.0) * m.accuracy_spread() + 1e-12);

  // The same task again gives the same figures; one split gives others.
  TrainOptions quiet;
  quiet.export_model = false;
  NAS_ASSERT_OK_AND_ASSIGN(TrialOutcome again, RunTrial(task, *data, quiet));
  EXPECT_EQ(again.metrics.accuracy(), m.accuracy());
  EXPECT_EQ(again.metrics.accuracy_spread(), m.accuracy_spread());
  NAS_ASSERT_OK_AND_ASSIGN(TrialOutcome single, RunTrial(FoldTask(0, 8), *data, quiet));
  EXPECT_EQ(single.metrics.folds(), 0);
  EXPECT_EQ(single.metrics.accuracy_spread(), 0);
}

TEST(TrainerTest, StopFlagCancelsWithinAndBetweenFolds) {
  const v1::TrialTask task = FoldTask(3, 2);
  auto data = SharedDataset(task.dataset());
  // Within fold 2: its epoch 1 is the trial's epoch 3.
  std::atomic<bool> stop{false};
  TrainOptions options;
  options.stop = &stop;
  options.on_progress = [&](const TrainProgress& p) {
    if (p.epoch == 3 && p.batches_done == 2) stop = true;
  };
  NAS_ASSERT_OK_AND_ASSIGN(TrialOutcome within, RunTrial(task, *data, options));
  EXPECT_EQ(within.kind, TrialOutcome::Kind::kCancelled);
  EXPECT_EQ(within.failure_reason, "fold 2 of 3: cancelled at epoch 3 step 2");
  // After fold 1's last step: fold 1 is measured, fold 2 never starts.
  stop = false;
  int last_epoch = 0;
  options.on_progress = [&](const TrainProgress& p) {
    last_epoch = std::max(last_epoch, p.epoch);
    if (p.epoch == 2 && p.batches_done == p.batches_per_epoch) stop = true;
  };
  NAS_ASSERT_OK_AND_ASSIGN(TrialOutcome between, RunTrial(task, *data, options));
  EXPECT_EQ(between.kind, TrialOutcome::Kind::kCancelled);
  EXPECT_EQ(between.failure_reason, "fold 2 of 3: cancelled before its training");
  EXPECT_EQ(last_epoch, 2);
}

TEST(ComputeDeviceTest, ChoosesFromTheFlag) {
  NAS_ASSERT_OK_AND_ASSIGN(ComputeDevice cpu, ChooseComputeDevice("cpu"));
  EXPECT_EQ(cpu, ComputeDevice::kCpu);
  NAS_ASSERT_OK_AND_ASSIGN(ComputeDevice automatic, ChooseComputeDevice("auto"));
  EXPECT_EQ(automatic == ComputeDevice::kCuda, torch::cuda::is_available());
  if (!torch::cuda::is_available()) {
    EXPECT_THAT(ChooseComputeDevice("cuda"),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no CUDA")));
  }
  EXPECT_THAT(ChooseComputeDevice("gpu"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown 'gpu'")));
}

}  // namespace
}  // namespace nas::worker
