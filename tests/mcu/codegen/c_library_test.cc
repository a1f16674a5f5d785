// The C library exporter on synthetic models of real architectures: the
// generated code builds without warnings on the host and for a Cortex-M4,
// its example passes every test vector bit for bit, and the constant arrays
// and the arena it declares are exactly what the cost model predicts.
#include "mcu/codegen/c_library.h"

#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/architecture.h"
#include "common/cost_model.h"
#include "common/int8_plan.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mcu/codegen/library_writer.h"
#include "tests/mcu/codegen/c_build.h"
#include "tests/mcu/codegen/synthetic_model.h"
#include "tests/status_matchers.h"

namespace nas::testing {
namespace {

using ::testing::HasSubstr;

struct Network {
  const char* name;
  const char* arch;
  std::vector<int64_t> input;
  int classes;
  SyntheticOptions options;
};

void PrintTo(const Network& net, std::ostream* os) { *os << net.name; }

std::vector<Network> Networks() {
  SyntheticOptions fashion;
  fashion.labels = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  fashion.input_mean = {0.286f};
  fashion.input_std = {0.353f};
  fashion.dataset = "fashion-mnist";
  SyntheticOptions ecg;
  ecg.seed = 2;
  ecg.dataset = "ecg5000";
  SyntheticOptions dense;
  dense.seed = 3;
  // Labels and a data set name a C file must escape.
  dense.labels = {"a \"quoted\" one", "na\xc3\xafve", "?\?=trigraph", "back\\slash */"};
  dense.dataset = "evil */ name ?\?/";
  SyntheticOptions lone;
  lone.seed = 4;
  lone.test_vectors = 5;
  return {
      {"Cnn2d",
       "CONV2D(8,k3,p1) BATCHNORM RELU MAXPOOL2D(k2) DEPTHWISE_CONV2D(k3,p1) BATCHNORM RELU6 "
       "POINTWISE_CONV2D(16) RELU AVGPOOL2D(k3,s2,p1) CONV2D(16,k3,p1) RELU GLOBAL_AVGPOOL "
       "DROPOUT(0.2) LINEAR(10) SOFTMAX",
       {1, 28, 28},
       10,
       fashion},
      {"Cnn1d",
       "CONV1D(8,k5,p2) BATCHNORM RELU MAXPOOL1D(k2) DEPTHWISE_CONV1D(k3,p1) RELU "
       "CONV1D(16,k3,s2,p1) RELU AVGPOOL1D(k2) FLATTEN LINEAR(5)",
       {1, 140},
       5,
       ecg},
      {"Dense", "LINEAR(32) RELU DROPOUT(0.1) LINEAR(16) RELU6 LINEAR(4)", {20}, 4, dense},
      {"LoneBnAndRelu6",
       "BATCHNORM CONV2D(6,k3,p1) MAXPOOL2D(k2) RELU6 AVGPOOL2D(k2) BATCHNORM FLATTEN LINEAR(3)",
       {3, 12, 12},
       3,
       lone},
  };
}

v1::TensorShape Shape(const std::vector<int64_t>& dims) {
  v1::TensorShape shape;
  for (int64_t d : dims) shape.add_dims(d);
  return shape;
}

v1::Architecture Arch(const Network& net) {
  absl::StatusOr<v1::Architecture> arch = ParseArchitecture(net.arch);
  EXPECT_TRUE(arch.ok()) << arch.status();
  return arch.ok() ? *arch : v1::Architecture();
}

std::string FileText(const std::vector<mcu::GeneratedFile>& files, const std::string& path) {
  for (const mcu::GeneratedFile& file : files) {
    if (file.path == path) return file.contents;
  }
  ADD_FAILURE() << "no " << path << " generated";
  return "";
}

// The value of `#define NAME value` in `header`, or -1.
int64_t Define(const std::string& header, const std::string& name) {
  std::smatch match;
  const std::regex pattern("#define " + name + " \\(?(-?[0-9]+)\\)?\\n");
  int64_t value = -1;
  if (std::regex_search(header, match, pattern)) {
    EXPECT_TRUE(absl::SimpleAtoi(match[1].str(), &value));
  }
  return value;
}

// Bytes of one element of the C types model.c declares arrays of.
int64_t ElementBytes(const std::string& type) {
  static const auto* sizes = new std::map<std::string, int64_t>{
      {"int8_t", 1}, {"int32_t", 4}, {"tn_layer", kInt8LayerRowBytes}};
  auto it = sizes->find(type);
  EXPECT_NE(it, sizes->end()) << "model.c declares an array of unexpected type " << type;
  return it == sizes->end() ? 0 : it->second;
}

class CLibraryTest : public ::testing::TestWithParam<Network> {
 protected:
  void SetUp() override {
    const Network& net = GetParam();
    arch_ = Arch(net);
    input_ = Shape(net.input);
    NAS_ASSERT_OK_AND_ASSIGN(model_,
                             SyntheticQuantizedModel(arch_, input_, net.classes, net.options));
    NAS_ASSERT_OK_AND_ASSIGN(files_, mcu::GenerateCLibrary(model_));
    NAS_ASSERT_OK_AND_ASSIGN(plan_, PlanInt8(arch_, input_, net.classes));
    dir_ = MakeTempDir();
    ASSERT_FALSE(dir_.empty());
    lib_ = dir_ + "/lib";
  }
  void TearDown() override { RemoveTree(dir_); }

  v1::Architecture arch_;
  v1::TensorShape input_;
  v1::QuantizedModel model_;
  std::vector<mcu::GeneratedFile> files_;
  Int8Plan plan_;
  std::string dir_, lib_;
};

TEST_P(CLibraryTest, BuildsOnTheHostAndPassesEveryTestVector) {
  NAS_ASSERT_OK(mcu::WriteCLibrary(files_, lib_, /*force=*/false));
  const CommandResult run = BuildAndRunOnHost(lib_, files_);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const int n = model_.test_labels_size();
  ASSERT_GT(n, 0);
  EXPECT_THAT(run.output, HasSubstr(absl::StrCat(n, " of ", n,
                                                 " test vectors match bit for "
                                                 "bit, 0 mismatched")));
  const int correct = CorrectTestVectors(model_);
  EXPECT_LT(correct, n);  // One label in four disagrees on purpose.
  EXPECT_THAT(run.output,
              HasSubstr(absl::StrCat("accuracy on the test vectors: ", correct, "/", n, " = ")));
}

TEST_P(CLibraryTest, CompilesForCortexM4WithConstantsInFlash) {
  NAS_ASSERT_OK(mcu::WriteCLibrary(files_, lib_, /*force=*/false));
  const CommandResult compile = CompileForCortexM4(lib_, files_);
  ASSERT_EQ(compile.exit_code, 0) << compile.output;
  EXPECT_EQ(compile.output, "");  // No warning either.
  // The tables are read-only data (flash), the arena zeroed data (SRAM),
  // and nothing is initialised RAM.
  const CommandResult size = RunCommand("arm-none-eabi-size -A '" + lib_ + "/arm/model.o'");
  ASSERT_EQ(size.exit_code, 0) << size.output;
  std::map<std::string, int64_t> sections;
  for (absl::string_view line : absl::StrSplit(size.output, '\n')) {
    std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
    int64_t bytes = 0;
    if (words.size() >= 2 && absl::SimpleAtoi(words[1], &bytes)) sections[words[0]] = bytes;
  }
  EXPECT_GE(sections[".rodata"], plan_.ConstantBytes()) << size.output;
  EXPECT_EQ(sections[".bss"], plan_.arena.arena_bytes) << size.output;
  EXPECT_EQ(sections[".data"], 0) << size.output;
}

// text + data and bss of a linked Cortex-M4 image (newlib-nano,
// --gc-sections), from arm-none-eabi-size's Berkeley output.
struct ImageSize {
  int64_t flash = -1;  // text + data
  int64_t bss = -1;
};
ImageSize LinkCortexM4(const std::string& dir, const std::string& main_c,
                       const std::string& sources, const std::string& elf) {
  std::ofstream(dir + "/" + elf + ".c") << main_c;
  const CommandResult link = RunCommand(absl::StrCat(
      "cd '", dir, "' && arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -Os -std=c99 ",
      "-ffunction-sections -fdata-sections --specs=nano.specs --specs=nosys.specs ",
      "-Wl,--gc-sections -I. ", elf, ".c ", sources, " -o ", elf,
      ".elf && arm-none-eabi-size ", elf, ".elf"));
  EXPECT_EQ(link.exit_code, 0) << link.output;
  ImageSize size;
  const std::vector<std::string> lines = absl::StrSplit(link.output, '\n');
  if (lines.size() < 2) return size;
  const std::vector<std::string> words = absl::StrSplit(lines[1], absl::ByAnyChar(" \t"),
                                                        absl::SkipEmpty());
  int64_t text = 0, data = 0;
  if (words.size() >= 3 && absl::SimpleAtoi(words[0], &text) &&
      absl::SimpleAtoi(words[1], &data) && absl::SimpleAtoi(words[2], &size.bss)) {
    size.flash = text + data;
  }
  return size;
}

// What a model adds to a real Cortex-M4 image -- the image of an
// application that runs it minus the same application without it -- is the
// cost model's flash (its constants plus kRuntimeFlashBytes) up to the few
// bytes of tinynas_invoke and the tn_model descriptor, and the arena plus
// the application's input buffer in SRAM.
TEST_P(CLibraryTest, ALinkedCortexM4ImageHoldsTheCostModelsFlashAndArena) {
  if (RunCommand("command -v arm-none-eabi-gcc").exit_code != 0) {
    FAIL() << "arm-none-eabi-gcc not found: install it with scripts/install_deps.sh";
  }
  NAS_ASSERT_OK(mcu::WriteCLibrary(files_, lib_, /*force=*/false));
  const ImageSize base = LinkCortexM4(lib_, R"c(#include <stdint.h>
#include <string.h>
volatile int8_t sink[16];
int main(void) { int8_t in[16] = {0}; memcpy((void *)sink, in, 16); return sink[0]; }
)c", "", "base");
  const ImageSize with = LinkCortexM4(lib_, R"c(#include "model.h"
volatile int8_t sink[TINYNAS_NUM_CLASSES];
static int8_t in[TINYNAS_INPUT_SIZE];
int main(void) {
  int8_t out[TINYNAS_NUM_CLASSES];
  int r = tinynas_invoke(in, out);
  sink[0] = out[0];
  return r;
}
)c", absl::StrJoin(CSources(files_, /*with_main=*/false), " "), "with");
  ASSERT_GT(base.flash, 0);
  ASSERT_GT(with.flash, 0);
  v1::DeviceProfile device;
  NAS_ASSERT_OK_AND_ASSIGN(CostReport cost, AnalyzeCost(arch_, input_, GetParam().classes, device));
  const int64_t added = with.flash - base.flash;
  std::printf("model adds %lld B of flash to the image; cost model %lld B\n",
              static_cast<long long>(added), static_cast<long long>(cost.flash_bytes));
  EXPECT_GE(added, cost.flash_bytes - 64);
  EXPECT_LE(added, cost.flash_bytes + 128);
  // SRAM: the arena, plus the applications' own buffers (the input and a
  // sink of num_classes bytes against the base's 16-byte sink), up to the
  // linker's alignment padding.
  const int64_t expected_bss =
      cost.arena_bytes + NumElements(input_) + GetParam().classes - 16;
  EXPECT_GE(with.bss - base.bss, expected_bss);
  EXPECT_LE(with.bss - base.bss, expected_bss + 16);
}

// Reads every `static const TYPE NAME[LENGTH]` of model.c: their bytes are
// the flash the plan (and so the cost model) predicts, and the arena is the
// plan's and the cost model's.
TEST_P(CLibraryTest, DeclaredArraysMatchThePlanAndTheCostModel) {
  const std::string source = FileText(files_, "model.c");
  const std::string header = FileText(files_, "model.h");
  const std::regex array(R"(static const (\w+) (\w+)\[(\w+)\] = \{)");
  int64_t constant_bytes = 0;
  int arrays = 0;
  for (auto it = std::sregex_iterator(source.begin(), source.end(), array);
       it != std::sregex_iterator(); ++it) {
    int64_t length = 0;
    ASSERT_TRUE(absl::SimpleAtoi((*it)[3].str(), &length)) << (*it)[0];
    constant_bytes += ElementBytes((*it)[1].str()) * length;
    ++arrays;
  }
  EXPECT_EQ(arrays, 5);  // Layer table, weights, biases, multipliers, shifts.
  EXPECT_EQ(constant_bytes, plan_.ConstantBytes());
  EXPECT_EQ(Define(header, "TINYNAS_FLASH_BYTES"), plan_.ConstantBytes());

  std::smatch arena;
  ASSERT_TRUE(
      std::regex_search(source, arena, std::regex(R"(\nstatic int8_t tinynas_arena\[(\w+)\];)")));
  ASSERT_EQ(arena[1].str(), "TINYNAS_ARENA_BYTES");
  const int64_t arena_bytes = Define(header, "TINYNAS_ARENA_BYTES");
  EXPECT_EQ(arena_bytes, plan_.arena.arena_bytes);
  v1::DeviceProfile device;
  NAS_ASSERT_OK_AND_ASSIGN(CostReport cost, AnalyzeCost(arch_, input_, GetParam().classes, device));
  EXPECT_EQ(arena_bytes, cost.arena_bytes);
  EXPECT_EQ(Define(header, "TINYNAS_INPUT_SIZE"), NumElements(input_));
  EXPECT_EQ(Define(header, "TINYNAS_NUM_CLASSES"), GetParam().classes);
  EXPECT_EQ(Define(header, "TINYNAS_INPUT_ZERO_POINT"), model_.input_zero_point());
  EXPECT_EQ(Define(header, "TINYNAS_OUTPUT_ZERO_POINT"), model_.output_zero_point());
}

TEST_P(CLibraryTest, OutputIsDeterministicAndReadable) {
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<mcu::GeneratedFile> again, mcu::GenerateCLibrary(model_));
  ASSERT_EQ(again.size(), files_.size());
  for (size_t i = 0; i < files_.size(); ++i) {
    EXPECT_EQ(again[i].path, files_[i].path);
    EXPECT_TRUE(again[i].contents == files_[i].contents) << files_[i].path;
  }
  for (const char* path : {"model.h", "model.c", "test_vectors.h", "main.c"}) {
    int number = 0;
    for (absl::string_view line : absl::StrSplit(FileText(files_, path), '\n')) {
      ++number;
      EXPECT_LE(line.size(), 100u) << path << ":" << number << ": " << line;
    }
  }
  // A comment per runtime operation, naming it and its architecture layers.
  const std::string source = FileText(files_, "model.c");
  for (int i = 0; i < model_.layers_size(); ++i) {
    EXPECT_THAT(source, HasSubstr(absl::StrCat(" op ", i, ": ")));
  }
  EXPECT_THAT(source, HasSubstr("; layer"));
}

INSTANTIATE_TEST_SUITE_P(Networks, CLibraryTest, ::testing::ValuesIn(Networks()),
                         [](const ::testing::TestParamInfo<Network>& info) {
                           return std::string(info.param.name);
                         });

// A fixture-free model: the dense network of Networks().
v1::QuantizedModel DenseModel() {
  const Network net = Networks()[2];
  absl::StatusOr<v1::QuantizedModel> model =
      SyntheticQuantizedModel(Arch(net), Shape(net.input), net.classes, net.options);
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? *model : v1::QuantizedModel();
}

// Checks on one model, each in a temporary folder of its own.
class CLibraryChecksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override { RemoveTree(dir_); }
  std::string dir_;
};

TEST_F(CLibraryChecksTest, TheExampleReportsAWrongExpectedOutput) {
  v1::QuantizedModel model = DenseModel();
  // Expect something else for vector 1, output 2.
  const int classes = model.num_classes();
  char& expected = (*model.mutable_test_outputs())[classes + 2];
  expected = static_cast<char>(expected == 0 ? 1 : 0);
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<mcu::GeneratedFile> files, mcu::GenerateCLibrary(model));
  NAS_ASSERT_OK(mcu::WriteCLibrary(files, dir_ + "/lib", false));
  const CommandResult run = BuildAndRunOnHost(dir_ + "/lib", files);
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, HasSubstr(absl::StrCat("vector 1: output 2 (", model.labels(2), ")")));
  EXPECT_THAT(run.output, HasSubstr("7 of 8 test vectors match bit for bit, 1 mismatched"));
}

TEST_F(CLibraryChecksTest, TheGeneratedCMakeFileBuildsTheExample) {
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<mcu::GeneratedFile> files,
                           mcu::GenerateCLibrary(DenseModel()));
  const std::string& dir = dir_;
  const std::string lib = dir + "/lib";
  NAS_ASSERT_OK(mcu::WriteCLibrary(files, lib, false));
  const CommandResult build =
      RunCommand(absl::StrCat("cmake -S '", lib, "' -B '", dir, "/build' -DCMAKE_C_COMPILER=gcc",
                              " -DCMAKE_C_FLAGS='-Werror' && cmake --build '", dir, "/build'"));
  ASSERT_EQ(build.exit_code, 0) << build.output;
  const CommandResult run = RunCommand(dir + "/build/tinynas_example");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("8 of 8 test vectors match bit for bit, 0 mismatched"));
}

TEST_F(CLibraryChecksTest, TheLibraryHoldsTheRuntimeAndTheDocumentedFiles) {
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<mcu::GeneratedFile> files,
                           mcu::GenerateCLibrary(DenseModel()));
  std::vector<std::string> paths;
  for (const mcu::GeneratedFile& file : files) paths.push_back(file.path);
  EXPECT_THAT(paths, ::testing::IsSupersetOf(
                         {"model.h", "model.c", "test_vectors.h", "main.c", "CMakeLists.txt",
                          "README.md", "runtime/tinynas_runtime.h", "runtime/tinynas_runtime.c"}));
  const std::string header = FileText(files, "model.h");
  EXPECT_THAT(header, HasSubstr("int tinynas_invoke(const int8_t *input, int8_t *output);"));
  EXPECT_THAT(header, HasSubstr("extern const char *const tinynas_labels[TINYNAS_NUM_CLASSES];"));
  EXPECT_THAT(header, HasSubstr("#define TINYNAS_INPUT_FEATURES 20\n"));
  // The class names are in the header too, by output index.
  EXPECT_THAT(header, HasSubstr("by output index (tinynas_labels): 0 = \"a \"quoted\" one\""));
  // ... made safe for a comment ("*/" and trigraphs broken up).
  EXPECT_THAT(header, HasSubstr("3 = \"back\\slash * /\""));
  EXPECT_THAT(FileText(files, "model.c"),
              HasSubstr("  \"a \\\"quoted\\\" one\",\n  \"na\\303\\257ve\",\n"));
  const std::string readme = FileText(files, "README.md");
  EXPECT_THAT(readme, HasSubstr("arm-none-eabi-gcc"));
  EXPECT_THAT(readme, HasSubstr(absl::StrCat("an arena of ", DenseModel().arena_bytes())));
}

TEST_F(CLibraryChecksTest, RefusesModelsTheRuntimeCannotRun) {
  v1::QuantizedModel short_weights = DenseModel();
  short_weights.mutable_layers(1)->mutable_weights()->pop_back();
  EXPECT_THAT(mcu::GenerateCLibrary(short_weights),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("int8 layer 1 (INT8_LINEAR): 511 weights, expected 512")));
  v1::QuantizedModel unknown_op = DenseModel();
  unknown_op.mutable_layers(0)->set_op(static_cast<v1::Int8Op>(42));
  EXPECT_THAT(mcu::GenerateCLibrary(unknown_op),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown operation")));
  v1::QuantizedModel no_layers = DenseModel();
  no_layers.clear_layers();
  EXPECT_THAT(mcu::GenerateCLibrary(no_layers),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no layers")));
  v1::QuantizedModel bad_vectors = DenseModel();
  bad_vectors.mutable_test_inputs()->pop_back();
  EXPECT_THAT(mcu::GenerateCLibrary(bad_vectors),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("the test vectors do not agree: 8 labels, 159 input bytes")));
  v1::QuantizedModel bad_label = DenseModel();
  bad_label.set_test_labels(3, 4);
  EXPECT_THAT(mcu::GenerateCLibrary(bad_label),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("test vector 3 has label 4, not a class of 4")));
  v1::QuantizedModel few_labels = DenseModel();
  few_labels.mutable_labels()->RemoveLast();
  EXPECT_THAT(mcu::GenerateCLibrary(few_labels),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("3 labels for 4 classes")));
}

}  // namespace
}  // namespace nas::testing
