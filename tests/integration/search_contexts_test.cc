// SearchContext and SearchContexts against a real PostgreSQL: a policy in
// memory learns only what the store committed, and a copy that fell behind
// the store (another controller wrote, or applying a write failed) is
// refused and reloaded instead of writing over the stored state.
#include "controller/search_contexts.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/datasets.h"
#include "common/spec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/controller/test_specs.h"
#include "tests/integration/pg_store_fixture.h"
#include "tests/status_matchers.h"

namespace nas::controller {
namespace {

using ::nas::testing::IsOk;
using ::nas::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A policy whose behaviour the test sets: observation n writes state "n"
// and Q("s", "a") = n; ApplyObservation fails when `fail_apply` is set.
// It exists to drive SearchContext's contract; the real policies have
// tests of their own.
class ScriptedStrategy : public SearchStrategy {
 public:
  absl::StatusOr<std::vector<v1::Architecture>> Propose(
      const ProposalContext& /*context*/, int count) override {
    return std::vector<v1::Architecture>(count);
  }
  absl::StatusOr<std::optional<PolicyWrite>> PrepareObservation(
      const v1::Trial& /*trial*/) const override {
    if (fail_prepare) return absl::InternalError("cannot learn");
    PolicyWrite write;
    write.observed_seq = learnt + 1;
    write.state = absl::StrCat(write.observed_seq);
    v1::QValue q;
    q.set_state("s");
    q.set_action("a");
    q.set_q(static_cast<double>(write.observed_seq));
    write.q_values = {q};
    return write;
  }
  absl::Status ApplyObservation(const v1::Trial& trial,
                                const PolicyWrite& write) override {
    if (fail_apply) return absl::InternalError("apply failed");
    learnt = write.observed_seq;
    applied.push_back(trial.id());
    return absl::OkStatus();
  }
  absl::Status Restore(const StoredPolicy& stored) override {
    learnt = static_cast<int64_t>(stored.observed.size());
    return absl::OkStatus();
  }
  v1::PolicyState Describe(int /*top_q*/) const override {
    return v1::PolicyState();
  }

  int64_t learnt = 0;
  bool fail_prepare = false;
  bool fail_apply = false;
  std::vector<int64_t> applied;  // Trial ids, in order.
};

class SearchContextsTest : public PgTrialStoreTest {
 protected:
  // A context with a ScriptedStrategy (kept in `scripted_`) on a new search.
  std::unique_ptr<SearchContext> ScriptedContext() {
    const int64_t search = NewSearch();
    auto strategy = std::make_unique<ScriptedStrategy>();
    scripted_ = strategy.get();
    return std::make_unique<SearchContext>(
        search, Spec("s"), v1::DeviceProfile(), std::move(strategy), nullptr);
  }

  // A RUNNING search of a completed Q-learning spec on ECG5000.
  int64_t QLearningSearch() {
    absl::StatusOr<v1::SearchSpec> spec = ParseSearchSpecYaml(
        nas::testing::EcgSpecYaml() + "policy: qlearning\n");
    EXPECT_THAT(spec, IsOk());
    spec =
        CompleteSearchSpec(spec.value_or(v1::SearchSpec()), DefaultDataRoot());
    EXPECT_THAT(spec, IsOk());
    absl::StatusOr<int64_t> id =
        store_->CreateSearch(spec.value_or(v1::SearchSpec()), kNow);
    EXPECT_THAT(id, IsOk());
    return id.value_or(0);
  }

  // Stores an INFEASIBLE trial (cache key `key`) through `context`.
  absl::StatusOr<v1::Trial> StoreInfeasible(SearchContext& context,
                                            const std::string& key) {
    NewTrial trial = Candidate(context.search_id(), v1::TRIAL_INFEASIBLE, key);
    trial.violations = {"flash too big"};
    return context.RunObserved<v1::Trial>([&](const PolicyObserver& observe) {
      return store_->InsertTrial(trial, kNow, observe);
    });
  }

  ScriptedStrategy* scripted_ = nullptr;  // Owned by its context.
};

TEST_F(SearchContextsTest, AppliesOnlyWhatTheStoreCommitted) {
  std::unique_ptr<SearchContext> context = ScriptedContext();
  NAS_ASSERT_OK_AND_ASSIGN(v1::Trial first, StoreInfeasible(*context, "a"));
  EXPECT_EQ(scripted_->learnt, 1);
  EXPECT_THAT(scripted_->applied, ElementsAre(first.id()));

  scripted_->fail_prepare = true;  // The operation fails: nothing stored.
  EXPECT_THAT(StoreInfeasible(*context, "b"),
              StatusIs(absl::StatusCode::kInternal, "cannot learn"));
  scripted_->fail_prepare = false;
  // A report that is not accepted: the policy is not asked.
  NAS_ASSERT_OK_AND_ASSIGN(CompletionResult rejected,
                           context->RunObserved<CompletionResult>(
                               [&](const PolicyObserver& observe) {
                                 return store_->CompleteTrial(
                                     first.id(), NewWorker("w"), "lease",
                                     TrialOutcome(), kNow, observe);
                               }));
  EXPECT_FALSE(rejected.accepted);
  EXPECT_EQ(scripted_->learnt, 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM trials"), 1);

  NAS_ASSERT_OK_AND_ASSIGN(v1::Trial second, StoreInfeasible(*context, "c"));
  EXPECT_THAT(scripted_->applied, ElementsAre(first.id(), second.id()));
  NAS_ASSERT_OK_AND_ASSIGN(StoredPolicy stored,
                           store_->LoadPolicy(context->search_id()));
  EXPECT_EQ(stored.state, "2");
  ASSERT_EQ(stored.q_values.size(), 1u);
  EXPECT_EQ(stored.q_values[0].q(), 2);
}

TEST_F(SearchContextsTest, FailedApplyKeepsTheResultAndRefusesFurtherWork) {
  std::unique_ptr<SearchContext> context = ScriptedContext();
  scripted_->fail_apply = true;
  // The result and the write are committed; the operation succeeds.
  NAS_ASSERT_OK_AND_ASSIGN(v1::Trial stored, StoreInfeasible(*context, "a"));
  EXPECT_EQ(Count(absl::StrCat("SELECT observed_seq FROM trials WHERE id = ",
                               stored.id())),
            1);
  // Memory no longer matches the store: the context is done.
  scripted_->fail_apply = false;
  EXPECT_THAT(StoreInfeasible(*context, "b"),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("reloaded")));
  EXPECT_THAT(context->Propose({context->search_id(), 0}, 1),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("reloaded")));
  EXPECT_THAT(scripted_->applied, IsEmpty());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM trials"), 1);
}

// Two controllers on one search: the one that fell behind is refused and,
// reloaded from the store, carries on where the other stopped.
TEST_F(SearchContextsTest, StaleCopyIsRefusedThenReloadedFromTheStore) {
  const int64_t search = QLearningSearch();
  SearchContexts first(store_.get());
  SearchContexts second(store_.get());
  NAS_ASSERT_OK_AND_ASSIGN(std::shared_ptr<SearchContext> a, first.Get(search));
  NAS_ASSERT_OK_AND_ASSIGN(std::shared_ptr<SearchContext> b,
                           second.Get(search));
  NAS_ASSERT_OK(StoreInfeasible(*a, "a").status());
  EXPECT_THAT(
      StoreInfeasible(*b, "b"),
      StatusIs(absl::StatusCode::kAborted,
               HasSubstr(absl::StrCat("stale policy of search ", search))));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM trials"), 1);
  NAS_ASSERT_OK_AND_ASSIGN(std::shared_ptr<SearchContext> reloaded,
                           second.Get(search));
  EXPECT_NE(reloaded.get(), b.get());
  NAS_ASSERT_OK(StoreInfeasible(*reloaded, "b").status());
  NAS_ASSERT_OK_AND_ASSIGN(StoredPolicy stored, store_->LoadPolicy(search));
  EXPECT_EQ(stored.observed.size(), 2u);
  v1::PolicyState state;
  ASSERT_TRUE(state.ParseFromString(stored.state));
  EXPECT_EQ(state.observed(), 2);
  // The first controller's copy is now the stale one.
  EXPECT_THAT(StoreInfeasible(*a, "c"),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("stale")));
}

TEST_F(SearchContextsTest, CorruptStoredPolicyIsAnInternalErrorNamingIt) {
  const int64_t search = QLearningSearch();
  {
    SearchContexts contexts(store_.get());
    NAS_ASSERT_OK_AND_ASSIGN(std::shared_ptr<SearchContext> context,
                             contexts.Get(search));
    NAS_ASSERT_OK(StoreInfeasible(*context, "a").status());
  }
  {
    pqxx::connection conn(uri_);
    pqxx::work txn(conn);
    txn.exec("UPDATE search_policies SET state = '\\xffff0102'::bytea");
    txn.commit();
  }
  SearchContexts contexts(store_.get());
  EXPECT_THAT(contexts.Get(search),
              StatusIs(absl::StatusCode::kInternal,
                       HasSubstr(absl::StrCat("stored policy of search ",
                                              search, " cannot be restored"))));
  EXPECT_THAT(contexts.Get(424242),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("424242")));
}

}  // namespace
}  // namespace nas::controller
