#ifndef NAS_TESTS_STATUS_MATCHERS_H_
#define NAS_TESTS_STATUS_MATCHERS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nas::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

// EXPECT_THAT(result, IsOk());
MATCHER(IsOk, "is OK") {
  const absl::Status& s = GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s.ToString();
  return s.ok();
}

// EXPECT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument,
//                              HasSubstr("kernel")));
MATCHER_P2(StatusIs, code, message_matcher, "") {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s.ToString();
  return s.code() == code &&
         ::testing::ExplainMatchResult(message_matcher,
                                       std::string(s.message()),
                                       result_listener);
}

}  // namespace nas::testing

#define NAS_ASSERT_OK(expr) ASSERT_THAT((expr), ::nas::testing::IsOk())
#define NAS_EXPECT_OK(expr) EXPECT_THAT((expr), ::nas::testing::IsOk())

#define NAS_ASSERT_OK_AND_ASSIGN(lhs, rexpr)                        \
  NAS_ASSERT_OK_AND_ASSIGN_IMPL_(                                   \
      NAS_TEST_CONCAT_(nas_test_statusor_, __LINE__), lhs, rexpr)
#define NAS_TEST_CONCAT_INNER_(a, b) a##b
#define NAS_TEST_CONCAT_(a, b) NAS_TEST_CONCAT_INNER_(a, b)
#define NAS_ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                   \
  ASSERT_TRUE(statusor.ok()) << statusor.status().ToString(); \
  lhs = std::move(statusor).value()

#endif  // NAS_TESTS_STATUS_MATCHERS_H_
