#include "nasctl/args.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace nas::nasctl {
namespace {

using ::nas::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<Invocation> Parse(std::vector<std::string> args) {
  return ParseArgs(args, "localhost:50051");
}

TEST(ArgsTest, GlobalOptionsBeforeAndAfterTheCommand) {
  NAS_ASSERT_OK_AND_ASSIGN(Invocation inv,
                           Parse({"--controller", "ctl:1234", "list", "--json", "--timeout=3s"}));
  EXPECT_EQ(inv.command, "list");
  EXPECT_EQ(inv.global.controller, "ctl:1234");
  EXPECT_TRUE(inv.global.json);
  EXPECT_EQ(inv.global.timeout, absl::Seconds(3));
  EXPECT_TRUE(inv.args.empty());
}

TEST(ArgsTest, DefaultControllerAndTimeout) {
  NAS_ASSERT_OK_AND_ASSIGN(Invocation inv, Parse({"show", "7"}));
  EXPECT_EQ(inv.global.controller, "localhost:50051");
  EXPECT_EQ(inv.global.timeout, absl::Seconds(10));
  EXPECT_FALSE(inv.global.json);
  EXPECT_THAT(inv.args, ElementsAre("7"));
}

TEST(ArgsTest, PlainNumberTimeoutIsSeconds) {
  NAS_ASSERT_OK_AND_ASSIGN(Invocation inv, Parse({"--timeout", "2.5", "list"}));
  EXPECT_EQ(inv.global.timeout, absl::Milliseconds(2500));
}

TEST(ArgsTest, CommandOptions) {
  NAS_ASSERT_OK_AND_ASSIGN(Invocation submit, Parse({"submit", "spec.yaml", "--watch"}));
  EXPECT_TRUE(submit.watch);
  NAS_ASSERT_OK_AND_ASSIGN(Invocation trials, Parse({"trials", "3", "--state=running"}));
  EXPECT_EQ(trials.state, "running");
  NAS_ASSERT_OK_AND_ASSIGN(Invocation out, Parse({"export", "3", "best", "-o", "m.pt"}));
  EXPECT_EQ(out.output, "m.pt");
  EXPECT_THAT(out.args, ElementsAre("3", "best"));
  NAS_ASSERT_OK_AND_ASSIGN(
      Invocation analyze,
      Parse({"analyze", "1,1,8,3,1,1", "--device", "rp2040", "--input", "1x140", "--classes",
             "5"}));
  EXPECT_EQ(analyze.device, "rp2040");
  EXPECT_EQ(analyze.input, "1x140");
  EXPECT_EQ(analyze.classes, 5);
  NAS_ASSERT_OK_AND_ASSIGN(Invocation policy, Parse({"policy", "3"}));
  EXPECT_EQ(policy.top, 20);
  NAS_ASSERT_OK_AND_ASSIGN(policy, Parse({"policy", "3", "--top", "1000"}));
  EXPECT_EQ(policy.top, 1000);
}

TEST(ArgsTest, DoubleDashEndsOptions) {
  NAS_ASSERT_OK_AND_ASSIGN(Invocation inv,
                           Parse({"analyze", "--device", "nrf52840", "--", "-weird-file"}));
  EXPECT_THAT(inv.args, ElementsAre("-weird-file"));
}

TEST(ArgsTest, HelpNeedsNoCommand) {
  NAS_ASSERT_OK_AND_ASSIGN(Invocation a, Parse({"--help"}));
  EXPECT_TRUE(a.help);
  NAS_ASSERT_OK_AND_ASSIGN(Invocation b, Parse({"help"}));
  EXPECT_TRUE(b.help);
  NAS_ASSERT_OK_AND_ASSIGN(Invocation c, Parse({"-h", "submit"}));
  EXPECT_TRUE(c.help);
  EXPECT_EQ(c.command, "submit");
}

TEST(ArgsTest, Errors) {
  EXPECT_THAT(Parse({}), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no command")));
  EXPECT_THAT(Parse({"frobnicate"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown command 'frobnicate'")));
  EXPECT_THAT(Parse({"list", "--bogus"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown option '--bogus'")));
  EXPECT_THAT(Parse({"list", "--state", "running"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("'list' does not take --state")));
  EXPECT_THAT(Parse({"show"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("missing arguments")));
  EXPECT_THAT(Parse({"show", "1", "2"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("too many arguments")));
  EXPECT_THAT(Parse({"export", "1", "best"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("-o FILE")));
  EXPECT_THAT(Parse({"analyze", "x"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--device")));
  EXPECT_THAT(Parse({"list", "--timeout"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("needs a value")));
  EXPECT_THAT(Parse({"list", "--timeout", "soon"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--timeout")));
  EXPECT_THAT(Parse({"list", "--json=maybe"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected true or false")));
  EXPECT_THAT(Parse({"analyze", "x", "--device", "d", "--classes", "0"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--classes")));
  for (const char* top : {"0", "-3", "1001", "ten", "5x"}) {
    EXPECT_THAT(Parse({"policy", "1", "--top", top}),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr(absl::StrCat("--top: expected an integer from 1 to 1000, got '",
                                                top, "'"))));
  }
  EXPECT_THAT(Parse({"show", "1", "--top", "5"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'show' does not take --top")));
}

TEST(ArgsTest, ParseId) {
  NAS_ASSERT_OK_AND_ASSIGN(int64_t id, ParseId("42", "search id"));
  EXPECT_EQ(id, 42);
  EXPECT_THAT(ParseId("0", "search id"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad search id '0'")));
  EXPECT_THAT(ParseId("abc", "trial id"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad trial id 'abc'")));
}

TEST(ArgsTest, UsageListsEveryCommand) {
  const std::string usage = Usage();
  for (const char* command : {"submit", "watch", "list", "show", "trials", "pareto", "cancel",
                              "export", "policy", "analyze"}) {
    EXPECT_THAT(usage, HasSubstr(std::string("nasctl ") + command)) << command;
  }
}

TEST(ArgsTest, TlsAndTokenOptionsAreGlobal) {
  NAS_ASSERT_OK_AND_ASSIGN(
      Invocation inv,
      Parse({"--tls_ca", "ca.pem", "list", "--token_file=tok", "--tls_cert", "c.pem",
             "--tls_key=c.key"}));
  EXPECT_EQ(inv.global.tls.ca, "ca.pem");
  EXPECT_EQ(inv.global.tls.cert, "c.pem");
  EXPECT_EQ(inv.global.tls.key, "c.key");
  EXPECT_EQ(inv.global.token_file, "tok");
  EXPECT_FALSE(inv.global.tls.insecure);
  NAS_ASSERT_OK_AND_ASSIGN(Invocation plain, Parse({"show", "1", "--insecure", "--token=t"}));
  EXPECT_TRUE(plain.global.tls.insecure);
  EXPECT_EQ(plain.global.token, "t");
}

TEST(ArgsTest, EmptyTlsOrTokenValueIsRefused) {
  EXPECT_THAT(Parse({"list", "--tls_ca="}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--tls_ca: empty value")));
  EXPECT_THAT(Parse({"list", "--token", ""}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--token: empty value")));
}

}  // namespace
}  // namespace nas::nasctl
