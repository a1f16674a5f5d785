#include "controller/rpc_executor.h"

#include <atomic>
#include <memory>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace nas::controller {
namespace {

TEST(RpcExecutorTest, BlockedTasksDoNotHoldUpTheOthers) {
  RpcExecutor executor(3);
  absl::Notification release;
  std::atomic<int> blocked{0};
  absl::Notification quick_ran;
  for (int i = 0; i < 2; ++i) {
    executor.Run([&] {
      ++blocked;
      release.WaitForNotification();
    });
  }
  executor.Run([&] { quick_ran.Notify(); });
  EXPECT_TRUE(quick_ran.WaitForNotificationWithTimeout(absl::Seconds(10)));
  release.Notify();
}

TEST(RpcExecutorTest, DestructionRunsEveryQueuedTask) {
  std::atomic<int> ran{0};
  {
    RpcExecutor executor(1);
    absl::Notification release;
    executor.Run([&] { release.WaitForNotification(); });
    for (int i = 0; i < 50; ++i) executor.Run([&] { ++ran; });
    release.Notify();
  }
  EXPECT_EQ(ran.load(), 50);
}

}  // namespace
}  // namespace nas::controller
