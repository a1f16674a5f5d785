#include "worker/dataset_batch.h"

#include <cstdint>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/worker/test_data.h"

namespace nas::worker {
namespace {

using ::testing::ElementsAre;
using testing::SharedDataset;

// Every 997th sample, so the batch gathers from all over the file.
std::vector<int64_t> SpreadIndices(int64_t size, int64_t n) {
  std::vector<int64_t> indices;
  for (int64_t i = 0; i < n; ++i) indices.push_back(i * 997 % size);
  return indices;
}

TEST(DatasetBatchTest, ScaledImageBatchesHoldTheFloatsOfBefore) {
  auto data = SharedDataset(testing::FashionMnistSpec());
  const SampleSet& set = *data->train;
  const InputNormalization scale = InputNormalization::Scale(1);
  const std::vector<int64_t> indices = SpreadIndices(set.size(), 64);
  for (bool channels_last : {false, true}) {
    Batch batch = MakeBatch(set, scale, indices.data(), indices.size(), torch::kCPU,
                            channels_last);
    ASSERT_EQ(batch.inputs.scalar_type(), torch::kFloat32);
    EXPECT_THAT(batch.inputs.sizes(), ElementsAre(64, 1, 28, 28));
    if (channels_last) {
      EXPECT_TRUE(batch.inputs.is_contiguous(torch::MemoryFormat::ChannelsLast));
    }
    torch::Tensor dense = batch.inputs.contiguous();
    const float* got = dense.data_ptr<float>();
    for (size_t i = 0; i < indices.size(); ++i) {
      ASSERT_EQ(batch.labels[i].item<int64_t>(), set.labels[indices[i]]);
      // SCALE is what the worker always did to images: each byte times
      // 1/255, bit for bit.
      const uint8_t* pixels = set.inputs->pixels.data() + indices[i] * 784;
      for (int p = 0; p < 784; ++p) {
        ASSERT_EQ(got[i * 784 + p], pixels[p] * (1.0f / 255.0f))
            << "sample " << indices[i] << " pixel " << p;
      }
    }
  }
}

// MakeBatch and CopySample give the same bits under every normalisation.
void ExpectBatchesMatchCopySample(const SampleSet& set,
                                  const InputNormalization& normalization,
                                  const std::vector<int64_t>& indices) {
  Batch batch = MakeBatch(set, normalization, indices.data(), indices.size(),
                          torch::kCPU, false);
  const int64_t size = set.sample_size();
  std::vector<float> sample(size);
  for (size_t i = 0; i < indices.size(); ++i) {
    set.CopySample(indices[i], normalization, sample.data());
    const float* got = batch.inputs.data_ptr<float>() + i * size;
    ASSERT_EQ(std::vector<float>(got, got + size), sample) << indices[i];
  }
}

TEST(DatasetBatchTest, ImageBatchesMatchCopySample) {
  auto data = SharedDataset(testing::FashionMnistSpec());
  const SampleSet& set = *data->train;
  const std::vector<int64_t> indices = {59999, 0, 123, 31337};
  const std::vector<int64_t> training = SpreadIndices(set.size(), 3000);
  for (const InputNormalization& n :
       {InputNormalization::None(), InputNormalization::Scale(1),
        InputNormalization::ZScore(set, training)}) {
    ExpectBatchesMatchCopySample(set, n, indices);
  }
}

TEST(DatasetBatchTest, TimeSeriesBatchesAreTheStoredFloatsNormalised) {
  auto data = SharedDataset(testing::Ecg5000Spec());
  const SampleSet& set = *data->train;
  ASSERT_TRUE(set.inputs->pixels.empty());
  const std::vector<int64_t> indices = SpreadIndices(set.size(), 32);
  Batch raw = MakeBatch(set, InputNormalization::None(), indices.data(), indices.size(),
                        torch::kCPU, false);
  ASSERT_EQ(raw.inputs.scalar_type(), torch::kFloat32);
  EXPECT_THAT(raw.inputs.sizes(), ElementsAre(32, 1, 140));
  for (size_t i = 0; i < indices.size(); ++i) {
    const float* want = set.inputs->values.data() + indices[i] * 140;
    const float* got = raw.inputs.data_ptr<float>() + i * 140;
    EXPECT_EQ(std::vector<float>(got, got + 140), std::vector<float>(want, want + 140));
    EXPECT_EQ(raw.labels[i].item<int64_t>(), set.labels[indices[i]]);
  }
  // A z-score of made-up statistics: (x - 0.5) * (1 / 2) on every value.
  const InputNormalization shifted{{0.5f}, {2.0f}};
  Batch batch = MakeBatch(set, shifted, indices.data(), indices.size(), torch::kCPU, false);
  for (size_t i = 0; i < indices.size(); ++i) {
    const float* stored = set.inputs->values.data() + indices[i] * 140;
    const float* got = batch.inputs.data_ptr<float>() + i * 140;
    for (int t = 0; t < 140; ++t) ASSERT_EQ(got[t], (stored[t] - 0.5f) * 0.5f);
  }
  ExpectBatchesMatchCopySample(set, shifted, indices);
}

TEST(DatasetBatchTest, MultichannelBatchesAreNormalisedPerChannel) {
  auto data = SharedDataset(testing::JapaneseVowelsSpec());
  const SampleSet& set = *data->train;
  ASSERT_EQ(set.channels(), 12);
  const std::vector<int64_t> indices = SpreadIndices(set.size(), 40);
  const InputNormalization z = InputNormalization::ZScore(set, indices);
  Batch batch =
      MakeBatch(set, z, indices.data(), indices.size(), torch::kCPU, false);
  EXPECT_THAT(batch.inputs.sizes(), ElementsAre(40, 12, 29));
  // Channel c of every sample: (raw - mean[c]) * (1 / std[c]).
  for (size_t i = 0; i < indices.size(); ++i) {
    const float* raw = set.inputs->values.data() + indices[i] * 12 * 29;
    const float* got = batch.inputs.data_ptr<float>() + i * 12 * 29;
    for (int c = 0; c < 12; ++c) {
      for (int t = 0; t < 29; ++t) {
        ASSERT_EQ(got[c * 29 + t], (raw[c * 29 + t] - z.mean[c]) * (1.0f / z.std[c]));
      }
    }
  }
  ExpectBatchesMatchCopySample(set, z, indices);
}

}  // namespace
}  // namespace nas::worker
