// The submission limits of common/spec_limits.h, each at exactly its value
// and one over, through both ways a spec reaches the controller: YAML sent
// by the real nasctl binary (`nasctl submit`) and a proto SearchSpec sent
// over gRPC. And a spec file that is not UTF-8 text: one line from nasctl,
// exit 2, nothing sent.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/spec.h"
#include "common/spec_limits.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/controller_fixture.h"
#include "tests/integration/pg_environment.h"
#include "tests/status_matchers.h"

namespace nas::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

constexpr char kNasctl[] = NAS_NASCTL_BINARY;

// The sizes a spec is built with; the defaults are small.
struct Sizes {
  size_t name = 8;
  int channels = 2;  // Entries of space.channels.
  int seeds = 1;     // seed_architectures.
  int trials = 4;    // budget.max_trials.
};

std::string SpecYaml(const Sizes& s) {
  std::string yaml = absl::StrCat(
      "name: ", std::string(s.name, 'n'), "\n",
      "dataset: {name: ecg5000, train_subset: 200, validation_subset: 100}\n"
      "device: nrf52840\n"
      "space:\n  layer_types: [CONV1D]\n  kernels: [3]\n  max_layers: 2\n"
      "  channels: [");
  for (int c = 1; c <= s.channels; ++c)
    absl::StrAppend(&yaml, c == 1 ? "" : ", ", c);
  absl::StrAppend(&yaml, "]\ntraining: {epochs: 1, batch_size: 32}\n",
                  "budget: {max_trials: ", s.trials,
                  "}\nseed_architectures:\n");
  for (int i = 0; i < s.seeds; ++i) {
    absl::StrAppend(&yaml, "  - \"CONV1D(", 1 + i % 8,
                    ",k3,s1,p1) RELU LINEAR(5)\"\n");
  }
  return yaml;
}

// Each limit one over, and the line that names it.
struct OverLimit {
  Sizes sizes;
  std::string problem;
};

std::vector<OverLimit> OverEachLimit() {
  std::vector<OverLimit> out;
  Sizes s;
  s.name = kMaxSpecNameLength + 1;
  out.push_back(
      {s, absl::StrCat("name: ", kMaxSpecNameLength + 1, " bytes, at most ",
                       kMaxSpecNameLength, " allowed")});
  s = Sizes();
  s.channels = kMaxChoices + 1;
  out.push_back(
      {s, absl::StrCat("space.channels: ", kMaxChoices + 1,
                       " entries, at most ", kMaxChoices, " allowed")});
  s = Sizes();
  s.seeds = kMaxSeedArchitectures + 1;
  out.push_back(
      {s,
       absl::StrCat("seed_architectures: ", kMaxSeedArchitectures + 1,
                    " entries, at most ", kMaxSeedArchitectures, " allowed")});
  s = Sizes();
  s.trials = kMaxTrials + 1;
  out.push_back({s, absl::StrCat("budget.max_trials: at most ", kMaxTrials,
                                 ", got ", kMaxTrials + 1)});
  return out;
}

Sizes AtEveryLimit() {
  Sizes s;
  s.name = kMaxSpecNameLength;
  s.channels = kMaxChoices;
  s.seeds = kMaxSeedArchitectures;
  s.trials = kMaxTrials;
  return s;
}

class SubmissionLimitsTest : public ControllerFixture {
 protected:
  void SetUp() override {
    ControllerFixture::SetUp();
    // A folder of this test's own: ctest runs the tests of this suite in
    // parallel processes.
    char pattern[] = "/tmp/nas_submission_limitsXXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::filesystem::remove_all(dir_);
    ControllerFixture::TearDown();
  }

  // The spec as a proto, over gRPC.
  absl::StatusOr<v1::Search> SubmitProto(const Sizes& sizes) {
    absl::StatusOr<v1::SearchSpec> spec = ParseSearchSpecYaml(SpecYaml(sizes));
    if (!spec.ok()) return spec.status();
    v1::SubmitSearchRequest request;
    *request.mutable_spec() = *spec;
    v1::Search reply;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    const grpc::Status status =
        search_->SubmitSearch(&context, request, &reply);
    if (!status.ok()) return FromGrpcStatus(status);
    return reply;
  }

  // `nasctl submit FILE` with `text` in FILE; its exit code, output in `out`.
  int NasctlSubmit(const std::string& text, std::string* out) {
    const std::string path = dir_ + "/spec.yaml";
    std::ofstream(path, std::ios::binary) << text;
    return RunCommand(
        absl::StrCat(kNasctl, " --controller=127.0.0.1:", server_->port(),
                     " --insecure --timeout=30s submit ", path),
        out);
  }

  std::string dir_;
};

TEST_F(SubmissionLimitsTest, EveryLimitHoldsAtItsValue) {
  EXPECT_THAT(SubmitProto(AtEveryLimit()), IsOk());
  std::string out;
  EXPECT_EQ(NasctlSubmit(SpecYaml(AtEveryLimit()), &out), 0) << out;
  EXPECT_THAT(out, StartsWith("submitted search "));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM searches"), 2);
}

TEST_F(SubmissionLimitsTest, OneOverAnyLimitIsRefusedNamingIt) {
  for (const OverLimit& over : OverEachLimit()) {
    EXPECT_THAT(
        SubmitProto(over.sizes),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(over.problem)))
        << over.problem;
    std::string out;
    EXPECT_EQ(NasctlSubmit(SpecYaml(over.sizes), &out), 2) << out;
    EXPECT_THAT(out, HasSubstr(over.problem));
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM searches"), 0);
}

TEST_F(SubmissionLimitsTest, ASpecFileThatIsNotUtf8TextIsOneLineAndExitTwo) {
  const std::string path = dir_ + "/spec.yaml";
  std::string out;
  // Latin-1 "café" as the name: byte 0xe9 at offset 9.
  const std::string spec = SpecYaml(Sizes());
  EXPECT_EQ(NasctlSubmit(absl::StrCat("name: caf\xe9\n",
                                      spec.substr(spec.find('\n') + 1)),
                         &out),
            2);
  EXPECT_EQ(out, absl::StrCat(
                     "nasctl: submit ", path, ": ", path,
                     " is not UTF-8 text: byte 0xe9 at offset 9 (line 1)\n"));
  // UTF-16 with its byte-order mark.
  EXPECT_EQ(NasctlSubmit(std::string("\xff\xfen\0a\0", 6), &out), 2);
  EXPECT_THAT(
      out,
      MatchesRegex("nasctl: submit [^\n]*: [^\n]* is not UTF-8 text: byte 0xff "
                   "at offset 0 \\(line 1\\)\n"));
  // Binary junk after a valid start: the first bad byte, on its line.
  EXPECT_EQ(
      NasctlSubmit(absl::StrCat(spec, std::string("\x00\x01\x80", 3)), &out),
      2);
  EXPECT_THAT(out,
              HasSubstr(absl::StrCat("byte 0x00 at offset ", spec.size())));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM searches"), 0);
}

}  // namespace
}  // namespace nas::testing
