// Stratified hold-out splits and folds on the real data sets' labels.

#include "worker/dataset_split.h"

#include <algorithm>
#include <set>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/worker/test_data.h"

namespace nas::worker {
namespace {

using ::nas::testing::StatusIs;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Ecg5000Spec;
using testing::FashionMnistSpec;
using testing::SharedDataset;

// Per class, how many of `indices` have it.
std::vector<int> CountsOf(const std::vector<int32_t>& labels,
                          const std::vector<int64_t>& indices, int classes) {
  std::vector<int> counts(classes, 0);
  for (int64_t i : indices) ++counts.at(labels.at(i));
  return counts;
}

void ExpectDisjointAndSorted(const DataSplit& split) {
  EXPECT_TRUE(std::is_sorted(split.train.begin(), split.train.end()));
  EXPECT_TRUE(std::is_sorted(split.validation.begin(), split.validation.end()));
  std::set<int64_t> train(split.train.begin(), split.train.end());
  for (int64_t i : split.validation) ASSERT_EQ(train.count(i), 0u) << i;
}

TEST(DatasetSplitTest, HoldOutIsStratifiedAndDeterministicInTheSeed) {
  const std::vector<int32_t>& labels = SharedDataset(FashionMnistSpec())->train->labels;
  const v1::DatasetSpec spec = FashionMnistSpec();  // validation_fraction 0.1
  NAS_ASSERT_OK_AND_ASSIGN(DataSplit a, SplitTrainValidation(labels, spec, 42));
  NAS_ASSERT_OK_AND_ASSIGN(DataSplit b, SplitTrainValidation(labels, spec, 42));
  NAS_ASSERT_OK_AND_ASSIGN(DataSplit c, SplitTrainValidation(labels, spec, 43));
  // Exactly a tenth of every class (6000 each) is held out.
  EXPECT_THAT(CountsOf(labels, a.validation, 10), Each(600));
  EXPECT_THAT(CountsOf(labels, a.train, 10), Each(5400));
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.validation, b.validation);
  EXPECT_NE(a.validation, c.validation);
  ExpectDisjointAndSorted(a);
  EXPECT_EQ(a.train.size() + a.validation.size(), 60000u);
}

TEST(DatasetSplitTest, HoldOutKeepsEveryEcgClassOnBothSides) {
  const std::vector<int32_t>& labels = SharedDataset(Ecg5000Spec())->train->labels;
  v1::DatasetSpec spec = Ecg5000Spec();
  spec.set_validation_fraction(0.3);
  NAS_ASSERT_OK_AND_ASSIGN(DataSplit split, SplitTrainValidation(labels, spec, 7));
  // 292, 177, 10, 19, 2 beats: round(n * 0.3) of each held out.
  EXPECT_THAT(CountsOf(labels, split.validation, 5), ElementsAre(88, 53, 3, 6, 1));
  EXPECT_THAT(CountsOf(labels, split.train, 5), ElementsAre(204, 124, 7, 13, 1));
  ExpectDisjointAndSorted(split);
}

TEST(DatasetSplitTest, EveryClassKeepsATrainingSample) {
  // Class 1 has one sample, class 2 two: at a fraction of 0.9 they would go
  // to validation entirely.
  const std::vector<int32_t> labels = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 2};
  v1::DatasetSpec spec;
  spec.set_validation_fraction(0.9);
  NAS_ASSERT_OK_AND_ASSIGN(DataSplit split, SplitTrainValidation(labels, spec, 1));
  EXPECT_THAT(CountsOf(labels, split.train, 3), ElementsAre(1, 1, 1));
  EXPECT_THAT(CountsOf(labels, split.validation, 3), ElementsAre(9, 0, 1));
}

TEST(DatasetSplitTest, SubsetsCapTheSplitsStratified) {
  const std::vector<int32_t>& labels = SharedDataset(FashionMnistSpec())->train->labels;
  v1::DatasetSpec spec = FashionMnistSpec();
  spec.set_train_subset(2000);
  spec.set_validation_subset(500);
  NAS_ASSERT_OK_AND_ASSIGN(DataSplit split, SplitTrainValidation(labels, spec, 1));
  EXPECT_THAT(CountsOf(labels, split.train, 10), Each(200));
  EXPECT_THAT(CountsOf(labels, split.validation, 10), Each(50));
  // The capped validation subset is still held out from training.
  NAS_ASSERT_OK_AND_ASSIGN(DataSplit full,
                           SplitTrainValidation(labels, FashionMnistSpec(), 1));
  std::set<int64_t> held_out(full.validation.begin(), full.validation.end());
  for (int64_t i : split.train) ASSERT_FALSE(held_out.count(i)) << i;
  for (int64_t i : split.validation) ASSERT_TRUE(held_out.count(i)) << i;
  // ECG's unbalanced classes keep their shares: 100 of 350 training beats.
  const std::vector<int32_t>& ecg = SharedDataset(Ecg5000Spec())->train->labels;
  v1::DatasetSpec ecg_spec = Ecg5000Spec();
  ecg_spec.set_validation_fraction(0.3);
  ecg_spec.set_train_subset(100);
  NAS_ASSERT_OK_AND_ASSIGN(DataSplit small, SplitTrainValidation(ecg, ecg_spec, 7));
  // 204, 124, 7, 13, 1 of 349 scaled to 100: 58.45, 35.53, 2.01, 3.72, 0.29.
  EXPECT_THAT(CountsOf(ecg, small.train, 5), ElementsAre(58, 36, 2, 4, 0));
}

TEST(DatasetSplitTest, HoldOutRejectsBadFractions) {
  const std::vector<int32_t>& labels = SharedDataset(Ecg5000Spec())->train->labels;
  v1::DatasetSpec spec = Ecg5000Spec();
  spec.set_validation_fraction(1.0);
  EXPECT_THAT(SplitTrainValidation(labels, spec, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("validation_fraction: 1 is outside [0, 1)")));
  spec.set_validation_fraction(0.0);
  EXPECT_THAT(SplitTrainValidation(labels, spec, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("0 validation samples")));
}

TEST(DatasetSplitTest, FoldsPartitionTheTrainingFileByClass) {
  const std::vector<int32_t>& labels = SharedDataset(Ecg5000Spec())->train->labels;
  v1::DatasetSpec spec = Ecg5000Spec();
  spec.set_folds(5);
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<DataSplit> folds, TrialSplits(labels, spec, 3));
  ASSERT_EQ(folds.size(), 5u);
  std::multiset<int64_t> validated;
  for (const DataSplit& fold : folds) {
    ExpectDisjointAndSorted(fold);
    EXPECT_EQ(fold.train.size() + fold.validation.size(), 500u);
    EXPECT_EQ(fold.validation.size(), 100u);
    // 292, 177, 10, 19, 2 dealt over five folds: floor or ceil of n / 5.
    const std::vector<int> counts = CountsOf(labels, fold.validation, 5);
    EXPECT_GE(counts[0], 58);
    EXPECT_LE(counts[0], 59);
    EXPECT_GE(counts[1], 35);
    EXPECT_LE(counts[1], 36);
    EXPECT_EQ(counts[2], 2);
    EXPECT_LE(counts[4], 1);
    validated.insert(fold.validation.begin(), fold.validation.end());
  }
  // Every beat is validated exactly once.
  EXPECT_EQ(validated.size(), 500u);
  EXPECT_EQ(std::set<int64_t>(validated.begin(), validated.end()).size(), 500u);
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<DataSplit> again, TrialSplits(labels, spec, 3));
  EXPECT_EQ(again[2].validation, folds[2].validation);
}

TEST(DatasetSplitTest, FoldsOfATinySubsetKeepSingletonsInTraining) {
  // 23 beats as a tiny data set would have them: classes of 9, 8, 3, 2, 1.
  const std::vector<int32_t>& ecg = SharedDataset(Ecg5000Spec())->train->labels;
  std::vector<int32_t> labels;
  std::vector<int> wanted = {9, 8, 3, 2, 1};
  for (int32_t label : ecg) {
    if (wanted[label] > 0) {
      --wanted[label];
      labels.push_back(label);
    }
  }
  ASSERT_EQ(labels.size(), 23u);
  v1::DatasetSpec spec;
  spec.set_folds(5);
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<DataSplit> folds, TrialSplits(labels, spec, 9));
  ASSERT_EQ(folds.size(), 5u);
  std::set<int64_t> validated;
  for (const DataSplit& fold : folds) {
    ExpectDisjointAndSorted(fold);
    EXPECT_GE(fold.validation.size(), 4u);
    EXPECT_LE(fold.validation.size(), 5u);
    // The single beat of class 4 always trains.
    EXPECT_EQ(CountsOf(labels, fold.train, 5)[4], 1);
    validated.insert(fold.validation.begin(), fold.validation.end());
  }
  EXPECT_EQ(validated.size(), 22u);
}

TEST(DatasetSplitTest, TooManyFoldsAreRefused) {
  v1::DatasetSpec spec;
  spec.set_folds(5);
  EXPECT_THAT(TrialSplits({0, 0, 1, 1}, spec, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("empty split (4 training, 0 validation samples from 4 "
                                 "with 5 folds)")));
  spec.set_folds(-2);
  EXPECT_THAT(TrialSplits({0, 0, 1, 1}, spec, 1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("dataset.folds: -2")));
}

}  // namespace
}  // namespace nas::worker
