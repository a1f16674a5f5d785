// Whole nasctl command lines against TestSearchService (a unit-level fake of
// the controller's SearchService, see its header) over real gRPC on port 0.
#include "nasctl/commands.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/subprocess.h"
#include "tests/nasctl/test_search_service.h"

namespace nas::nasctl {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

constexpr int64_t kNowMs = 1700000100000;

struct Result {
  int code;
  std::string out;
  std::string err;
};

v1::Search MakeSearch(int64_t id, v1::SearchState state, int done) {
  v1::Search s;
  s.set_id(id);
  s.set_name(absl::StrCat("search-", id));
  s.set_state(state);
  s.set_trials_total(4);
  s.set_trials_done(done);
  s.set_started_unix_ms(kNowMs - 60000);
  if (done > 0) {
    s.set_best_trial_id(100 + id);
    s.set_best_accuracy(0.875);
    s.set_best_reward(0.875);
  }
  if (state == v1::SEARCH_SUCCEEDED) s.set_finished_unix_ms(kNowMs - 1000);
  return s;
}

v1::Trial MakeTrial(int64_t search_id, int64_t id, int number, v1::TrialState state,
                    double accuracy) {
  v1::Trial t;
  t.set_id(id);
  t.set_search_id(search_id);
  t.set_number(number);
  t.set_state(state);
  v1::Layer* fc = t.mutable_architecture()->add_layers();
  fc->set_type(v1::LINEAR);
  fc->set_out(10);
  t.mutable_metrics()->set_accuracy(accuracy);
  t.mutable_metrics()->set_params(7850);
  t.mutable_metrics()->set_flash_bytes(7954);
  t.mutable_metrics()->set_peak_sram_bytes(794);
  t.mutable_metrics()->set_macs(7840);
  t.set_reward(accuracy);
  t.set_attempts(1);
  return t;
}

// An environment writing to `out` and `err` with the clock at kNowMs.
Environment TestEnvironment(std::ostringstream* out, std::ostringstream* err) {
  Environment env;
  env.out = out;
  env.err = err;
  env.now_ms = [] { return kNowMs; };
  return env;
}

class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = StartTestServer(&service_, &address_);
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override { server_->Shutdown(); }

  Result Nasctl(std::vector<std::string> args, bool tty = false) {
    args.insert(args.begin(), {"--controller", address_, "--insecure"});
    std::ostringstream out, err;
    Environment env = TestEnvironment(&out, &err);
    env.out_is_tty = tty;
    const int code = RunNasctl(args, env);
    return {code, out.str(), err.str()};
  }

  std::string TempPath(const std::string& name) {
    return (std::filesystem::temp_directory_path() /
            absl::StrCat("nasctl_test_", getpid(), "_", name))
        .string();
  }

  TestSearchService service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

TEST_F(CommandsTest, ListPrintsATableAndJson) {
  service_.AddSearch(MakeSearch(1, v1::SEARCH_SUCCEEDED, 4));
  service_.AddSearch(MakeSearch(2, v1::SEARCH_RUNNING, 1));
  Result table = Nasctl({"list"});
  EXPECT_EQ(table.code, 0) << table.err;
  EXPECT_THAT(table.out, StartsWith("ID  NAME      STATE      TRIALS"));
  EXPECT_THAT(table.out, HasSubstr(" 1  search-1  SUCCEEDED     4/4"));
  EXPECT_THAT(table.out, HasSubstr(" 2  search-2  RUNNING       1/4"));
  Result json = Nasctl({"list", "--json"});
  EXPECT_EQ(json.code, 0);
  nlohmann::json doc = nlohmann::json::parse(json.out);
  ASSERT_EQ(doc["searches"].size(), 2u);
  EXPECT_EQ(doc["searches"][1]["state"], "SEARCH_RUNNING");
}

TEST_F(CommandsTest, ListWithNoSearches) {
  Result r = Nasctl({"list"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "no searches\n");
}

TEST_F(CommandsTest, ShowIncludesTheBestTrial) {
  service_.AddSearch(MakeSearch(1, v1::SEARCH_SUCCEEDED, 4));
  service_.AddTrial(MakeTrial(1, 101, 3, v1::TRIAL_SUCCEEDED, 0.875));
  Result r = Nasctl({"show", "1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("state        SUCCEEDED"));
  EXPECT_THAT(r.out, HasSubstr("best model: trial 101 (#3)"));
  EXPECT_THAT(r.out, HasSubstr("architecture LINEAR(10)"));
  Result json = Nasctl({"show", "1", "--json"});
  nlohmann::json doc = nlohmann::json::parse(json.out);
  EXPECT_EQ(doc["search"]["id"], "1");
  EXPECT_EQ(doc["best_trial"]["id"], "101");
}

TEST_F(CommandsTest, UnknownSearchIsOneLineAndExitOne) {
  Result r = Nasctl({"show", "99"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "nasctl: show 99: search 99 not found\n");
  EXPECT_EQ(r.out, "");
}

TEST_F(CommandsTest, TrialsFiltersByState) {
  service_.AddSearch(MakeSearch(1, v1::SEARCH_RUNNING, 1));
  service_.AddTrial(MakeTrial(1, 101, 0, v1::TRIAL_SUCCEEDED, 0.8));
  service_.AddTrial(MakeTrial(1, 102, 1, v1::TRIAL_RUNNING, 0));
  Result r = Nasctl({"trials", "1", "--state", "running"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(service_.last_list_trials().state(), v1::TRIAL_RUNNING);
  EXPECT_THAT(r.out, HasSubstr("RUNNING"));
  EXPECT_THAT(r.out, Not(HasSubstr("SUCCEEDED")));
  Result all = Nasctl({"trials", "1", "--json"});
  EXPECT_EQ(nlohmann::json::parse(all.out)["trials"].size(), 2u);
  Result bad = Nasctl({"trials", "1", "--state", "sleeping"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_THAT(bad.err, StartsWith("nasctl: unknown trial state 'sleeping'"));
}

TEST_F(CommandsTest, ParetoPassesTheDeviceAndPrintsTheTable) {
  service_.AddSearch(MakeSearch(1, v1::SEARCH_SUCCEEDED, 2));
  service_.AddTrial(MakeTrial(1, 101, 0, v1::TRIAL_SUCCEEDED, 0.8));
  service_.AddTrial(MakeTrial(1, 102, 1, v1::TRIAL_SUCCEEDED, 0.9));
  // As the controller answers: the front's quality, best first.
  service_.SetParetoFront(1, {MakeTrial(1, 102, 1, v1::TRIAL_SUCCEEDED, 0.9),
                              MakeTrial(1, 101, 0, v1::TRIAL_SUCCEEDED, 0.8)});
  Result r = Nasctl({"pareto", "1", "--device", "rp2040"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(service_.last_pareto().device(), "rp2040");
  EXPECT_THAT(r.out, HasSubstr("TRIAL  #  ACCURACY  MACRO-F1  SPREAD  FLOAT  PARAMS"));
  // In the controller's order.
  EXPECT_LT(r.out.find("  102  1    0.9000"), r.out.find("  101  0    0.8000"));
}

TEST_F(CommandsTest, CancelPrintsTheNewState) {
  service_.AddSearch(MakeSearch(1, v1::SEARCH_RUNNING, 1));
  Result r = Nasctl({"cancel", "1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "search 1 is CANCELLED\n");
}

TEST_F(CommandsTest, ExportBestWritesTheModelBytes) {
  service_.AddSearch(MakeSearch(1, v1::SEARCH_SUCCEEDED, 4));
  service_.AddTrial(MakeTrial(1, 101, 3, v1::TRIAL_SUCCEEDED, 0.875));
  const std::string bytes("PK\x03\x04 torchscript\0bytes", 25);
  service_.SetModel(101, bytes);
  const std::string path = TempPath("model.pt");
  Result r = Nasctl({"export", "1", "best", "-o", path});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(service_.last_export().trial_id(), 0);
  EXPECT_THAT(r.out, HasSubstr("exported trial 101 (#3, accuracy 0.8750)"));
  std::ifstream in(path, std::ios::binary);
  std::string written((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(written, bytes);
  std::filesystem::remove(path);
}

TEST_F(CommandsTest, ExportErrors) {
  service_.AddSearch(MakeSearch(1, v1::SEARCH_SUCCEEDED, 4));
  service_.AddTrial(MakeTrial(1, 101, 3, v1::TRIAL_SUCCEEDED, 0.875));
  Result no_model = Nasctl({"export", "1", "101", "-o", TempPath("x.pt")});
  EXPECT_EQ(no_model.code, 1);
  EXPECT_EQ(no_model.err, "nasctl: export 1 101: trial 101 has no stored model\n");
  EXPECT_EQ(service_.last_export().trial_id(), 101);
  service_.SetModel(101, "bytes");
  Result bad_dir = Nasctl({"export", "1", "best", "-o", "/nonexistent-dir/m.pt"});
  EXPECT_EQ(bad_dir.code, 2);
  EXPECT_THAT(bad_dir.err, HasSubstr("cannot write /nonexistent-dir/m.pt"));
  Result bad_trial = Nasctl({"export", "1", "first", "-o", "m.pt"});
  EXPECT_EQ(bad_trial.code, 2);
  EXPECT_THAT(bad_trial.err, HasSubstr("bad trial id (or 'best') 'first'"));
}

TEST_F(CommandsTest, PolicyShowsTheStateAndAsksForTop) {
  service_.AddSearch(MakeSearch(3, v1::SEARCH_RUNNING, 1));
  v1::PolicyState state;
  state.set_policy("qlearning");
  state.set_observed(5);
  state.set_models(4);
  state.set_epsilon(1);
  state.set_q_entries(2);
  v1::QValue* q = state.add_q_top();
  q->set_state("d0 START |140");
  q->set_action("TERMINATE");
  q->set_q(0.55);
  q->set_updates(2);
  service_.SetPolicyState(3, state);
  Result r = Nasctl({"policy", "3", "--top", "7"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(service_.last_policy().search_id(), 3);
  EXPECT_EQ(service_.last_policy().top(), 7);
  EXPECT_THAT(r.out, StartsWith("search 3: qlearning policy\n"));
  EXPECT_THAT(r.out, HasSubstr("0.5500        2  d0 START |140  TERMINATE\n"));
  Result json = Nasctl({"policy", "3", "--json"});
  EXPECT_EQ(json.code, 0) << json.err;
  EXPECT_EQ(service_.last_policy().top(), 20);
  nlohmann::json doc = nlohmann::json::parse(json.out);
  EXPECT_EQ(doc["policy"], "qlearning");
  EXPECT_EQ(doc["q_top"][0]["action"], "TERMINATE");
}

TEST_F(CommandsTest, PolicyErrorsAreOneLine) {
  Result unknown = Nasctl({"policy", "9"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_EQ(unknown.err, "nasctl: policy 9: search 9 not found\n");
  Result bad_id = Nasctl({"policy", "nine"});
  EXPECT_EQ(bad_id.code, 2);
  EXPECT_EQ(bad_id.err, "nasctl: bad search id 'nine': expected a positive integer\n");
  Result bad_top = Nasctl({"policy", "9", "--top", "-1"});
  EXPECT_EQ(bad_top.code, 2);
  EXPECT_EQ(bad_top.err, "nasctl: --top: expected an integer from 1 to 1000, got '-1'\n");
  EXPECT_EQ(Nasctl({"policy"}).code, 2);
}

std::vector<v1::SearchProgress> Script(v1::SearchState final_state, int64_t id = 1) {
  std::vector<v1::SearchProgress> script(3);
  *script[0].mutable_search() = MakeSearch(id, v1::SEARCH_RUNNING, 0);
  *script[1].mutable_search() = MakeSearch(id, v1::SEARCH_RUNNING, 1);
  *script[1].mutable_last_trial() = MakeTrial(id, 101, 0, v1::TRIAL_SUCCEEDED, 0.875);
  *script[2].mutable_search() = MakeSearch(id, final_state, 1);
  if (final_state == v1::SEARCH_FAILED) script[2].mutable_search()->set_message("db lost");
  return script;
}

TEST_F(CommandsTest, WatchPrintsTrialsAndProgressUntilSucceeded) {
  service_.SetWatchScript(Script(v1::SEARCH_SUCCEEDED));
  Result r = Nasctl({"watch", "1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("search 1 RUNNING | trials 0/4 done"));
  EXPECT_THAT(r.out, HasSubstr("trial 101 (#0) SUCCEEDED acc 0.8750"));
  EXPECT_THAT(r.out, HasSubstr("search 1 SUCCEEDED after 59s: best trial 101, accuracy 0.8750"));
  EXPECT_THAT(r.out, Not(HasSubstr("\r")));  // Plain lines when not a terminal.
}

TEST_F(CommandsTest, WatchOnATerminalRedrawsInPlace) {
  service_.SetWatchScript(Script(v1::SEARCH_SUCCEEDED));
  Result r = Nasctl({"watch", "1"}, /*tty=*/true);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\r\x1b[Ksearch 1 RUNNING"));
  EXPECT_THAT(r.out, HasSubstr("\r\x1b[Ktrial 101 (#0) SUCCEEDED"));
}

TEST_F(CommandsTest, WatchExitCodesFollowTheFinalState) {
  service_.SetWatchScript(Script(v1::SEARCH_FAILED));
  Result failed = Nasctl({"watch", "1"});
  EXPECT_EQ(failed.code, 4);
  EXPECT_THAT(failed.out, HasSubstr("search 1 FAILED after"));
  EXPECT_THAT(failed.out, HasSubstr("; db lost"));
  service_.SetWatchScript(Script(v1::SEARCH_CANCELLED));
  EXPECT_EQ(Nasctl({"watch", "1"}).code, 5);
}

TEST_F(CommandsTest, WatchJsonIsOneObjectPerLine) {
  service_.SetWatchScript(Script(v1::SEARCH_SUCCEEDED));
  Result r = Nasctl({"watch", "1", "--json"});
  EXPECT_EQ(r.code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    nlohmann::json doc = nlohmann::json::parse(line);
    EXPECT_TRUE(doc.contains("search"));
    ++count;
  }
  EXPECT_EQ(count, 3);
}

TEST_F(CommandsTest, WatchUnknownSearch) {
  Result r = Nasctl({"watch", "7"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "nasctl: watch 7: search 7 not found\n");
}

TEST_F(CommandsTest, SubmitSendsResolvedYamlAndCanWatch) {
  const std::string dir = TempPath("spec");
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/s.yaml";
  std::ofstream(path) << "dataset: {name: custom, train_path: train.tsv}\nbudget: {max_trials: 4}\n";
  service_.SetWatchScript(Script(v1::SEARCH_SUCCEEDED, /*id=*/5));
  service_.SetNextSearchId(5);
  Result r = Nasctl({"submit", path, "--watch"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("submitted search 5 (submitted, 4 trials)\n"));
  EXPECT_THAT(r.out, HasSubstr("search 5 SUCCEEDED after"));
  EXPECT_THAT(service_.last_spec_yaml(), HasSubstr(dir + "/train.tsv"));
  std::filesystem::remove_all(dir);
}

TEST_F(CommandsTest, SubmitRejectedSpecListsEveryProblem) {
  const std::string path = TempPath("bad.yaml");
  std::ofstream(path) << "dataset: {name: nope}\n";
  service_.RejectSubmissions("invalid search spec:\ndataset.name: unknown data set 'nope'\n"
                             "budget.max_trials: required");
  Result r = Nasctl({"submit", path});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, absl::StrCat("nasctl: submit ", path,
                                ": invalid search spec:\n  dataset.name: unknown data set "
                                "'nope'\n  budget.max_trials: required\n"));
  std::filesystem::remove(path);
}

TEST_F(CommandsTest, SubmitMissingFileIsBadInput) {
  Result r = Nasctl({"submit", "/no/such/spec.yaml"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "nasctl: submit /no/such/spec.yaml: cannot read /no/such/spec.yaml: No such file or "
            "directory\n");
}

TEST_F(CommandsTest, SlowControllerHitsTheDeadline) {
  service_.AddSearch(MakeSearch(1, v1::SEARCH_RUNNING, 0));
  service_.SetGetDelay(absl::Seconds(2));
  const absl::Time start = absl::Now();
  Result r = Nasctl({"show", "1", "--timeout", "200ms"});
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("no answer from the controller at " + address_ + " within 200ms"));
}

TEST(UnreachableControllerTest, FailsFastWithOneLine) {
  std::ostringstream out, err;
  Environment env = TestEnvironment(&out, &err);
  const std::string address = absl::StrCat("127.0.0.1:", ::nas::testing::FreeTcpPort());
  const absl::Time start = absl::Now();
  const int code =
      RunNasctl({"--controller", address, "--insecure", "--timeout", "3", "list"}, env);
  EXPECT_LT(absl::Now() - start, absl::Seconds(4));
  EXPECT_EQ(code, 1);
  const std::string message = err.str();
  EXPECT_THAT(message, StartsWith("nasctl: list: "));
  EXPECT_THAT(message, HasSubstr(address));
  EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), 1) << message;
}

TEST(CredentialsTest, BadTlsOrTokenFlagsAreOneLineAndExitTwo) {
  std::ostringstream out, err;
  Environment env = TestEnvironment(&out, &err);
  EXPECT_EQ(RunNasctl({"list", "--token=abc", "--token_file=/nonexistent/tok"}, env), 2);
  EXPECT_EQ(err.str(), "nasctl: give --token or --token_file, not both\n");
  err.str("");
  EXPECT_EQ(RunNasctl({"list", "--tls_ca=/nonexistent/ca.pem"}, env), 2);
  EXPECT_THAT(err.str(), MatchesRegex("nasctl: --tls_ca: /nonexistent/ca.pem: cannot "
                                      "read: [^\n]+\n"));
  err.str("");
  EXPECT_EQ(RunNasctl({"list", "--insecure", "--token=abc"}, env), 2);
  EXPECT_THAT(err.str(), MatchesRegex("nasctl: a bearer token [^\n]* only sent over "
                                      "TLS; drop --insecure\n"));
  err.str("");
  EXPECT_EQ(RunNasctl({"list", "--tls_cert=c.pem"}, env), 2);
  EXPECT_THAT(err.str(), HasSubstr("--tls_cert and --tls_key go together"));
  // $TINYNAS_TOKEN is not sent, and not an error, in plain text.
  err.str("");
  env.default_token = "abc";
  env.default_controller = absl::StrCat("127.0.0.1:", ::nas::testing::FreeTcpPort());
  EXPECT_EQ(RunNasctl({"list", "--insecure", "--timeout=1"}, env), 1);
  EXPECT_THAT(err.str(), HasSubstr("unavailable"));
}

TEST(UsageTest, HelpAndBadUsage) {
  std::ostringstream out, err;
  Environment env = TestEnvironment(&out, &err);
  EXPECT_EQ(RunNasctl({"--help"}, env), 0);
  EXPECT_THAT(out.str(), HasSubstr("usage: nasctl"));
  EXPECT_EQ(RunNasctl({"list", "--frob"}, env), 2);
  EXPECT_EQ(err.str(), "nasctl: unknown option '--frob'\n");
}

}  // namespace
}  // namespace nas::nasctl
