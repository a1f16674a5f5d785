#include "worker/host_threads.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace nas::worker {
namespace {

class HostThreadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/nashostXXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    folder_ = std::string(dir) + "/workers";
  }
  void TearDown() override {
    std::filesystem::remove_all(std::filesystem::path(folder_).parent_path());
  }
  // What another worker (process `pid`) would write.
  void OtherWorker(pid_t pid, int wanted) {
    std::ofstream(absl::StrCat(folder_, "/", pid)) << wanted << "\n";
  }
  std::string folder_;
};

TEST_F(HostThreadsTest, AloneAWorkerKeepsItsThreadsAndCleansUp) {
  {
    HostThreads host(folder_, /*wanted=*/2, /*cores=*/2);
    EXPECT_TRUE(std::filesystem::exists(absl::StrCat(folder_, "/", getpid())));
    EXPECT_EQ(host.ThreadsPerSlot(2), 2);
    EXPECT_EQ(host.total_wanted(), 2);
  }
  EXPECT_FALSE(std::filesystem::exists(absl::StrCat(folder_, "/", getpid())));
}

TEST_F(HostThreadsTest, WorkersThatWantMoreThanTheCoresShareThem) {
  HostThreads host(folder_, /*wanted=*/2, /*cores=*/2);
  OtherWorker(getppid(), 2);  // A live process: counted.
  EXPECT_EQ(host.ThreadsPerSlot(2), 1);
  EXPECT_EQ(host.total_wanted(), 4);
}

TEST_F(HostThreadsTest, FilesOfDeadWorkersAreRemovedAndNotCounted) {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  {
    HostThreads warmup(folder_, 1, 1);  // Makes the folder.
  }
  OtherWorker(child, 8);
  OtherWorker(getppid(), 1000000);  // Not a believable want: ignored.
  HostThreads host(folder_, /*wanted=*/4, /*cores=*/4);
  EXPECT_EQ(host.ThreadsPerSlot(4), 4);
  EXPECT_FALSE(std::filesystem::exists(absl::StrCat(folder_, "/", child)));
}

TEST_F(HostThreadsTest, AnUnusableFolderLeavesTheThreadsAsConfigured) {
  HostThreads host("/proc/no-such-folder/workers", 2, 2);
  EXPECT_EQ(host.ThreadsPerSlot(2), 2);
}

}  // namespace
}  // namespace nas::worker
