#include "controller/auth.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace nas::controller {
namespace {

using ::nas::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kToken[] = "0123456789abcdef0123456789abcdef";
constexpr char kSearchPath[] = "/nas.v1.SearchService/ListSearches";
constexpr char kWorkerPath[] = "/nas.v1.WorkerService/RegisterWorker";

ApiTokens Tokens() {
  absl::StatusOr<ApiTokens> tokens =
      ApiTokens::Parse(absl::StrCat("# comment\n\n  ", kToken, "  \nsecond-token-of-16\n"));
  EXPECT_TRUE(tokens.ok()) << tokens.status();
  return *tokens;
}

TEST(ApiTokensTest, ParsesOneTokenALineSkippingCommentsAndBlanks) {
  const ApiTokens tokens = Tokens();
  EXPECT_EQ(tokens.size(), 2u);
  EXPECT_TRUE(tokens.Matches(kToken));
  EXPECT_TRUE(tokens.Matches("second-token-of-16"));
  EXPECT_FALSE(tokens.Matches("0123456789abcdef"));  // A prefix.
  EXPECT_FALSE(tokens.Matches(absl::StrCat(kToken, "0")));
  EXPECT_FALSE(tokens.Matches(""));
}

TEST(ApiTokensTest, RefusesShortTokensSpacesAndEmptyFiles) {
  EXPECT_THAT(ApiTokens::Parse("short\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line 1: token shorter")));
  EXPECT_THAT(ApiTokens::Parse("# x\nthis token has spaces in it\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line 2")));
  EXPECT_THAT(ApiTokens::Parse("# only a comment\n\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no token")));
}

TEST(AuthorizeCallTest, HealthIsOpen) {
  EXPECT_TRUE(AuthorizeCall("/grpc.health.v1.Health/Check", false, std::nullopt, Tokens()).ok());
}

TEST(AuthorizeCallTest, WorkerApiNeedsACertificateNotAToken) {
  const std::string bearer = absl::StrCat("Bearer ", kToken);
  EXPECT_TRUE(AuthorizeCall(kWorkerPath, true, std::nullopt, Tokens()).ok());
  EXPECT_THAT(AuthorizeCall(kWorkerPath, false, bearer, Tokens()),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("client certificate")));
}

TEST(AuthorizeCallTest, SearchApiNeedsAValidBearerTokenOrACertificate) {
  const ApiTokens tokens = Tokens();
  EXPECT_TRUE(AuthorizeCall(kSearchPath, false, absl::StrCat("Bearer ", kToken), tokens).ok());
  EXPECT_TRUE(AuthorizeCall(kSearchPath, true, std::nullopt, tokens).ok());
  EXPECT_THAT(AuthorizeCall(kSearchPath, false, std::nullopt, tokens),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("bearer token")));
  EXPECT_THAT(AuthorizeCall(kSearchPath, false, std::string(kToken), tokens),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("'Bearer <token>'")));
  EXPECT_THAT(AuthorizeCall(kSearchPath, false, "Bearer wrong-token-wrong-token", tokens),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("not valid")));
  // Reflection and unknown methods are not open either.
  EXPECT_FALSE(AuthorizeCall("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                             false, std::nullopt, tokens)
                   .ok());
  EXPECT_FALSE(AuthorizeCall("", false, std::nullopt, tokens).ok());
  // With no tokens configured, only certificates count.
  EXPECT_FALSE(
      AuthorizeCall(kSearchPath, false, absl::StrCat("Bearer ", kToken), ApiTokens()).ok());
}

}  // namespace
}  // namespace nas::controller
