#include "nasctl/format.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/status_matchers.h"

namespace nas::nasctl {
namespace {

using ::nas::testing::StatusIs;
using ::testing::HasSubstr;

TEST(TableTest, AlignsColumnsAndDoesNotPadTheLastOne) {
  Table table({{"ID", true}, {"NAME"}, {"ARCH"}});
  table.AddRow({"7", "fashion", "CONV2D(8,k3,s1,p1) LINEAR(10)"});
  table.AddRow({"12", "ecg", "LINEAR(5)"});
  EXPECT_EQ(table.Render(),
            "ID  NAME     ARCH\n"
            " 7  fashion  CONV2D(8,k3,s1,p1) LINEAR(10)\n"
            "12  ecg      LINEAR(5)\n");
  EXPECT_EQ(table.num_rows(), 2u);
}

TEST(TableTest, MissingCellsPrintEmpty) {
  Table table({{"A"}, {"B", true}});
  table.AddRow({"xyz"});
  EXPECT_EQ(table.Render(), "A    B\nxyz\n");
}

TEST(FormatTest, Bytes) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(1023), "1023 B");
  EXPECT_EQ(FormatBytes(12345), "12.1 KiB");
  EXPECT_EQ(FormatBytes(3 << 20), "3.00 MiB");
}

TEST(FormatTest, Counts) {
  EXPECT_EQ(FormatCount(950), "950");
  EXPECT_EQ(FormatCount(12345), "12.3k");
  EXPECT_EQ(FormatCount(4560000), "4.56M");
  EXPECT_EQ(FormatCount(1200000000), "1.20G");
  EXPECT_EQ(FormatInteger(61706), "61,706");
  EXPECT_EQ(FormatInteger(999), "999");
  EXPECT_EQ(FormatInteger(1000000), "1,000,000");
  EXPECT_EQ(FormatInteger(-1234), "-1,234");
}

TEST(FormatTest, DurationsScoresMillis) {
  EXPECT_EQ(FormatDuration(45), "45s");
  EXPECT_EQ(FormatDuration(185), "3m05s");
  EXPECT_EQ(FormatDuration(3720), "1h02m");
  EXPECT_EQ(FormatDuration(-1), "-");
  EXPECT_EQ(FormatScore(0.87234), "0.8723");
  EXPECT_EQ(FormatMillis(0.0421), "0.042 ms");
  EXPECT_EQ(FormatMillis(3.214), "3.21 ms");
  EXPECT_EQ(FormatMillis(152.4), "152 ms");
}

TEST(FormatTest, StateNames) {
  EXPECT_EQ(SearchStateName(v1::SEARCH_RUNNING), "RUNNING");
  EXPECT_EQ(TrialStateName(v1::TRIAL_INFEASIBLE), "INFEASIBLE");
  NAS_ASSERT_OK_AND_ASSIGN(v1::TrialState a, ParseTrialState("running"));
  EXPECT_EQ(a, v1::TRIAL_RUNNING);
  NAS_ASSERT_OK_AND_ASSIGN(v1::TrialState b, ParseTrialState("TRIAL_CACHED"));
  EXPECT_EQ(b, v1::TRIAL_CACHED);
  EXPECT_THAT(ParseTrialState("done"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown trial state 'done'")));
  EXPECT_THAT(ParseTrialState("state_unspecified"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown trial state")));
  EXPECT_TRUE(IsTerminal(v1::SEARCH_CANCELLED));
  EXPECT_FALSE(IsTerminal(v1::SEARCH_RUNNING));
}

TEST(FormatTest, JsonHasSnakeCaseNamesAndZeroFields) {
  v1::Search search;
  search.set_id(5);
  search.set_state(v1::SEARCH_RUNNING);
  nlohmann::json doc = nlohmann::json::parse(ToJson(search));
  EXPECT_EQ(doc["id"], "5");  // int64 is a string in proto3 JSON.
  EXPECT_EQ(doc["state"], "SEARCH_RUNNING");
  EXPECT_EQ(doc["trials_done"], 0);
  const std::string line = ToJson(search, /*one_line=*/true);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(line), doc);
}

}  // namespace
}  // namespace nas::nasctl
