// Input normalisation on the real data sets, and how fold metrics combine.

#include "worker/normalization.h"

#include <cmath>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/worker/test_data.h"
#include "worker/dataset.h"
#include "worker/folds.h"

namespace nas::worker {
namespace {

using ::testing::DoubleNear;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::FloatEq;
using ::testing::IsEmpty;
using testing::Ecg5000Spec;
using testing::FashionMnistSpec;
using testing::JapaneseVowelsSpec;
using testing::SharedDataset;

// Per channel, the mean and population std of the normalised samples
// `indices` (as the network gets them), in double.
void Moments(const SampleSet& set, const InputNormalization& n,
             const std::vector<int64_t>& indices, std::vector<double>* mean,
             std::vector<double>* std) {
  const int64_t channels = set.channels();
  const int64_t per_channel = set.sample_size() / channels;
  std::vector<double> sum(channels, 0), squares(channels, 0);
  std::vector<float> x(set.sample_size());
  for (int64_t i : indices) {
    set.CopySample(i, n, x.data());
    for (int64_t c = 0; c < channels; ++c) {
      for (int64_t t = 0; t < per_channel; ++t) {
        sum[c] += x[c * per_channel + t];
        squares[c] += double{x[c * per_channel + t]} * x[c * per_channel + t];
      }
    }
  }
  const double count = static_cast<double>(indices.size()) * per_channel;
  mean->clear();
  std->clear();
  for (int64_t c = 0; c < channels; ++c) {
    mean->push_back(sum[c] / count);
    std->push_back(std::sqrt(squares[c] / count - (sum[c] / count) * (sum[c] / count)));
  }
}

TEST(NormalizationTest, DefaultsAreScaleForBytesAndZScoreForSeries) {
  v1::DatasetSpec fashion = FashionMnistSpec();
  fashion.clear_normalization();
  auto images = SharedDataset(fashion);
  NAS_ASSERT_OK_AND_ASSIGN(InputNormalization scale,
                           TrialNormalization(fashion, *images->train, {0, 1, 2}));
  EXPECT_THAT(scale.mean, ElementsAre(0.0f));
  EXPECT_THAT(scale.std, ElementsAre(255.0f));

  v1::DatasetSpec ecg = Ecg5000Spec();
  ecg.clear_normalization();
  auto series = SharedDataset(ecg);
  const std::vector<int64_t> train = {0, 5, 17, 42, 99};
  NAS_ASSERT_OK_AND_ASSIGN(InputNormalization z,
                           TrialNormalization(ecg, *series->train, train));
  // By hand over the 5 x 140 raw values.
  double sum = 0, squares = 0;
  for (int64_t i : train) {
    for (int t = 0; t < 140; ++t) sum += series->train->inputs->values[i * 140 + t];
  }
  const double mean = sum / 700;
  for (int64_t i : train) {
    for (int t = 0; t < 140; ++t) {
      const double d = series->train->inputs->values[i * 140 + t] - mean;
      squares += d * d;
    }
  }
  EXPECT_THAT(z.mean, ElementsAre(FloatEq(static_cast<float>(mean))));
  EXPECT_THAT(z.std, ElementsAre(FloatEq(static_cast<float>(std::sqrt(squares / 700)))));

  ecg.set_normalization(v1::NORMALIZATION_NONE);
  NAS_ASSERT_OK_AND_ASSIGN(InputNormalization none,
                           TrialNormalization(ecg, *series->train, train));
  EXPECT_TRUE(none.identity());
  ecg.set_normalization(v1::NORMALIZATION_SCALE);
  NAS_ASSERT_OK_AND_ASSIGN(InputNormalization scaled,
                           TrialNormalization(ecg, *series->train, train));
  EXPECT_THAT(scaled.std, ElementsAre(255.0f));
}

TEST(NormalizationTest, ZScorePerChannelFromTheTrainingSplitOnly) {
  const v1::DatasetSpec spec = JapaneseVowelsSpec();  // Resolved: ZSCORE.
  ASSERT_EQ(spec.normalization(), v1::NORMALIZATION_ZSCORE);
  auto data = SharedDataset(spec);
  const SampleSet& set = *data->train;
  NAS_ASSERT_OK_AND_ASSIGN(DataSplit split, SplitTrainValidation(set.labels, spec, 5));
  NAS_ASSERT_OK_AND_ASSIGN(InputNormalization z,
                           TrialNormalization(spec, set, split.train));
  ASSERT_EQ(z.mean.size(), 12u);
  ASSERT_EQ(z.std.size(), 12u);
  // The training split, normalised, has mean 0 and std 1 on every channel.
  std::vector<double> mean, std;
  Moments(set, z, split.train, &mean, &std);
  EXPECT_THAT(mean, Each(DoubleNear(0.0, 1e-4)));
  EXPECT_THAT(std, Each(DoubleNear(1.0, 1e-4)));
  // The statistics are the training split's, not the whole file's.
  std::vector<int64_t> all(set.size());
  for (int64_t i = 0; i < set.size(); ++i) all[i] = i;
  const InputNormalization whole = InputNormalization::ZScore(set, all);
  EXPECT_NE(whole.mean, z.mean);
  // The channels differ (12 LPC cepstrum coefficients): one value per channel.
  EXPECT_NE(z.mean[0], z.mean[1]);
  EXPECT_NE(z.std[0], z.std[11]);
}

TEST(NormalizationTest, AConstantChannelGetsStdOne) {
  const std::string path = testing::WriteTempFile(
      "constant.tsv", "1\t3\t3\t3\t3\n2\t3\t3\t3\t3\n1\t3\t3\t3\t3\n");
  v1::DatasetSpec spec;
  spec.set_format(v1::UCR_TSV);
  spec.set_train_path(path);
  NAS_ASSERT_OK_AND_ASSIGN(Dataset data, LoadDataset(spec));
  NAS_ASSERT_OK_AND_ASSIGN(InputNormalization z,
                           TrialNormalization(spec, *data.train, {0, 1, 2}));
  EXPECT_THAT(z.mean, ElementsAre(3.0f));
  EXPECT_THAT(z.std, ElementsAre(1.0f));
  std::vector<float> x(4);
  data.train->CopySample(1, z, x.data());
  EXPECT_THAT(x, Each(0.0f));
}

TEST(NormalizationTest, TheQuantizedModelCarriesIt) {
  const InputNormalization n{{0.5f, -1.0f}, {2.0f, 4.0f}};
  v1::QuantizedModel model;
  model.add_input_mean(9);  // Replaced.
  n.ToModel(&model);
  EXPECT_THAT(model.input_mean(), ElementsAre(0.5f, -1.0f));
  EXPECT_THAT(model.input_std(), ElementsAre(2.0f, 4.0f));
  const InputNormalization back = InputNormalization::FromModel(model);
  EXPECT_EQ(back.mean, n.mean);
  EXPECT_EQ(back.std, n.std);
  v1::QuantizedModel none;
  InputNormalization::None().ToModel(&none);
  EXPECT_THAT(none.input_mean(), IsEmpty());
  EXPECT_TRUE(InputNormalization::FromModel(none).identity());
  // Apply: channel-major, (x - mean) * (1 / std).
  std::vector<float> x = {1.5f, 2.5f, 3.0f, 7.0f};
  n.Apply(2, x.data());
  EXPECT_THAT(x, ElementsAre(0.5f, 1.0f, 1.0f, 2.0f));
}

TEST(FoldsTest, MeansAndSpreadsOfTheDeployedFigures) {
  std::vector<v1::Metrics> folds(3);
  const double accuracy[] = {0.8, 0.9, 1.0}, int8[] = {0.7, 0.9, 0.8};
  const double f1[] = {0.6, 0.7, 0.8}, f1_int8[] = {0.5, 0.5, 0.8};
  for (int k = 0; k < 3; ++k) {
    folds[k].set_accuracy(accuracy[k]);
    folds[k].set_accuracy_int8(int8[k]);
    folds[k].set_macro_f1(f1[k]);
    folds[k].set_macro_f1_int8(f1_int8[k]);
    folds[k].set_int8(true);
    folds[k].set_final_loss(k + 1);
    folds[k].set_train_seconds(2);
    folds[k].set_samples_per_second(100 * (k + 1));
  }
  folds[0].set_test_accuracy(0.77);
  folds[0].set_latency_ms_cpu(1.5);
  folds[0].add_notes("fold 1's note");
  const v1::Metrics m = CombineFolds(folds);
  EXPECT_EQ(m.folds(), 3);
  EXPECT_NEAR(m.accuracy(), 0.9, 1e-12);
  EXPECT_NEAR(m.accuracy_int8(), 0.8, 1e-12);
  EXPECT_NEAR(m.macro_f1(), 0.7, 1e-12);
  EXPECT_NEAR(m.macro_f1_int8(), 0.6, 1e-12);
  // Population std of the int8 figures: sqrt(0.02 / 3) and sqrt(0.06 / 3).
  EXPECT_NEAR(m.accuracy_spread(), std::sqrt(0.02 / 3), 1e-12);
  EXPECT_NEAR(m.macro_f1_spread(), std::sqrt(0.06 / 3), 1e-12);
  EXPECT_DOUBLE_EQ(m.test_accuracy(), 0.77);
  EXPECT_DOUBLE_EQ(m.latency_ms_cpu(), 1.5);
  EXPECT_THAT(m.notes(), ElementsAre("fold 1's note"));
  EXPECT_DOUBLE_EQ(m.final_loss(), 2);
  EXPECT_DOUBLE_EQ(m.train_seconds(), 6);
  EXPECT_DOUBLE_EQ(m.samples_per_second(), 200);
  // Float only: the spreads are the float figures'.
  for (v1::Metrics& fold : folds) fold.set_int8(false);
  const v1::Metrics float_only = CombineFolds(folds);
  EXPECT_NEAR(float_only.accuracy_spread(), std::sqrt(0.02 / 3), 1e-12);
  EXPECT_NEAR(float_only.macro_f1_spread(), std::sqrt(0.02 / 3), 1e-12);
  // One split: unchanged, folds 0.
  EXPECT_EQ(CombineFolds({folds[1]}).folds(), 0);
  EXPECT_DOUBLE_EQ(CombineFolds({folds[1]}).accuracy(), 0.9);
}

}  // namespace
}  // namespace nas::worker
