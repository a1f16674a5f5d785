#include "controller/store/pending_index.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nas::controller {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const absl::Time kStart = absl::FromUnixSeconds(1700000000);

TEST(PendingIndexTest, HandsOutTheLowestIdsOnce) {
  PendingIndex index(absl::Seconds(5));
  EXPECT_TRUE(index.NeedsLoad(kStart));
  index.Load({7, 3}, kStart);
  index.Add({5, 3, 9});
  EXPECT_FALSE(index.NeedsLoad(kStart));
  EXPECT_THAT(index.Take(2), ElementsAre(3, 5));
  EXPECT_THAT(index.Take(5), ElementsAre(7, 9));
  EXPECT_THAT(index.Take(1), IsEmpty());
  EXPECT_TRUE(index.empty());
}

TEST(PendingIndexTest, IsReadAgainOnlyWhenEmptyForTheRefreshTime) {
  PendingIndex index(absl::Seconds(5));
  index.Load({1}, kStart);
  EXPECT_FALSE(index.NeedsLoad(kStart + absl::Seconds(10)));  // Not empty.
  index.Take(1);
  EXPECT_FALSE(index.NeedsLoad(kStart + absl::Seconds(4)));
  EXPECT_TRUE(index.NeedsLoad(kStart + absl::Seconds(5)));
  index.Load({}, kStart + absl::Seconds(5));
  EXPECT_FALSE(index.NeedsLoad(kStart + absl::Seconds(6)));
}

}  // namespace
}  // namespace nas::controller
