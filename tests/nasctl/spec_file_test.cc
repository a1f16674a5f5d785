#include "nasctl/spec_file.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "yaml-cpp/yaml.h"

namespace nas::nasctl {
namespace {

using ::nas::testing::IsOk;
using ::nas::testing::StatusIs;
using ::testing::HasSubstr;

class SpecFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "nasctl_spec_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = (std::filesystem::path(dir_) / name).string();
    std::ofstream(path) << text;
    return path;
  }

  std::string dir_;
};

TEST_F(SpecFileTest, ResolvesRelativeDatasetPathsAgainstTheSpecFolder) {
  const std::string path = Write("spec.yaml",
                                 "name: mine\n"
                                 "dataset:\n"
                                 "  name: custom\n"
                                 "  train_path: data/../train.tsv\n"
                                 "  test_path: /abs/test.tsv\n"
                                 "budget: {max_trials: 3}\n");
  NAS_ASSERT_OK_AND_ASSIGN(std::string yaml, LoadSpecYaml(path));
  YAML::Node root = YAML::Load(yaml);
  EXPECT_EQ(root["dataset"]["train_path"].as<std::string>(), dir_ + "/train.tsv");
  EXPECT_EQ(root["dataset"]["test_path"].as<std::string>(), "/abs/test.tsv");
  EXPECT_EQ(root["dataset"]["name"].as<std::string>(), "custom");
  EXPECT_EQ(root["name"].as<std::string>(), "mine");
  EXPECT_EQ(root["budget"]["max_trials"].as<int>(), 3);
}

TEST_F(SpecFileTest, SendsTextUnchangedWhenNothingIsRelative) {
  const std::string text = "# comment kept\ndataset: {name: fashion-mnist}\n";
  NAS_ASSERT_OK_AND_ASSIGN(std::string yaml, LoadSpecYaml(Write("a.yaml", text)));
  EXPECT_EQ(yaml, text);
}

TEST_F(SpecFileTest, LeavesInvalidYamlToTheController) {
  const std::string text = "dataset: [unclosed\n";
  EXPECT_EQ(ResolveDatasetPaths(text, "/base"), text);
}

TEST_F(SpecFileTest, MissingEmptyAndDirectoryAreErrors) {
  EXPECT_THAT(LoadSpecYaml(dir_ + "/nope.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("cannot read " + dir_ + "/nope.yaml: No such file")));
  EXPECT_THAT(LoadSpecYaml(Write("empty.yaml", "  \n")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is empty")));
  EXPECT_THAT(LoadSpecYaml(dir_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is a directory")));
}

TEST_F(SpecFileTest, TextThatIsNotUtf8IsRefusedWithItsOffset) {
  const std::string latin1 = Write("latin1.yaml", "name: x\ndataset: {name: caf\xe9}\n");
  EXPECT_THAT(LoadSpecYaml(latin1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(latin1 + " is not UTF-8 text: byte 0xe9 at offset 27 (line 2)")));
  // Well-formed UTF-8 of every length passes; the forms RFC 3629 forbids do
  // not.
  EXPECT_THAT(CheckIsText("f", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n"), IsOk());
  const std::pair<std::string, std::string> bad[] = {
      {std::string("ab\0c", 4), "byte 0x00 at offset 2"},
      {"\xc0\xaf", "byte 0xc0 at offset 0"},          // Overlong '/'.
      {"x\xe0\x80\xaf", "byte 0xe0 at offset 1"},      // Overlong, 3 bytes.
      {"\xed\xa0\x80", "byte 0xed at offset 0"},       // A surrogate.
      {"\xf4\x90\x80\x80", "byte 0xf4 at offset 0"},   // Above U+10FFFF.
      {"ok \xe2\x82", "byte 0xe2 at offset 3"},         // Cut short.
      {"\x80", "byte 0x80 at offset 0"},               // A lone continuation.
  };
  for (const auto& [text, where] : bad) {
    EXPECT_THAT(CheckIsText("f", text),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(where)))
        << where;
  }
}

}  // namespace
}  // namespace nas::nasctl
