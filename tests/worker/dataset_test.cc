// LoadDataset and DatasetCache on the real data sets and on small files
// written here: what is loaded, how labels become classes, what is shared.
// The readers themselves are tested in tests/common/data/.

#include "worker/dataset.h"

#include <algorithm>
#include <fstream>
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
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Ecg5000Spec;
using testing::FashionMnistSpec;
using testing::JapaneseVowelsSpec;
using testing::WriteTempFile;

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
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

TEST(DatasetTest, LoadsFashionMnistTrainAndTestAsBytes) {
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
  EXPECT_EQ(data.class_names.size(), 10u);
  // Fashion-MNIST is balanced: 6000 per class in train, 1000 in test.
  EXPECT_EQ(ClassCounts(*data.train), std::vector<int>(10, 6000));
  EXPECT_EQ(ClassCounts(*data.test), std::vector<int>(10, 1000));

  // Storage stays raw; a normalisation makes the network's input.
  std::vector<float> raw(784), scaled(784);
  data.train->CopySample(123, InputNormalization::None(), raw.data());
  data.train->CopySample(123, InputNormalization::Scale(1), scaled.data());
  for (int i = 0; i < 784; ++i) {
    const uint8_t pixel = data.train->inputs->pixels[123 * 784 + i];
    ASSERT_EQ(raw[i], static_cast<float>(pixel));
    ASSERT_EQ(scaled[i], pixel * (1.0f / 255.0f));
  }
  EXPECT_GT(*std::max_element(scaled.begin(), scaled.end()), 0.5f);
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
  EXPECT_THAT(data.class_names, ElementsAre("1", "2", "3", "4", "5"));
  // Class counts from data/ecg5000/README.md (labels 1..5 -> 0..4).
  EXPECT_THAT(ClassCounts(*data.train), ElementsAre(292, 177, 10, 19, 2));
  EXPECT_THAT(ClassCounts(*data.test), ElementsAre(2627, 1590, 86, 175, 22));
  // First row of ECG5000_TRAIN.tsv: "1\t-0.11252183\t-2.8272038\t...".
  std::vector<float> sample(140);
  data.train->CopySample(0, InputNormalization::None(), sample.data());
  EXPECT_EQ(data.train->labels[0], 0);
  EXPECT_FLOAT_EQ(sample[0], -0.11252183f);
  EXPECT_FLOAT_EQ(sample[1], -2.8272038f);
}

TEST(DatasetTest, LoadsJapaneseVowelsAsTwelveChannelsPaddedTo29) {
  v1::DatasetSpec spec = JapaneseVowelsSpec();
  spec.set_evaluate_test(true);
  NAS_ASSERT_OK_AND_ASSIGN(Dataset data, LoadDataset(spec));
  ASSERT_NE(data.test, nullptr);
  EXPECT_THAT(data.train->shape(), ElementsAre(12, 29));
  EXPECT_EQ(data.train->channels(), 12);
  EXPECT_EQ(data.train->size(), 270);
  EXPECT_EQ(data.test->size(), 370);
  EXPECT_EQ(data.train->num_classes, 9);
  EXPECT_THAT(data.class_names,
              ElementsAre("1", "2", "3", "4", "5", "6", "7", "8", "9"));
  // data/japanese-vowels/README.md: 30 a speaker in train; test as listed.
  EXPECT_THAT(ClassCounts(*data.train), Each(30));
  EXPECT_THAT(ClassCounts(*data.test), ElementsAre(31, 35, 88, 44, 29, 24, 40, 50, 29));
  // Series of 7..29 frames: padded with zeros at the end (PAD_END), so some
  // series end in a frame of zeros on all 12 channels and none begins so.
  int padded = 0;
  std::vector<float> x(12 * 29);
  for (int64_t i = 0; i < data.train->size(); ++i) {
    data.train->CopySample(i, InputNormalization::None(), x.data());
    bool last_zero = true, first_zero = true;
    for (int c = 0; c < 12; ++c) {
      last_zero = last_zero && x[c * 29 + 28] == 0.0f;
      first_zero = first_zero && x[c * 29] == 0.0f;
    }
    padded += last_zero;
    ASSERT_FALSE(first_zero) << "series " << i;
  }
  EXPECT_GT(padded, 200);  // Most utterances are shorter than 29 frames.
}

TEST(DatasetTest, TestFilesAreLoadedOnlyWhenAsked) {
  NAS_ASSERT_OK_AND_ASSIGN(Dataset data, LoadDataset(Ecg5000Spec()));
  EXPECT_EQ(data.test, nullptr);
}

TEST(DatasetTest, LabelsWithoutASummaryAreSortedOverTrainAndTest) {
  const std::string train = WriteTempFile(
      "sorted-train.tsv", "10\t1\t1\n-1\t2\t2\n2\t3\t3\n10\t4\t4\n2\t5\t5\n");
  const std::string test = WriteTempFile("sorted-test.tsv", "1\t6\t6\n-1\t7\t7\n");
  v1::DatasetSpec spec = CustomTsv(train);
  spec.set_test_path(test);
  spec.set_evaluate_test(true);
  NAS_ASSERT_OK_AND_ASSIGN(Dataset data, LoadDataset(spec));
  // Distinct labels -1 < 1 < 2 < 10 over both files become classes 0..3.
  EXPECT_THAT(data.class_names, ElementsAre("-1", "1", "2", "10"));
  EXPECT_THAT(data.train->labels, ElementsAre(3, 0, 2, 3, 2));
  EXPECT_THAT(data.test->labels, ElementsAre(1, 0));
  EXPECT_EQ(data.train->num_classes, 4);
  EXPECT_EQ(data.test->num_classes, 4);
}

TEST(DatasetTest, LabelsFollowTheSummaryTheControllerRead) {
  const std::string path =
      WriteTempFile("walk-run.tsv", "walk\t1\t2\nrun\t3\t4\nwalk\t5\t6\nsit\t7\t8\n");
  v1::DatasetSpec spec = CustomTsv(path);
  // The controller's class order, with a class this file does not hold.
  for (const char* name : {"sit", "walk", "jump", "run"}) {
    spec.mutable_summary()->add_class_names(name);
  }
  NAS_ASSERT_OK_AND_ASSIGN(Dataset data, LoadDataset(spec));
  EXPECT_THAT(data.train->labels, ElementsAre(1, 3, 1, 0));
  EXPECT_EQ(data.train->num_classes, 4);
  EXPECT_THAT(data.class_names, ElementsAre("sit", "walk", "jump", "run"));
  // A label the summary does not list is a data error naming file and label.
  spec.mutable_summary()->clear_class_names();
  spec.mutable_summary()->add_class_names("walk");
  spec.mutable_summary()->add_class_names("run");
  EXPECT_THAT(LoadDataset(spec),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("walk-run.tsv"), HasSubstr("sample 4"),
                             HasSubstr("label 'sit'"),
                             HasSubstr("not one of the 2 classes"))));
}

TEST(DatasetTest, ContentMustMatchTheSpec) {
  v1::DatasetSpec spec = Ecg5000Spec();
  spec.mutable_input_shape()->set_dims(1, 141);
  EXPECT_THAT(LoadDataset(spec),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("ECG5000_TRAIN"),
                             HasSubstr("{1,140}, dataset.input_shape says {1,141}"))));
  spec = Ecg5000Spec();
  spec.clear_summary();
  spec.set_num_classes(3);
  EXPECT_THAT(LoadDataset(spec), StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("labels span 5 classes")));
}

TEST(DatasetTest, MissingFileIsNotFoundNamingThePath) {
  v1::DatasetSpec spec = Ecg5000Spec();
  spec.set_train_path("/nonexistent/ECG_TRAIN.tsv.gz");
  EXPECT_THAT(LoadDataset(spec), StatusIs(absl::StatusCode::kNotFound,
                                          HasSubstr("/nonexistent/ECG_TRAIN.tsv.gz")));
}

TEST(DatasetTest, CorruptGzipIsDataLossNamingTheFile) {
  std::string bytes = ReadBytes(Ecg5000Spec().train_path());
  ASSERT_GT(bytes.size(), 1000u);
  for (size_t i = 200; i < 400; ++i) bytes[i] = static_cast<char>(~bytes[i]);
  EXPECT_THAT(LoadDataset(CustomTsv(WriteTempFile("flipped.tsv.gz", bytes))),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("flipped.tsv.gz")));
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
  // Split, fold and normalisation fields are per trial: same data.
  v1::DatasetSpec per_trial = spec;
  per_trial.set_validation_fraction(0.3);
  per_trial.set_folds(5);
  per_trial.set_normalization(v1::NORMALIZATION_NONE);
  NAS_ASSERT_OK_AND_ASSIGN(auto again, cache.Get(per_trial));
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
}

TEST(DatasetCacheTest, AFileReadAnotherWayIsNotShared) {
  DatasetCache cache;
  const v1::DatasetSpec full = JapaneseVowelsSpec();
  // The same file cut to 20 frames is other inputs.
  v1::DatasetSpec cut = full;
  cut.set_length(20);
  cut.mutable_input_shape()->set_dims(1, 20);
  v1::DatasetSpec kept_end = cut;
  kept_end.set_pad(v1::PAD_START);
  EXPECT_NE(DatasetCache::Key(full), DatasetCache::Key(cut));
  EXPECT_NE(DatasetCache::Key(cut), DatasetCache::Key(kept_end));
  v1::DatasetSpec time_major = full, other_column = full, other_classes = full;
  time_major.set_layout(v1::TIME_MAJOR);
  other_column.set_label_column("speaker");
  other_classes.mutable_summary()->set_class_names(0, "speaker 1");
  for (const v1::DatasetSpec* other : {&time_major, &other_column, &other_classes}) {
    EXPECT_NE(DatasetCache::Key(full), DatasetCache::Key(*other));
  }
  NAS_ASSERT_OK_AND_ASSIGN(auto a, cache.Get(full));
  NAS_ASSERT_OK_AND_ASSIGN(auto b, cache.Get(cut));
  NAS_ASSERT_OK_AND_ASSIGN(auto c, cache.Get(kept_end));
  EXPECT_THAT(a->train->shape(), ElementsAre(12, 29));
  EXPECT_THAT(b->train->shape(), ElementsAre(12, 20));
  EXPECT_NE(a->train->inputs, b->train->inputs);
  EXPECT_NE(b->train->inputs, c->train->inputs);
  EXPECT_NE(b->train->inputs->values, c->train->inputs->values);
  EXPECT_EQ(b->train->labels, a->train->labels);
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
                             HasSubstr("2 samples of shape {1,2} then, 3 of shape "
                                       "{1,2} now"))));
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
