// SearchService.GetPolicyState and `nasctl policy` over real gRPC against a
// real PostgreSQL: request checks, and the stored state of a search's policy
// after it ran.
#include <algorithm>
#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nasctl/commands.h"
#include "nlohmann/json.hpp"
#include "tests/controller/test_specs.h"
#include "tests/integration/controller_fixture.h"
#include "tests/status_matchers.h"

namespace nas::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

class PolicyStateTest : public ControllerFixture {
 protected:
  absl::StatusOr<v1::PolicyState> PolicyState(int64_t search_id, int top) {
    v1::GetPolicyStateRequest request;
    request.set_search_id(search_id);
    request.set_top(top);
    v1::PolicyState reply;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    grpc::Status status = search_->GetPolicyState(&context, request, &reply);
    if (!status.ok()) return FromGrpcStatus(status);
    return reply;
  }

  struct Run {
    int code;
    std::string out;
    std::string err;
  };

  // `nasctl --controller <this controller> args...`, in-process.
  Run Nasctl(std::vector<std::string> args) {
    args.insert(args.begin(),
                {"--controller", absl::StrCat("127.0.0.1:", server_->port()),
                 "--insecure"});
    std::ostringstream out, err;
    nasctl::Environment env;
    env.out = &out;
    env.err = &err;
    env.now_ms = [] { return int64_t{1700000000000}; };
    const int code = nasctl::RunNasctl(args, env);
    return {code, out.str(), err.str()};
  }

  // Runs a search of `yaml` to its end with plausible results.
  v1::Search RunSearch(const std::string& yaml) {
    absl::StatusOr<v1::Search> search = Submit(yaml);
    EXPECT_THAT(search, IsOk());
    if (!search.ok()) return v1::Search();
    const int64_t worker = RegisterWorker("w-1", 2);
    return DriveSearch(search->id(), worker, 2, [](const v1::TrialTask& task) {
      return Plausible(task, 0.5 + 0.04 * (task.trial_id() % 10));
    });
  }
};

TEST_F(PolicyStateTest, BadRequestsAreRefused) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::Search search, Submit(EcgSpecYaml()));
  EXPECT_THAT(PolicyState(0, 5), StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("search_id")));
  EXPECT_THAT(PolicyState(-4, 5),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("-4")));
  EXPECT_THAT(PolicyState(search.id(), -1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("top must be in [0, 1000] (0 = 20), got -1")));
  EXPECT_THAT(PolicyState(search.id(), 1001),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1001")));
  EXPECT_THAT(PolicyState(31337, 5),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("31337")));
}

TEST_F(PolicyStateTest, RandomSearchLearnsNothingAndStoresNoState) {
  const v1::Search ended = RunSearch(EcgSpecYaml());
  ASSERT_EQ(ended.state(), v1::SEARCH_SUCCEEDED);
  NAS_ASSERT_OK_AND_ASSIGN(v1::PolicyState state, PolicyState(ended.id(), 0));
  EXPECT_EQ(state.policy(), "random");
  EXPECT_EQ(state.observed(), 0);
  EXPECT_EQ(state.q_entries(), 0);
  EXPECT_THAT(state.q_top(), IsEmpty());
  EXPECT_THAT(state.population(), IsEmpty());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM search_policies"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM trials WHERE observed_seq IS NOT NULL"),
            0);

  const std::string id = absl::StrCat(ended.id());
  Run text = Nasctl({"policy", id});
  EXPECT_EQ(text.code, 0) << text.err;
  EXPECT_EQ(text.out, absl::StrCat("search ", id,
                                   ": random policy\n  observed     0 "
                                   "results (0 models)\n"));
  Run json = Nasctl({"policy", id, "--json"});
  ASSERT_EQ(json.code, 0) << json.err;
  EXPECT_EQ(nlohmann::json::parse(json.out)["policy"], "random");
}

class LearningPolicyStateTest
    : public PolicyStateTest,
      public ::testing::WithParamInterface<const char*> {};

// Every final result is learnt in its own transaction, numbered 1, 2, ...
// without gaps, also across a controller restart in the middle of the
// search (the restarted controller restores the policy and continues the
// numbering; a policy that forgot would be refused as stale).
TEST_P(LearningPolicyStateTest, StateIsCommittedWithEveryResultAndRestored) {
  const std::string policy = GetParam();
  EcgSpecOptions options;
  options.max_trials = 8;
  options.max_infeasible = 20;
  NAS_ASSERT_OK_AND_ASSIGN(
      v1::Search search,
      Submit(absl::StrCat(EcgSpecYaml(options), "policy: ", policy, "\n")));
  const int64_t worker = RegisterWorker("w-1", 1);
  auto result = [](const v1::TrialTask& task) {
    return Plausible(task, 0.5 + 0.04 * (task.trial_id() % 10));
  };
  for (int reported = 0; reported < 3; ++reported) {
    const v1::TrialTask task = LeaseOne(worker);
    NAS_ASSERT_OK(Report(worker, task, result(task)).status());
  }
  StopServer();
  StartServer();
  const v1::Search ended =
      DriveSearch(search.id(), RegisterWorker("w-2", 2), 2, result);
  ASSERT_EQ(ended.state(), v1::SEARCH_SUCCEEDED) << ended.message();

  const std::string of_search = absl::StrCat(" WHERE search_id = ", ended.id());
  const int64_t learnt =
      Count("SELECT COUNT(observed_seq) FROM trials" + of_search);
  EXPECT_EQ(learnt, Count("SELECT COUNT(*) FROM trials" + of_search +
                          " AND state IN (3, 5, 6)"));
  EXPECT_EQ(
      Count("SELECT COALESCE(MAX(observed_seq), 0) FROM trials" + of_search),
      learnt);
  NAS_ASSERT_OK_AND_ASSIGN(v1::PolicyState state, PolicyState(ended.id(), 5));
  EXPECT_EQ(state.policy(), policy);
  EXPECT_EQ(state.observed(), learnt);
  EXPECT_EQ(state.q_entries(), Count("SELECT COUNT(*) FROM q_values"));
  EXPECT_EQ(state.q_top_size(), std::min<int64_t>(5, state.q_entries()));
  for (int i = 1; i < state.q_top_size(); ++i) {
    EXPECT_GE(state.q_top(i - 1).q(), state.q_top(i).q());
  }
  if (policy == "qlearning") {
    EXPECT_GT(state.q_entries(), 0);
  } else {
    EXPECT_FALSE(state.population().empty());
    for (const v1::PopulationMember& m : state.population()) {
      EXPECT_EQ(Count(absl::StrCat("SELECT COUNT(*) FROM trials WHERE id = ",
                                   m.trial_id(), " AND observed_seq > 0")),
                1);
    }
  }
  Run text = Nasctl({"policy", absl::StrCat(ended.id()), "--top", "3"});
  EXPECT_EQ(text.code, 0) << text.err;
  EXPECT_THAT(text.out, StartsWith(absl::StrCat("search ", ended.id(), ": ",
                                                policy, " policy\n")));
  EXPECT_THAT(text.out, HasSubstr(absl::StrCat("observed     ", learnt)));
  EXPECT_THAT(text.out, HasSubstr(policy == "qlearning" ? "top 3 Q entries:"
                                                        : "population ("));
}

INSTANTIATE_TEST_SUITE_P(Policies, LearningPolicyStateTest,
                         ::testing::Values("qlearning", "evolution"));

TEST_F(PolicyStateTest, NasctlPolicyErrorsAgainstTheController) {
  Run unknown = Nasctl({"policy", "31337"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_THAT(unknown.err, StartsWith("nasctl: policy 31337: search 31337"));
  EXPECT_EQ(std::count(unknown.err.begin(), unknown.err.end(), '\n'), 1);
  Run bad = Nasctl({"policy", "0"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_EQ(bad.err,
            "nasctl: bad search id '0': expected a positive integer\n");
  EXPECT_EQ(bad.out, "");
}

}  // namespace
}  // namespace nas::testing
