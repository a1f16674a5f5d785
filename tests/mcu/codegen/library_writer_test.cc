// WriteCLibrary: all or nothing, and never over a folder it was not asked
// to replace.
#include "mcu/codegen/library_writer.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/mcu/codegen/c_build.h"
#include "tests/status_matchers.h"

namespace nas::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<mcu::GeneratedFile> SmallLibrary() {
  return {{"model.h", "/* header */\n"},
          {"model.c", "int x;\n"},
          {"runtime/kernels/conv.c", "/* conv */\n"}};
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

class LibraryWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    ASSERT_FALSE(dir_.empty());
    out_ = dir_ + "/out";
  }
  void TearDown() override {
    chmod(dir_.c_str(), 0700);
    RemoveTree(dir_);
  }
  std::string dir_, out_;
};

TEST_F(LibraryWriterTest, WritesANewFolderWithItsParents) {
  const std::string nested = dir_ + "/a/b/lib";
  NAS_ASSERT_OK(mcu::WriteCLibrary(SmallLibrary(), nested, false));
  EXPECT_EQ(ReadFile(nested + "/model.h"), "/* header */\n");
  EXPECT_EQ(ReadFile(nested + "/runtime/kernels/conv.c"), "/* conv */\n");
  EXPECT_THAT(ListDir(dir_ + "/a/b"), ElementsAre("lib"));  // No temporary left.
}

TEST_F(LibraryWriterTest, FillsAnEmptyFolderAndAcceptsATrailingSlash) {
  std::filesystem::create_directory(out_);
  NAS_ASSERT_OK(mcu::WriteCLibrary(SmallLibrary(), out_ + "/", false));
  EXPECT_THAT(ListDir(out_), ElementsAre("model.c", "model.h", "runtime"));
  EXPECT_THAT(ListDir(dir_), ElementsAre("out"));
}

TEST_F(LibraryWriterTest, RefusesANonEmptyFolderWithoutForceAndLeavesItAlone) {
  std::filesystem::create_directory(out_);
  WriteText(out_ + "/notes.txt", "mine");
  EXPECT_THAT(mcu::CheckOutputFolder(out_, false),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(out_ + " exists and is not empty (--force replaces it)")));
  EXPECT_THAT(mcu::WriteCLibrary(SmallLibrary(), out_, false),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not empty")));
  EXPECT_THAT(ListDir(out_), ElementsAre("notes.txt"));
  EXPECT_EQ(ReadFile(out_ + "/notes.txt"), "mine");
  EXPECT_THAT(ListDir(dir_), ElementsAre("out"));
}

TEST_F(LibraryWriterTest, ForceReplacesTheWholeFolder) {
  std::filesystem::create_directories(out_ + "/runtime");
  WriteText(out_ + "/stale.c", "old");
  WriteText(out_ + "/model.h", "old header");
  NAS_ASSERT_OK(mcu::CheckOutputFolder(out_, true));
  NAS_ASSERT_OK(mcu::WriteCLibrary(SmallLibrary(), out_, true));
  EXPECT_THAT(ListDir(out_), ElementsAre("model.c", "model.h", "runtime"));
  EXPECT_EQ(ReadFile(out_ + "/model.h"), "/* header */\n");
  EXPECT_THAT(ListDir(dir_), ElementsAre("out"));  // The old one is gone.
}

TEST_F(LibraryWriterTest, RefusesAFileAndALink) {
  WriteText(out_, "a file");
  EXPECT_THAT(mcu::WriteCLibrary(SmallLibrary(), out_, true),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(out_ + " exists and is not a folder")));
  EXPECT_EQ(ReadFile(out_), "a file");
  const std::string link = dir_ + "/link";
  std::filesystem::create_directory_symlink(dir_, link);
  EXPECT_THAT(mcu::WriteCLibrary(SmallLibrary(), link, true),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("symbolic link")));
}

TEST_F(LibraryWriterTest, RefusesPathsThatLeaveTheFolderAndWritesNothing) {
  std::vector<mcu::GeneratedFile> files = SmallLibrary();
  files.push_back({"../escape.c", "x"});
  EXPECT_THAT(mcu::WriteCLibrary(files, out_, false),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad library path")));
  EXPECT_TRUE(ListDir(dir_).empty());  // Neither the folder nor a temporary.
}

TEST_F(LibraryWriterTest, AFailedWriteLeavesTheOldFolder) {
  if (geteuid() == 0) {
    // root writes into read-only folders: the failure comes from a file
    // where a folder must go instead.
    std::vector<mcu::GeneratedFile> files = SmallLibrary();
    files.push_back({"model.h/inner.c", "x"});
    std::filesystem::create_directory(out_);
    WriteText(out_ + "/keep.txt", "kept");
    EXPECT_THAT(mcu::WriteCLibrary(files, out_, true),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cannot write")));
  } else {
    std::filesystem::create_directory(out_);
    WriteText(out_ + "/keep.txt", "kept");
    chmod(dir_.c_str(), 0500);  // No temporary folder can be made beside it.
    EXPECT_THAT(mcu::WriteCLibrary(SmallLibrary(), out_, true),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cannot write")));
    chmod(dir_.c_str(), 0700);
  }
  EXPECT_EQ(ReadFile(out_ + "/keep.txt"), "kept");
  EXPECT_THAT(ListDir(dir_), ElementsAre("out"));
}

}  // namespace
}  // namespace nas::testing
