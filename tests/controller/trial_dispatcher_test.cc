// Lease ids only: the dispatcher's store interplay is tested against a real
// PostgreSQL in tests/integration.
#include "controller/trial_dispatcher.h"

#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nas::controller {
namespace {

using ::testing::MatchesRegex;

TEST(NewLeaseIdTest, Is128BitHexAndUnique) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewLeaseId();
    EXPECT_THAT(id, MatchesRegex("[0-9a-f]{32}"));
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
}

}  // namespace
}  // namespace nas::controller
