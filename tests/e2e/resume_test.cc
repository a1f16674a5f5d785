// Exact resume: the real nas-controller is SIGKILLed at random moments of a
// running learning search (real PostgreSQL, two real nas-worker processes
// training on ECG5000) and started again on the same port each time. After
// every kill, the state in PostgreSQL must be exactly what the stored trials
// imply (the Q-table or population a fresh policy gets by learning the
// observed trials in their stored order, and what a restarted controller
// restores); at the end the search must have every trial accounted for: none
// lost, none counted twice.
#include <signal.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "controller/policy/search_strategy.h"
#include "controller/store/pg_trial_store.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "proto/nas.grpc.pb.h"
#include "tests/e2e/fault_fixture.h"
#include "tests/integration/pg_environment.h"
#include "tests/integration/subprocess.h"
#include "tests/status_matchers.h"

namespace nas::testing {
namespace {

using ::google::protobuf::util::MessageDifferencer;

constexpr char kController[] = NAS_CONTROLLER_BINARY;
constexpr char kWorker[] = NAS_WORKER_BINARY;
constexpr int kKills = 4;
// Room for every kill: up to 21 trials (many answered from the cache) were
// done between two kills, and 48 once ran out before the last.
constexpr int kMaxTrials = 96;

std::string SpecYaml(const std::string& policy) {
  FaultSpec spec;
  spec.name = "resume-" + policy;
  spec.policy = policy;
  spec.max_trials = kMaxTrials;
  spec.train_subset = 0;
  spec.epochs = 4;
  spec.policy_options =
      policy == "qlearning"
          ? "qlearning: {epsilon_schedule: [{epsilon: 1.0, models: 8}, "
            "{epsilon: 0.3, models: 30}], replay_per_model: 32}\n"
          : "evolution: {population: 6, sample: 3}\n";
  return FaultSpecYaml(spec);
}

// Q-table entries by (state, action): (q, updates).
using QTable = std::map<std::pair<std::string, std::string>,
                        std::pair<double, int32_t>>;

QTable ToTable(const google::protobuf::RepeatedPtrField<v1::QValue>& values) {
  QTable table;
  for (const v1::QValue& v : values) {
    table[{v.state(), v.action()}] = {v.q(), v.updates()};
  }
  return table;
}

// The stored state against a fresh policy that learns the stored observed
// trials in order, and against one restored from the store.
void ExpectStoredStateIsWhatTheTrialsImply(const v1::SearchSpec& spec,
                                           const controller::StoredPolicy& s) {
  NAS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<controller::SearchStrategy> fresh,
                           controller::CreateSearchStrategy(spec));
  for (size_t i = 0; i < s.observed.size(); ++i) {
    const v1::Trial& trial = s.observed[i];
    NAS_ASSERT_OK_AND_ASSIGN(std::optional<controller::PolicyWrite> write,
                             fresh->PrepareObservation(trial));
    ASSERT_TRUE(write.has_value()) << "trial " << trial.id();
    ASSERT_EQ(write->observed_seq, static_cast<int64_t>(i + 1));
    NAS_ASSERT_OK(fresh->ApplyObservation(trial, *write));
  }
  constexpr int kAll = 1 << 30;
  const v1::PolicyState replayed = fresh->Describe(kAll);
  v1::PolicyState stored;
  ASSERT_TRUE(s.state.empty() || stored.ParseFromString(s.state));
  EXPECT_EQ(stored.observed(), replayed.observed());
  EXPECT_EQ(stored.models(), replayed.models());
  // Exact equality: the same arithmetic in the same order.
  EXPECT_TRUE(ToTable(replayed.q_top()) ==
              ToTable({s.q_values.begin(), s.q_values.end()}))
      << "stored Q-table (" << s.q_values.size() << " entries) differs from "
      << "the replay of " << s.observed.size() << " trials ("
      << replayed.q_top_size() << " entries)";
  std::set<std::tuple<int64_t, int64_t, double>> stored_members, replayed_members;
  for (const v1::PopulationMember& m : stored.population()) {
    stored_members.insert({m.trial_id(), m.born(), m.fitness()});
  }
  for (const v1::PopulationMember& m : replayed.population()) {
    replayed_members.insert({m.trial_id(), m.born(), m.fitness()});
  }
  EXPECT_EQ(stored_members, replayed_members);

  NAS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<controller::SearchStrategy> restored,
                           controller::CreateSearchStrategy(spec));
  NAS_ASSERT_OK(restored->Restore(s));
  EXPECT_TRUE(MessageDifferencer::Equals(restored->Describe(kAll), replayed))
      << "restored:\n"
      << restored->Describe(20).DebugString() << "replayed:\n"
      << fresh->Describe(20).DebugString();
}

class ResumeTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "resume_" + GetParam() + "_" +
           std::to_string(getpid());
    std::string out;
    ASSERT_EQ(RunCommand("rm -rf '" + dir_ + "' && mkdir -p '" + dir_ + "'",
                         &out),
              0)
        << out;
    db_uri_ = PostgresEnvironment::NewDatabaseUri();
    port_ = FreeTcpPort();
    ASSERT_GT(port_, 0);
    address_ = absl::StrCat("127.0.0.1:", port_);
  }

  void TearDown() override {
    for (pid_t pid : workers_) kill(pid, SIGKILL);
    if (controller_ > 0) kill(controller_, SIGKILL);
    for (pid_t pid : workers_) WaitExit(pid, absl::Seconds(10));
    if (controller_ > 0) WaitExit(controller_, absl::Seconds(10));
    if (HasFailure()) {
      std::cerr << "--- controller log (tail)\n"
                << Tail(Slurp(dir_ + "/controller.log"));
    }
    std::string out;
    EXPECT_EQ(RunCommand("rm -rf '" + dir_ + "'", &out), 0) << out;
  }

  static std::string Tail(const std::string& text) {
    return text.size() > 6000 ? text.substr(text.size() - 6000) : text;
  }

  // Starts the controller on the fixed port and waits until it serves.
  void StartController() {
    const std::string port_file = absl::StrCat(dir_, "/port", ++starts_);
    controller_ = SpawnProcess(
        kController,
        {"--db=" + db_uri_, "--listen=" + address_,
         "--port_file=" + port_file, "--metrics_listen=127.0.0.1:0",
         "--lease_ttl_ms=3000", "--heartbeat_ms=300", "--insecure",
         std::string("--data_root=") + TINYNAS_SOURCE_DIR + "/data"},
        dir_ + "/controller.log");
    ASSERT_EQ(ReadPort(port_file, absl::Seconds(30)), port_)
        << Tail(Slurp(dir_ + "/controller.log"));
  }

  void KillController() {
    ASSERT_EQ(kill(controller_, SIGKILL), 0);
    ASSERT_EQ(WaitExit(controller_, absl::Seconds(10)), 128 + SIGKILL);
    controller_ = -1;
  }

  void StartWorkers() {
    for (int i = 0; i < 2; ++i) {
      workers_.push_back(SpawnProcess(
          kWorker,
          {"--controller=" + address_, "--slots=1", "--threads=1",
           absl::StrCat("--name=resume-w", i), "--metrics_listen=127.0.0.1:0",
           "--rpc_timeout_ms=3000", "--insecure"},
          absl::StrCat(dir_, "/worker", i, ".log")));
    }
  }

  // Waits until the search has learnt from at least `results` results.
  static void WaitForLearning(controller::PgTrialStore& store,
                              int64_t search_id, int64_t results) {
    const absl::Time give_up = absl::Now() + absl::Seconds(90);
    while (absl::Now() < give_up) {
      NAS_ASSERT_OK_AND_ASSIGN(controller::StoredPolicy stored,
                               store.LoadPolicy(search_id));
      if (static_cast<int64_t>(stored.observed.size()) >= results) return;
      absl::SleepFor(absl::Milliseconds(20));
    }
    FAIL() << "the controller learnt nothing for 90 s";
  }

  std::unique_ptr<v1::SearchService::Stub> Stub() {
    return v1::SearchService::NewStub(
        grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
  }

  absl::StatusOr<v1::Search> GetSearch(int64_t id) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
    v1::GetSearchRequest request;
    request.set_search_id(id);
    v1::Search search;
    grpc::Status status = Stub()->GetSearch(&context, request, &search);
    if (!status.ok()) return absl::UnavailableError(status.error_message());
    return search;
  }

  std::string dir_;
  std::string db_uri_;
  int port_ = 0;
  std::string address_;
  int starts_ = 0;
  pid_t controller_ = -1;
  std::vector<pid_t> workers_;
};

TEST_P(ResumeTest, ControllerKilledAtRandomMomentsContinuesTheSameSearch) {
  ASSERT_NO_FATAL_FAILURE(StartController());
  ASSERT_NO_FATAL_FAILURE(StartWorkers());
  v1::Search search;
  {
    grpc::ClientContext context;
    v1::SubmitSearchRequest request;
    request.set_spec_yaml(SpecYaml(GetParam()));
    grpc::Status status = Stub()->SubmitSearch(&context, request, &search);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  NAS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<controller::PgTrialStore> store,
                           controller::PgTrialStore::Create(db_uri_, 1));
  const uint64_t seed = absl::ToUnixNanos(absl::Now());
  std::mt19937_64 rng(seed);
  SCOPED_TRACE(absl::StrCat("kill-time seed ", seed));
  int64_t observed_at_last_kill = 0;
  for (int kill_number = 0; kill_number < kKills; ++kill_number) {
    // This controller must learn something (one to three results) before
    // it dies, else the kill would test nothing; then it dies 0 .. 300 ms
    // later, anywhere: amid a lease, a report, a commit or a proposal. A
    // trial of this spec takes a fraction of a second in a Release build,
    // so longer waits would let the search end before the last kill.
    ASSERT_NO_FATAL_FAILURE(WaitForLearning(
        *store, search.id(), observed_at_last_kill + 1 + rng() % 3));
    absl::SleepFor(absl::Milliseconds(rng() % 300));
    NAS_ASSERT_OK_AND_ASSIGN(controller::SearchRecord before,
                             store->GetSearch(search.id()));
    ASSERT_EQ(before.search.state(), v1::SEARCH_RUNNING)
        << "the search ended before kill " << kill_number
        << "; the test would prove nothing: " << before.search.DebugString();
    ASSERT_NO_FATAL_FAILURE(KillController());
    NAS_ASSERT_OK_AND_ASSIGN(controller::StoredPolicy stored,
                             store->LoadPolicy(search.id()));
    SCOPED_TRACE(absl::StrCat("after kill ", kill_number, " with ",
                              stored.observed.size(), " results learnt"));
    ASSERT_NO_FATAL_FAILURE(
        ExpectStoredStateIsWhatTheTrialsImply(before.search.spec(), stored));
    observed_at_last_kill = static_cast<int64_t>(stored.observed.size());
    std::cout << "kill " << kill_number << ": " << before.search.trials_done()
              << " trials done, " << stored.observed.size()
              << " results learnt, " << stored.q_values.size()
              << " Q entries; state matches the replay" << std::endl;
    ASSERT_NO_FATAL_FAILURE(StartController());
  }

  // Let the last controller finish the search.
  const absl::Time give_up = absl::Now() + absl::Minutes(5);
  while (absl::Now() < give_up) {
    absl::StatusOr<v1::Search> now = GetSearch(search.id());
    if (now.ok() && now->state() != v1::SEARCH_RUNNING) {
      search = *now;
      break;
    }
    absl::SleepFor(absl::Milliseconds(250));
  }
  ASSERT_EQ(search.state(), v1::SEARCH_SUCCEEDED) << search.DebugString();
  EXPECT_EQ(search.trials_done(), kMaxTrials);

  NAS_ASSERT_OK_AND_ASSIGN(
      std::vector<v1::Trial> trials,
      store->ListTrials(search.id(), v1::TRIAL_STATE_UNSPECIFIED));
  NAS_ASSERT_OK_AND_ASSIGN(controller::StoredPolicy final_state,
                           store->LoadPolicy(search.id()));
  // Every trial numbered once, none left behind; every result learnt from
  // exactly once.
  std::set<int64_t> learnable;
  for (size_t i = 0; i < trials.size(); ++i) {
    const v1::Trial& t = trials[i];
    EXPECT_EQ(t.number(), static_cast<int32_t>(i));
    EXPECT_NE(t.state(), v1::TRIAL_PENDING) << "trial " << t.id();
    EXPECT_NE(t.state(), v1::TRIAL_RUNNING) << "trial " << t.id();
    if (t.state() == v1::TRIAL_SUCCEEDED || t.state() == v1::TRIAL_CACHED ||
        t.state() == v1::TRIAL_INFEASIBLE) {
      learnable.insert(t.id());
    }
  }
  std::vector<int64_t> learnt;
  for (const v1::Trial& t : final_state.observed) learnt.push_back(t.id());
  EXPECT_EQ(learnt.size(), learnable.size()) << "a result learnt twice or "
                                                "not at all";
  EXPECT_EQ(std::set<int64_t>(learnt.begin(), learnt.end()), learnable);
  EXPECT_GT(static_cast<int64_t>(learnt.size()), observed_at_last_kill)
      << "the last controller learnt nothing";
  ExpectStoredStateIsWhatTheTrialsImply(search.spec(), final_state);
}

INSTANTIATE_TEST_SUITE_P(Policies, ResumeTest,
                         ::testing::Values("qlearning", "evolution"),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           return i.param;
                         });

}  // namespace
}  // namespace nas::testing
