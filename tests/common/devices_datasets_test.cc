#include <fstream>
#include <string>
#include <vector>

#include "common/datasets.h"
#include "common/devices.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace nas {
namespace {

using ::nas::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(DevicesTest, BuiltinProfiles) {
  std::vector<std::string> names;
  for (const v1::DeviceProfile& d : BuiltinDeviceProfiles())
    names.push_back(d.name());
  EXPECT_THAT(names, ElementsAre("nrf52840", "stm32f412", "stm32f746",
                                 "stm32h743", "rp2040"));
  NAS_ASSERT_OK_AND_ASSIGN(v1::DeviceProfile h7,
                           FindDeviceProfile("STM32H743"));
  EXPECT_EQ(h7.sram_bytes(), 512 * 1024);
  EXPECT_EQ(h7.flash_bytes(), 2 * 1024 * 1024);
  EXPECT_EQ(h7.core(), "cortex-m7");
  EXPECT_EQ(h7.clock_hz(), 480e6);
  EXPECT_EQ(h7.cycles_per_mac(), 3);
  EXPECT_EQ(h7.flash_reserved_bytes(), 102400);
  EXPECT_EQ(h7.sram_reserved_bytes(), 16384);
  NAS_ASSERT_OK_AND_ASSIGN(v1::DeviceProfile rp, FindDeviceProfile("rp2040"));
  EXPECT_EQ(rp.sram_bytes(), 264 * 1024);
  EXPECT_EQ(rp.core(), "cortex-m0+");
  EXPECT_EQ(rp.cycles_per_mac(), 10);
}

TEST(DevicesTest, AliasesAreCaseInsensitive) {
  for (const char* name : {"nrf52840", "Arduino_Nano_33_BLE", "nano33ble"}) {
    NAS_ASSERT_OK_AND_ASSIGN(v1::DeviceProfile d, FindDeviceProfile(name));
    EXPECT_EQ(d.name(), "nrf52840");
    EXPECT_EQ(d.clock_hz(), 64e6);
    EXPECT_EQ(d.cycles_per_mac(), 5);
  }
  EXPECT_THAT(FindDeviceProfile("esp32"),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("unknown device 'esp32'"),
                             HasSubstr("stm32f412"))));
}

TEST(DevicesTest, ResolvesBuiltinAndCustomDevices) {
  v1::SearchSpec spec;
  spec.set_device("stm32f746");
  NAS_ASSERT_OK_AND_ASSIGN(v1::DeviceProfile f7, ResolveDevice(spec));
  EXPECT_EQ(f7.sram_bytes(), 320 * 1024);

  spec.set_device("esp32");
  EXPECT_THAT(ResolveDevice(spec),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("device: unknown device 'esp32'")));
  spec.clear_device();
  EXPECT_THAT(ResolveDevice(spec), StatusIs(absl::StatusCode::kInvalidArgument,
                                            HasSubstr("device: required")));

  v1::DeviceProfile* custom = spec.mutable_custom_device();
  custom->set_name("my-board");
  custom->set_sram_bytes(128 * 1024);
  custom->set_flash_bytes(512 * 1024);
  custom->set_clock_hz(80e6);
  custom->set_cycles_per_mac(4);
  NAS_ASSERT_OK_AND_ASSIGN(v1::DeviceProfile board, ResolveDevice(spec));
  EXPECT_EQ(board.name(), "my-board");
  EXPECT_EQ(board.flash_reserved_bytes(), kDefaultFlashReservedBytes);
  EXPECT_EQ(board.sram_reserved_bytes(), kDefaultSramReservedBytes);
}

TEST(DevicesTest, CustomDeviceNamesEveryMissingField) {
  v1::SearchSpec spec;
  spec.mutable_custom_device()->set_core("cortex-m33");
  EXPECT_THAT(ResolveDevice(spec),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("device.name: required"),
                             HasSubstr("device.sram_bytes: required"),
                             HasSubstr("device.flash_bytes: required"),
                             HasSubstr("device.clock_hz: required"),
                             HasSubstr("device.cycles_per_mac: required"))));
  v1::DeviceProfile* small = spec.mutable_custom_device();
  small->set_name("tiny");
  small->set_sram_bytes(8 * 1024);
  small->set_flash_bytes(64 * 1024);
  small->set_clock_hz(16e6);
  small->set_cycles_per_mac(10);
  EXPECT_THAT(
      ResolveDevice(spec),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("device.sram_reserved_bytes: 16384 B reserved "
                               "leaves nothing of sram_bytes 8192 B"),
                     HasSubstr("device.flash_reserved_bytes"))));
}

class DatasetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/nasdsXXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    for (const std::string& f : files_) std::remove(f.c_str());
    std::remove(dir_.c_str());
  }
  // A real UCR file: `rows` rows of `length` values, labels 1..3 in turn.
  std::string WriteTsv(const std::string& name, int rows, int length) {
    const std::string path = dir_ + "/" + name;
    std::ofstream out(path);
    for (int r = 0; r < rows; ++r) {
      out << (r % 3) + 1;
      for (int i = 0; i < length; ++i) out << '\t' << 0.25 * (r + i);
      out << '\n';
    }
    files_.push_back(path);
    return path;
  }

  std::string dir_;
  std::vector<std::string> files_;
};

TEST_F(DatasetsTest, ResolvesFashionMnist) {
  v1::DatasetSpec spec;
  spec.set_name("Fashion-MNIST");
  NAS_ASSERT_OK_AND_ASSIGN(v1::DatasetSpec d,
                           ResolveDataset(spec, DefaultDataRoot()));
  EXPECT_EQ(d.name(), "fashion-mnist");
  EXPECT_EQ(d.format(), v1::IDX);
  EXPECT_EQ(d.train_path(),
            "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
  EXPECT_EQ(d.test_labels_path(),
            "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz");
  EXPECT_THAT(d.input_shape().dims(), ElementsAre(1, 28, 28));
  EXPECT_EQ(d.num_classes(), 10);
}

TEST_F(DatasetsTest, ResolvesEcg5000FromTheDataRoot) {
  v1::DatasetSpec spec;
  spec.set_name("ecg5000");
  NAS_ASSERT_OK_AND_ASSIGN(v1::DatasetSpec d,
                           ResolveDataset(spec, DefaultDataRoot()));
  EXPECT_EQ(d.format(), v1::UCR_TSV);
  EXPECT_EQ(d.train_path(),
            DefaultDataRoot() + "/ecg5000/ECG5000_TRAIN.tsv.gz");
  EXPECT_EQ(d.test_path(),
            DefaultDataRoot() + "/ecg5000/ECG5000_TEST_float32.tsv.gz");
  EXPECT_THAT(d.input_shape().dims(), ElementsAre(1, 140));
  EXPECT_EQ(d.num_classes(), 5);
  EXPECT_EQ(d.train_path()[0], '/');
}

TEST_F(DatasetsTest, MissingFilesAreNotFoundWithFieldAndPath) {
  v1::DatasetSpec spec;
  spec.set_name("ecg5000");
  EXPECT_THAT(
      ResolveDataset(spec, dir_),
      StatusIs(absl::StatusCode::kNotFound,
               AllOf(HasSubstr("dataset.train_path: file " + dir_ +
                               "/ecg5000/ECG5000_TRAIN.tsv.gz not found"),
                     HasSubstr("dataset.test_path: file"))));
}

TEST_F(DatasetsTest, BuiltinShapeMismatchAndUnknownName) {
  v1::DatasetSpec spec;
  spec.set_name("ecg5000");
  spec.set_num_classes(3);
  EXPECT_THAT(
      ResolveDataset(spec, DefaultDataRoot()),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("dataset.num_classes: ecg5000 has 5 classes, got 3")));
  v1::DatasetSpec unknown;
  unknown.set_name("cifar10");
  EXPECT_THAT(ResolveDataset(unknown, DefaultDataRoot()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("dataset.name: unknown data set 'cifar10'")));
}

TEST_F(DatasetsTest, CustomDatasetWithRelativePaths) {
  WriteTsv("train.tsv", 6, 64);
  v1::DatasetSpec spec;
  spec.set_name("my-sensor");
  spec.set_format(v1::UCR_TSV);
  spec.set_train_path("train.tsv");
  spec.mutable_input_shape()->add_dims(1);
  spec.mutable_input_shape()->add_dims(64);
  spec.set_num_classes(3);
  NAS_ASSERT_OK_AND_ASSIGN(v1::DatasetSpec d, ResolveDataset(spec, dir_));
  EXPECT_EQ(d.train_path(), dir_ + "/train.tsv");
  EXPECT_EQ(d.summary().train_samples(), 6);
  EXPECT_THAT(d.summary().class_names(), ElementsAre("1", "2", "3"));

  spec.set_evaluate_test(true);
  spec.set_num_classes(1);
  EXPECT_THAT(
      ResolveDataset(spec, dir_),
      StatusIs(
          absl::StatusCode::kInvalidArgument,
          AllOf(HasSubstr("dataset.test_path: required when evaluate_test"),
                HasSubstr("dataset.num_classes: 1 must be at least 2"))));
}

TEST(DataRootTest, EnvironmentOverridesTheSourceTree) {
  unsetenv("TINYNAS_DATA_ROOT");
  EXPECT_EQ(DefaultDataRoot(), TINYNAS_TEST_SOURCE_DATA_DIR);
  setenv("TINYNAS_DATA_ROOT", "/srv/data", 1);
  EXPECT_EQ(DefaultDataRoot(), "/srv/data");
  unsetenv("TINYNAS_DATA_ROOT");
}

}  // namespace
}  // namespace nas
