#include "nasctl/spec_file.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "yaml-cpp/yaml.h"

namespace nas::nasctl {
namespace {

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

}  // namespace
}  // namespace nas::nasctl
