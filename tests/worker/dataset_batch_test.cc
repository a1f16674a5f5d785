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

TEST(DatasetBatchTest, ImageBatchesHoldTheFloatsOfBefore) {
  auto data = SharedDataset(testing::FashionMnistSpec());
  const SampleSet& set = *data->train;
  const std::vector<int64_t> indices = SpreadIndices(set.size(), 64);
  for (bool channels_last : {false, true}) {
    Batch batch =
        MakeBatch(set, indices.data(), indices.size(), torch::kCPU, channels_last);
    ASSERT_EQ(batch.inputs.scalar_type(), torch::kFloat32);
    EXPECT_THAT(batch.inputs.sizes(), ElementsAre(64, 1, 28, 28));
    if (channels_last) {
      EXPECT_TRUE(batch.inputs.is_contiguous(torch::MemoryFormat::ChannelsLast));
    }
    torch::Tensor dense = batch.inputs.contiguous();
    const float* got = dense.data_ptr<float>();
    for (size_t i = 0; i < indices.size(); ++i) {
      ASSERT_EQ(batch.labels[i].item<int64_t>(), set.labels[indices[i]]);
      // The normalisation the worker applied when it stored floats: each
      // byte times 1/255, bit for bit.
      const uint8_t* pixels = set.inputs->pixels.data() + indices[i] * 784;
      for (int p = 0; p < 784; ++p) {
        ASSERT_EQ(got[i * 784 + p], pixels[p] * (1.0f / 255.0f))
            << "sample " << indices[i] << " pixel " << p;
      }
    }
  }
}

TEST(DatasetBatchTest, ImageBatchesMatchCopySample) {
  auto data = SharedDataset(testing::FashionMnistSpec());
  const SampleSet& set = *data->train;
  const std::vector<int64_t> indices = {59999, 0, 123, 31337};
  Batch batch = MakeBatch(set, indices.data(), indices.size(), torch::kCPU, false);
  std::vector<float> sample(784);
  for (size_t i = 0; i < indices.size(); ++i) {
    set.CopySample(indices[i], sample.data());
    const float* got = batch.inputs.data_ptr<float>() + i * 784;
    EXPECT_EQ(std::vector<float>(got, got + 784), sample) << indices[i];
  }
}

TEST(DatasetBatchTest, TimeSeriesBatchesAreTheStoredFloats) {
  auto data = SharedDataset(testing::Ecg5000Spec());
  const SampleSet& set = *data->train;
  ASSERT_TRUE(set.inputs->pixels.empty());
  const std::vector<int64_t> indices = SpreadIndices(set.size(), 32);
  Batch batch = MakeBatch(set, indices.data(), indices.size(), torch::kCPU, false);
  ASSERT_EQ(batch.inputs.scalar_type(), torch::kFloat32);
  EXPECT_THAT(batch.inputs.sizes(), ElementsAre(32, 1, 140));
  for (size_t i = 0; i < indices.size(); ++i) {
    const float* want = set.inputs->values.data() + indices[i] * 140;
    const float* got = batch.inputs.data_ptr<float>() + i * 140;
    EXPECT_EQ(std::vector<float>(got, got + 140), std::vector<float>(want, want + 140));
    EXPECT_EQ(batch.labels[i].item<int64_t>(), set.labels[indices[i]]);
  }
}

}  // namespace
}  // namespace nas::worker
