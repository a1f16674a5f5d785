#include "worker/dataset.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/worker/test_data.h"
#include "worker/dataset_cache.h"

namespace nas::worker {
namespace {

using ::nas::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Ecg5000Spec;
using testing::FashionMnistSpec;
using testing::WriteTempFile;

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string BigEndian(uint32_t value) {
  return {static_cast<char>(value >> 24), static_cast<char>(value >> 16),
          static_cast<char>(value >> 8), static_cast<char>(value)};
}

// Raw (uncompressed) IDX files.
std::string IdxImages(uint32_t magic, uint32_t count, uint32_t rows, uint32_t cols,
                      size_t payload) {
  return BigEndian(magic) + BigEndian(count) + BigEndian(rows) + BigEndian(cols) +
         std::string(payload, '\x7f');
}
std::string IdxLabels(const std::string& labels) {
  return BigEndian(0x801) + BigEndian(labels.size()) + labels;
}

v1::DatasetSpec CustomIdx(const std::string& images, const std::string& labels) {
  v1::DatasetSpec spec;
  spec.set_name("custom");
  spec.set_format(v1::IDX);
  spec.set_train_path(images);
  spec.set_train_labels_path(labels);
  return spec;
}

v1::DatasetSpec CustomTsv(const std::string& path) {
  v1::DatasetSpec spec;
  spec.set_name("custom");
  spec.set_format(v1::UCR_TSV);
  spec.set_train_path(path);
  return spec;
}

std::vector<int> ClassCounts(const SampleSet& set) {
  std::vector<int> counts(set.num_classes, 0);
  for (int32_t label : set.labels) ++counts.at(label);
  return counts;
}

TEST(DatasetTest, LoadsFashionMnistTrainAndTest) {
  v1::DatasetSpec spec = FashionMnistSpec();
  spec.set_evaluate_test(true);
  NAS_ASSERT_OK_AND_ASSIGN(Dataset data, LoadDataset(spec));
  ASSERT_NE(data.test, nullptr);
  EXPECT_EQ(data.train->size(), 60000);
  EXPECT_EQ(data.test->size(), 10000);
  EXPECT_THAT(data.train->shape(), ElementsAre(1, 28, 28));
  EXPECT_EQ(data.train->inputs->pixels.size(), 60000u * 784);
  EXPECT_TRUE(data.train->inputs->values.empty());  // Kept as bytes, not floats.
  EXPECT_EQ(data.train->inputs->bytes(), 60000 * 784);
  EXPECT_EQ(data.test->inputs->bytes(), 10000 * 784);
  EXPECT_EQ(data.train->num_classes, 10);
  // Fashion-MNIST is balanced: 6000 per class in train, 1000 in test.
  EXPECT_EQ(ClassCounts(*data.train), std::vector<int>(10, 6000));
  EXPECT_EQ(ClassCounts(*data.test), std::vector<int>(10, 1000));

  std::vector<float> sample(784);
  data.train->CopySample(123, sample.data());
  for (int i = 0; i < 784; ++i) {
    ASSERT_FLOAT_EQ(sample[i], data.train->inputs->pixels[123 * 784 + i] / 255.0f);
  }
  EXPECT_GT(*std::max_element(sample.begin(), sample.end()), 0.5f);
}

TEST(DatasetTest, LoadsEcg5000WithLabelsMappedToClassIndices) {
  v1::DatasetSpec spec = Ecg5000Spec();
  spec.set_evaluate_test(true);
  NAS_ASSERT_OK_AND_ASSIGN(Dataset data, LoadDataset(spec));
  ASSERT_NE(data.test, nullptr);
  EXPECT_EQ(data.train->size(), 500);
  EXPECT_EQ(data.test->size(), 4500);
  EXPECT_THAT(data.train->shape(), ElementsAre(1, 140));
  EXPECT_EQ(data.train->inputs->values.size(), 500u * 140);  // float32.
  EXPECT_EQ(data.train->num_classes, 5);
  // Class counts from data/ecg5000/README.md (labels 1..5 -> 0..4).
  EXPECT_THAT(ClassCounts(*data.train), ElementsAre(292, 177, 10, 19, 2));
  EXPECT_THAT(ClassCounts(*data.test), ElementsAre(2627, 1590, 86, 175, 22));
  // First row of ECG5000_TRAIN.tsv: "1\t-0.11252183\t-2.8272038\t...".
  std::vector<float> sample(140);
  data.train->CopySample(0, sample.data());
  EXPECT_EQ(data.train->labels[0], 0);
  EXPECT_FLOAT_EQ(sample[0], -0.11252183f);
  EXPECT_FLOAT_EQ(sample[1], -2.8272038f);
}

TEST(DatasetTest, TestFilesAreLoadedOnlyWhenAsked) {
  NAS_ASSERT_OK_AND_ASSIGN(Dataset data, LoadDataset(Ecg5000Spec()));
  EXPECT_EQ(data.test, nullptr);
}

TEST(DatasetTest, SplitIsDeterministicInTheSeed) {
  const v1::DatasetSpec spec = FashionMnistSpec();  // validation_fraction 0.1
  NAS_ASSERT_OK_AND_ASSIGN(DataSplit a, SplitTrainValidation(60000, spec, 42));
  NAS_ASSERT_OK_AND_ASSIGN(DataSplit b, SplitTrainValidation(60000, spec, 42));
  NAS_ASSERT_OK_AND_ASSIGN(DataSplit c, SplitTrainValidation(60000, spec, 43));
  EXPECT_EQ(a.validation.size(), 6000u);
  EXPECT_EQ(a.train.size(), 54000u);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.validation, b.validation);
  EXPECT_NE(a.validation, c.validation);
  // Disjoint and together every index once.
  std::set<int64_t> all(a.train.begin(), a.train.end());
  all.insert(a.validation.begin(), a.validation.end());
  EXPECT_EQ(all.size(), 60000u);
  EXPECT_TRUE(std::is_sorted(a.validation.begin(), a.validation.end()));
}

TEST(DatasetTest, SubsetsCapTheSplits) {
  v1::DatasetSpec spec = FashionMnistSpec();
  spec.set_train_subset(2000);
  spec.set_validation_subset(500);
  NAS_ASSERT_OK_AND_ASSIGN(DataSplit split, SplitTrainValidation(60000, spec, 1));
  EXPECT_EQ(split.train.size(), 2000u);
  EXPECT_EQ(split.validation.size(), 500u);
  // The capped validation subset is still held out from training.
  NAS_ASSERT_OK_AND_ASSIGN(DataSplit full,
                           SplitTrainValidation(60000, FashionMnistSpec(), 1));
  std::set<int64_t> held_out(full.validation.begin(), full.validation.end());
  for (int64_t i : split.train) ASSERT_FALSE(held_out.count(i)) << i;
}

TEST(DatasetTest, SplitRejectsBadFractions) {
  v1::DatasetSpec spec = Ecg5000Spec();
  spec.set_validation_fraction(1.0);
  EXPECT_THAT(SplitTrainValidation(500, spec, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("validation_fraction: 1 is outside [0, 1)")));
  spec.set_validation_fraction(0.0);
  EXPECT_THAT(SplitTrainValidation(500, spec, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("0 validation samples")));
}

TEST(DatasetTest, MissingFileIsNotFoundNamingThePath) {
  v1::DatasetSpec spec = Ecg5000Spec();
  spec.set_train_path("/nonexistent/ECG_TRAIN.tsv.gz");
  EXPECT_THAT(LoadDataset(spec),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("/nonexistent/ECG_TRAIN.tsv.gz"),
                             HasSubstr("cannot open"))));
}

TEST(DatasetTest, CorruptGzipIsDataLoss) {
  std::string bytes = ReadBytes(Ecg5000Spec().train_path());
  ASSERT_GT(bytes.size(), 1000u);
  std::string flipped = bytes;
  for (size_t i = 200; i < 400; ++i) flipped[i] = static_cast<char>(~flipped[i]);
  EXPECT_THAT(LoadDataset(CustomTsv(WriteTempFile("flipped.tsv.gz", flipped))),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("flipped.tsv.gz"), HasSubstr("corrupt"))));
  const std::string truncated = bytes.substr(0, bytes.size() / 2);
  EXPECT_THAT(LoadDataset(CustomTsv(WriteTempFile("truncated.tsv.gz", truncated))),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("truncated.tsv.gz"), HasSubstr("truncated"))));
}

TEST(DatasetTest, BadIdxMagicIsNamed) {
  const std::string images =
      WriteTempFile("bad-magic-images", IdxImages(0x801, 2, 2, 2, 8));
  const std::string labels = WriteTempFile("good-labels", IdxLabels("\x01\x02"));
  EXPECT_THAT(LoadDataset(CustomIdx(images, labels)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("bad-magic-images"),
                             HasSubstr("bad IDX magic 0x00000801, expected 0x00000803"))));
}

TEST(DatasetTest, IdxCountsMustAgree) {
  const std::string labels = WriteTempFile("two-labels", IdxLabels("\x01\x02"));
  const std::string short_images =
      WriteTempFile("short-images", IdxImages(0x803, 3, 2, 2, 11));
  EXPECT_THAT(LoadDataset(CustomIdx(short_images, labels)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("IDX payload has 11 bytes, header says 12")));
  const std::string three = WriteTempFile("three-images", IdxImages(0x803, 3, 2, 2, 12));
  EXPECT_THAT(LoadDataset(CustomIdx(three, labels)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("2 labels but " + three + " has 3 images")));
}

TEST(DatasetTest, IdxHeadersClaimingMoreThanTheFileAreRefusedBeforeAllocating) {
  const std::string labels = WriteTempFile("labels-for-huge", IdxLabels("\x01\x02"));
  // 4e9 x 4e9 x 4e9 pixels in a 24-byte file.
  const std::string huge = WriteTempFile(
      "huge-images", IdxImages(0x803, 4000000000u, 4000000000u, 4000000000u, 8));
  EXPECT_THAT(LoadDataset(CustomIdx(huge, labels)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("huge-images"),
                             HasSubstr("more than a file of 24 bytes can hold"))));
  const std::string long_images =
      WriteTempFile("long-images", IdxImages(0x803, 2, 2, 2, 9));
  EXPECT_THAT(LoadDataset(CustomIdx(long_images, labels)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("IDX payload has 9 bytes, header says 8")));
}

TEST(DatasetTest, TruncatedGzipIdxIsDataLoss) {
  const std::string bytes = ReadBytes(FashionMnistSpec().test_path());
  const std::string path =
      WriteTempFile("t10k-truncated.gz", bytes.substr(0, bytes.size() / 2));
  v1::DatasetSpec spec = CustomIdx(path, FashionMnistSpec().test_labels_path());
  EXPECT_THAT(LoadDataset(spec),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("t10k-truncated.gz"), HasSubstr("truncated"))));
}

TEST(DatasetTest, RaggedOrNonNumericTsvIsRejectedWithTheLine) {
  const std::string ragged = WriteTempFile("ragged.tsv", "1\t0.1\t0.2\t0.3\n2\t0.4\t0.5\n");
  EXPECT_THAT(LoadDataset(CustomTsv(ragged)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("ragged.tsv: line 2: 2 values, expected 3"),
                             HasSubstr("ragged"))));
  const std::string words = WriteTempFile("words.tsv", "1\t0.1\t0.2\n2\t0.4\tabc\n");
  EXPECT_THAT(LoadDataset(CustomTsv(words)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("words.tsv: line 2, field 3: 'abc' is not a finite number")));
  const std::string empty = WriteTempFile("empty.tsv", "\n\n");
  EXPECT_THAT(LoadDataset(CustomTsv(empty)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no samples")));
}

TEST(DatasetTest, TsvLabelsAreSortedNumerically) {
  const std::string path = WriteTempFile(
      "labels.tsv", "10\t1\t1\n-1\t2\t2\n2\t3\t3\n1\t4\t4\n2\t5\t5\n");
  NAS_ASSERT_OK_AND_ASSIGN(Dataset data, LoadDataset(CustomTsv(path)));
  // Distinct labels -1 < 1 < 2 < 10 become classes 0..3.
  EXPECT_THAT(data.train->labels, ElementsAre(3, 0, 2, 1, 2));
  EXPECT_EQ(data.train->num_classes, 4);
}

TEST(DatasetTest, ContentMustMatchTheSpec) {
  v1::DatasetSpec spec = Ecg5000Spec();
  spec.mutable_input_shape()->set_dims(1, 141);
  EXPECT_THAT(LoadDataset(spec),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("samples have shape {1,140}, dataset.input_shape "
                                 "says {1,141}")));
  spec = Ecg5000Spec();
  spec.set_num_classes(3);
  EXPECT_THAT(LoadDataset(spec), StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("labels span 5 classes")));
}

TEST(DatasetCacheTest, LoadsOnceForConcurrentCallers) {
  DatasetCache cache;
  const v1::DatasetSpec spec = Ecg5000Spec();
  std::vector<const Dataset*> seen(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<std::shared_ptr<const Dataset>> data = cache.Get(spec);
      seen[i] = data.ok() ? data->get() : nullptr;
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_NE(seen[0], nullptr);
  for (const Dataset* data : seen) {
    EXPECT_EQ(data, seen[0]);
    EXPECT_EQ(data->train->inputs->values.data(), seen[0]->train->inputs->values.data());
  }
  EXPECT_EQ(cache.loads(), 1);
  // Split fields are per trial: same files, same cached data.
  v1::DatasetSpec other_split = spec;
  other_split.set_validation_fraction(0.3);
  NAS_ASSERT_OK_AND_ASSIGN(auto again, cache.Get(other_split));
  EXPECT_EQ(again.get(), seen[0]);
  EXPECT_EQ(cache.loads(), 1);
}

TEST(DatasetCacheTest, SpecsOverTheSameFilesShareTheirBytes) {
  DatasetCache cache;
  v1::DatasetSpec with_test = FashionMnistSpec();
  with_test.set_evaluate_test(true);
  // The same files as a custom data set that counts 12 classes.
  v1::DatasetSpec twelve = FashionMnistSpec();
  twelve.set_name("custom");
  twelve.set_num_classes(12);
  NAS_ASSERT_OK_AND_ASSIGN(auto plain, cache.Get(FashionMnistSpec()));
  NAS_ASSERT_OK_AND_ASSIGN(auto tested, cache.Get(with_test));
  NAS_ASSERT_OK_AND_ASSIGN(auto wider, cache.Get(twelve));
  EXPECT_EQ(cache.loads(), 3);
  EXPECT_EQ(plain->test, nullptr);
  ASSERT_NE(tested->test, nullptr);
  // One copy of the training images under all three.
  const uint8_t* pixels = plain->train->inputs->pixels.data();
  EXPECT_EQ(tested->train->inputs->pixels.data(), pixels);
  EXPECT_EQ(wider->train->inputs->pixels.data(), pixels);
  EXPECT_EQ(tested->train->inputs, plain->train->inputs);
  // What differs per spec is per spec.
  EXPECT_EQ(plain->train->num_classes, 10);
  EXPECT_EQ(wider->train->num_classes, 12);
  EXPECT_EQ(wider->train->labels, plain->train->labels);

  v1::DatasetSpec ecg_with_test = Ecg5000Spec();
  ecg_with_test.set_evaluate_test(true);
  NAS_ASSERT_OK_AND_ASSIGN(auto ecg, cache.Get(Ecg5000Spec()));
  NAS_ASSERT_OK_AND_ASSIGN(auto ecg_tested, cache.Get(ecg_with_test));
  EXPECT_EQ(ecg_tested->train->inputs->values.data(), ecg->train->inputs->values.data());
  EXPECT_EQ(ecg_tested->train->labels, ecg->train->labels);
}

TEST(DatasetCacheTest, AFileChangedUnderTheWorkerIsNamed) {
  DatasetCache cache;
  const std::string path = WriteTempFile("changing.tsv", "1\t0.5\t0.25\n2\t1\t2\n");
  v1::DatasetSpec spec = CustomTsv(path);
  NAS_ASSERT_OK(cache.Get(spec).status());
  WriteTempFile("changing.tsv", "1\t0.5\t0.25\n2\t1\t2\n1\t3\t4\n");
  spec.set_num_classes(3);  // Another data set over the same file.
  EXPECT_THAT(cache.Get(spec),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("changing.tsv: changed since this worker loaded it"),
                             HasSubstr("2 series of length 2 then, 3 of length 2 now"))));
}

TEST(DatasetCacheTest, FailedLoadsAreNotCached) {
  DatasetCache cache;
  v1::DatasetSpec spec = CustomTsv(testing::TempDir() + "/appears-later.tsv");
  EXPECT_THAT(cache.Get(spec), StatusIs(absl::StatusCode::kNotFound,
                                        HasSubstr("appears-later.tsv")));
  WriteTempFile("appears-later.tsv", "1\t0.5\t0.25\n2\t1\t2\n");
  NAS_ASSERT_OK_AND_ASSIGN(auto data, cache.Get(spec));
  EXPECT_EQ(data->train->size(), 2);
  EXPECT_EQ(cache.loads(), 2);
}

}  // namespace
}  // namespace nas::worker
