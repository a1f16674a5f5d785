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

const PeerCertificate kNoCertificate;
const PeerCertificate kWorker = CertificateFromSubject("CN=w7,OU=worker,O=tinynas");
const PeerCertificate kNasctl = CertificateFromSubject("CN=ops,OU=api,O=tinynas");
const PeerCertificate kNoRole = CertificateFromSubject("CN=tinynas-worker,O=tinynas");

TEST(CertificateFromSubjectTest, ReadsTheRolesFromTheOrganizationalUnits) {
  EXPECT_TRUE(kWorker.certified);
  EXPECT_TRUE(kWorker.worker);
  EXPECT_FALSE(kWorker.api);
  EXPECT_TRUE(kNasctl.api);
  EXPECT_FALSE(kNasctl.worker);
  EXPECT_TRUE(kNoRole.certified);
  EXPECT_FALSE(kNoRole.worker || kNoRole.api);
  // Both, one as a multi-valued RDN.
  const PeerCertificate both = CertificateFromSubject("CN=x+OU=api,OU=worker");
  EXPECT_TRUE(both.worker && both.api);
  // Only an OU attribute whose whole value is the role counts.
  for (const char* subject :
       {"CN=worker,O=api", "CN=x,OU=workers", "CN=x,OU=api\\,worker",
        "CN=OU\\=worker", "CN=x,OU=Worker", "CN=x,OU=\\77orker", "OU=", ""}) {
    const PeerCertificate peer = CertificateFromSubject(subject);
    EXPECT_FALSE(peer.worker || peer.api) << subject;
  }
  // An escaped character is the character itself.
  EXPECT_TRUE(CertificateFromSubject("CN=a\\,b,OU=ap\\i").api);
}

TEST(AuthorizeCallTest, HealthIsOpen) {
  EXPECT_TRUE(
      AuthorizeCall("/grpc.health.v1.Health/Check", kNoCertificate, std::nullopt, Tokens()).ok());
}

TEST(AuthorizeCallTest, WorkerApiNeedsAWorkerCertificateNotAToken) {
  const std::string bearer = absl::StrCat("Bearer ", kToken);
  EXPECT_TRUE(AuthorizeCall(kWorkerPath, kWorker, std::nullopt, Tokens()).ok());
  EXPECT_THAT(AuthorizeCall(kWorkerPath, kNoCertificate, bearer, Tokens()),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("client certificate")));
  // Signed by the CA, but not for a worker: nasctl's, or one without a role.
  EXPECT_THAT(AuthorizeCall(kWorkerPath, kNasctl, bearer, Tokens()),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       HasSubstr("(OU=worker); this one's subject is 'CN=ops,OU=api,O=tinynas'")));
  EXPECT_THAT(AuthorizeCall(kWorkerPath, kNoRole, std::nullopt, Tokens()),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("OU=worker")));
}

TEST(AuthorizeCallTest, SearchApiNeedsAValidBearerTokenOrAnApiCertificate) {
  const ApiTokens tokens = Tokens();
  const std::string bearer = absl::StrCat("Bearer ", kToken);
  EXPECT_TRUE(AuthorizeCall(kSearchPath, kNoCertificate, bearer, tokens).ok());
  EXPECT_TRUE(AuthorizeCall(kSearchPath, kNasctl, std::nullopt, tokens).ok());
  EXPECT_THAT(AuthorizeCall(kSearchPath, kNoCertificate, std::nullopt, tokens),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("bearer token")));
  EXPECT_THAT(AuthorizeCall(kSearchPath, kNoCertificate, std::string(kToken), tokens),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("'Bearer <token>'")));
  EXPECT_THAT(AuthorizeCall(kSearchPath, kNoCertificate, "Bearer wrong-token-wrong-token", tokens),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("not valid")));
  // A worker's certificate runs no search, nor does one without a role; with
  // a valid token they may (the token decides).
  EXPECT_THAT(AuthorizeCall(kSearchPath, kWorker, std::nullopt, tokens),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       HasSubstr("OU=api); this one's subject is 'CN=w7,OU=worker,O=tinynas'")));
  EXPECT_THAT(AuthorizeCall(kSearchPath, kNoRole, std::nullopt, tokens),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("OU=api")));
  EXPECT_TRUE(AuthorizeCall(kSearchPath, kWorker, bearer, tokens).ok());
  // Reflection and unknown methods are not open either.
  EXPECT_FALSE(AuthorizeCall("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                             kNoCertificate, std::nullopt, tokens)
                   .ok());
  EXPECT_FALSE(AuthorizeCall("", kNoCertificate, std::nullopt, tokens).ok());
  EXPECT_FALSE(AuthorizeCall("", kWorker, std::nullopt, tokens).ok());
  // With no tokens configured, only certificates count.
  EXPECT_FALSE(AuthorizeCall(kSearchPath, kNoCertificate, bearer, ApiTokens()).ok());
}

}  // namespace
}  // namespace nas::controller
