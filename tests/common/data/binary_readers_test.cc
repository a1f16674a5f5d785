// The binary readers (IDX, NumPy .npz/.npy) on Fashion-MNIST and on arrays
// written here by Debian's python3-numpy.
#include <algorithm>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/data/samples.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/data/test_files.h"
#include "tests/status_matchers.h"

namespace nas::data {
namespace {

using ::nas::data::testing::kFashionDir;
using ::nas::data::testing::LabelCounts;
using ::nas::data::testing::Read;
using ::nas::data::testing::RunPython;
using ::nas::data::testing::Spec;
using ::nas::data::testing::TempDir;
using ::testing::ElementsAre;

v1::DatasetSpec FashionSpec() {
  v1::DatasetSpec spec =
      Spec(v1::IDX, absl::StrCat(kFashionDir, "/train-images-idx3-ubyte.gz"),
           {1, 28, 28}, 10);
  spec.set_train_labels_path(
      absl::StrCat(kFashionDir, "/train-labels-idx1-ubyte.gz"));
  spec.set_test_path(absl::StrCat(kFashionDir, "/t10k-images-idx3-ubyte.gz"));
  spec.set_test_labels_path(
      absl::StrCat(kFashionDir, "/t10k-labels-idx1-ubyte.gz"));
  spec.set_evaluate_test(true);
  return spec;
}

// Writes fashion*.npz (the first 200 test images), x.npy/y.npy and
// series2d.npz in `dir`, and x.raw with x.npy's float32 data.
constexpr char kNumpyScript[] = R"(
import gzip
import numpy as np
def idx(path, offset):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)
d = '/usr/share/datasets/fashion-mnist/'
images = idx(d + 't10k-images-idx3-ubyte.gz', 16).reshape(-1, 1, 28, 28)[:200]
labels = idx(d + 't10k-labels-idx1-ubyte.gz', 8)[:200].astype(np.int64)
np.savez('fashion.npz', x=images, y=labels)
np.savez_compressed('fashion_z.npz', x=images, y=labels)
np.savez_compressed('fashion_f.npz', x=images.astype(np.float32),
                    y=labels.astype(np.float64))
rng = np.random.default_rng(7)
x = rng.standard_normal((30, 3, 50)).astype(np.float32)
np.save('x.npy', x)
np.save('y.npy', np.array(['walk', 'run', 'sit'] * 10))
x.astype('<f4').tofile('x.raw')
np.savez('series2d.npz', x=x[:, 0, :].astype(np.float64),
         y=np.arange(30, dtype=np.int32) % 3)
)";

class NumpyReaderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    python_error_ = new std::string(RunPython(*dir_, kNumpyScript));
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete python_error_;
  }
  void SetUp() override { ASSERT_EQ(*python_error_, ""); }

  static TempDir* dir_;
  static std::string* python_error_;
};
TempDir* NumpyReaderTest::dir_ = nullptr;
std::string* NumpyReaderTest::python_error_ = nullptr;

std::vector<float> ReadRawFloats(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  std::vector<float> values(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
  return values;
}

TEST(IdxReaderTest, FashionMnistTrainAndTest) {
  const v1::DatasetSpec spec = FashionSpec();
  NAS_ASSERT_OK_AND_ASSIGN(RawSamples train, Read(spec));
  EXPECT_EQ(train.count, 60000);
  EXPECT_THAT(train.shape, ElementsAre(1, 28, 28));
  EXPECT_TRUE(train.eight_bit);
  EXPECT_EQ(train.pixels.size(), 60000u * 784);
  EXPECT_TRUE(train.values.empty());
  const auto counts = LabelCounts(train.labels);
  ASSERT_EQ(counts.size(), 10u);
  for (const auto& [label, count] : counts) EXPECT_EQ(count, 6000) << label;
  NAS_ASSERT_OK_AND_ASSIGN(RawSamples test, Read(spec, FileRole::kTest, false));
  EXPECT_EQ(test.count, 10000);
  EXPECT_TRUE(test.eight_bit);
  EXPECT_TRUE(test.pixels.empty());  // Counted, not kept.
  EXPECT_EQ(test.labels.size(), 10000u);
}

TEST_F(NumpyReaderTest, NpzOfUint8ImagesEqualsIdxPixels) {
  v1::DatasetSpec idx = FashionSpec();
  NAS_ASSERT_OK_AND_ASSIGN(RawSamples pixels, Read(idx, FileRole::kTest));
  for (const char* name : {"fashion.npz", "fashion_z.npz"}) {
    NAS_ASSERT_OK_AND_ASSIGN(
        RawSamples npz,
        Read(Spec(v1::NUMPY, dir_->Path(name), {1, 28, 28}, 10)));
    EXPECT_EQ(npz.count, 200) << name;
    EXPECT_TRUE(npz.eight_bit);
    EXPECT_THAT(npz.shape, ElementsAre(1, 28, 28));
    ASSERT_EQ(npz.pixels.size(), 200u * 784);
    EXPECT_TRUE(
        std::equal(npz.pixels.begin(), npz.pixels.end(), pixels.pixels.begin()))
        << name;
    EXPECT_EQ(npz.labels,
              std::vector<std::string>(pixels.labels.begin(),
                                       pixels.labels.begin() + 200));
  }
}

TEST_F(NumpyReaderTest, NpzOfFloatImagesAndFloatLabels) {
  NAS_ASSERT_OK_AND_ASSIGN(RawSamples pixels,
                           Read(FashionSpec(), FileRole::kTest));
  NAS_ASSERT_OK_AND_ASSIGN(
      RawSamples npz,
      Read(Spec(v1::NUMPY, dir_->Path("fashion_f.npz"), {1, 28, 28}, 10)));
  EXPECT_FALSE(npz.eight_bit);
  ASSERT_EQ(npz.values.size(), 200u * 784);
  for (size_t i : {0ul, 400ul, 784ul * 199 + 300}) {
    EXPECT_EQ(npz.values[i], static_cast<float>(pixels.pixels[i])) << i;
  }
  EXPECT_EQ(npz.labels[0], pixels.labels[0]);  // 9.0 is class "9".
}

TEST_F(NumpyReaderTest, NpyPairWithStringLabels) {
  v1::DatasetSpec spec = Spec(v1::NUMPY, dir_->Path("x.npy"), {3, 50}, 3);
  spec.set_train_labels_path(dir_->Path("y.npy"));
  NAS_ASSERT_OK_AND_ASSIGN(RawSamples s, Read(spec));
  EXPECT_EQ(s.count, 30);
  EXPECT_THAT(s.shape, ElementsAre(3, 50));
  EXPECT_EQ(s.values, ReadRawFloats(dir_->Path("x.raw")));
  EXPECT_THAT(std::vector<std::string>(s.labels.begin(), s.labels.begin() + 4),
              ElementsAre("walk", "run", "sit", "walk"));
  EXPECT_EQ(s.min_length, 50);
  // Cut to 40 keeping the end.
  spec.set_length(40);
  spec.set_pad(v1::PAD_START);
  NAS_ASSERT_OK_AND_ASSIGN(RawSamples cut, Read(spec));
  EXPECT_THAT(cut.shape, ElementsAre(3, 40));
  EXPECT_EQ(cut.cut, 30);
  EXPECT_EQ(cut.values[0], s.values[10]);
  EXPECT_EQ(cut.values[40 * 3 + 39], s.values[150 + 49]);
  EXPECT_THAT(cut.labels, ::testing::ContainerEq(s.labels));
}

TEST_F(NumpyReaderTest, TwoDimensionalFloat64IsOneChannel) {
  NAS_ASSERT_OK_AND_ASSIGN(
      RawSamples s, Read(Spec(v1::NUMPY, dir_->Path("series2d.npz"), {50}, 3)));
  EXPECT_THAT(s.shape, ElementsAre(1, 50));
  const std::vector<float> x = ReadRawFloats(dir_->Path("x.raw"));
  EXPECT_EQ(s.values[0], x[0]);
  EXPECT_EQ(s.values[50 + 7], x[150 + 7]);  // Sample 1, channel 0, step 7.
  EXPECT_THAT(SortedDistinctLabels(s.labels), ElementsAre("0", "1", "2"));
}

}  // namespace
}  // namespace nas::data
