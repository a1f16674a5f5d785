// PgTrialStore's policy tables against a real PostgreSQL cluster: a policy
// write commits with the result that caused it or not at all, and reads
// back exactly. The writes here are made by hand (the real policies have
// tests of their own); what is under test is the store.
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/integration/pg_store_fixture.h"
#include "tests/status_matchers.h"

namespace nas::controller {
namespace {

using ::nas::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

MATCHER_P(EqualsProto, expected, "") {
  return google::protobuf::util::MessageDifferencer::Equals(arg, expected);
}

v1::QValue Q(const std::string& state, const std::string& action, double q,
             int updates = 1) {
  v1::QValue v;
  v.set_state(state);
  v.set_action(action);
  v.set_q(q);
  v.set_updates(updates);
  return v;
}

// A write as a Q-learning policy would make it after `seq` observations.
PolicyWrite Write(int64_t seq, std::vector<v1::QValue> q_values = {}) {
  v1::PolicyState state;
  state.set_policy("qlearning");
  state.set_observed(seq);
  state.set_models(seq);
  state.set_epsilon(1.0 - 0.1 * seq);
  PolicyWrite write;
  write.observed_seq = seq;
  write.state = state.SerializeAsString();
  write.q_values = std::move(q_values);
  return write;
}

// An observer that records every trial it is shown and answers `answer`.
struct RecordingObserver {
  absl::StatusOr<std::optional<PolicyWrite>> answer;
  std::vector<v1::Trial> seen;

  PolicyObserver Get() {
    return [this](const v1::Trial& trial) {
      seen.push_back(trial);
      return answer;
    };
  }
};

class PgPolicyStoreTest : public PgTrialStoreTest {
 protected:
  // A RUNNING trial of `search` leased to a fresh worker under `lease`.
  LeasedTrial Running(int64_t search, const std::string& key,
                      const std::string& lease) {
    EXPECT_THAT(store_->InsertTrial(Candidate(search, v1::TRIAL_PENDING, key),
                                    kNow, nullptr),
                nas::testing::IsOk());
    const int64_t worker = NewWorker("w-" + lease);
    absl::StatusOr<std::vector<LeasedTrial>> leased =
        store_->LeaseTrials(worker, {lease}, kNow, kNow + absl::Seconds(30));
    EXPECT_THAT(leased, HoldsValue(::testing::SizeIs(1)));
    worker_ = worker;
    return leased.ok() && !leased->empty() ? (*leased)[0] : LeasedTrial();
  }

  TrialOutcome Success(double accuracy) {
    TrialOutcome outcome;
    outcome.metrics.set_accuracy(accuracy);
    outcome.metrics.set_params(705);
    outcome.reward = accuracy;
    return outcome;
  }

  // Reports `accuracy` for `running` under `lease`, `observer` observing.
  absl::StatusOr<CompletionResult> Complete(const LeasedTrial& running,
                                            const std::string& lease,
                                            double accuracy,
                                            RecordingObserver& observer) {
    return store_->CompleteTrial(running.trial.id(), worker_, lease,
                                 Success(accuracy), kNow, observer.Get());
  }

  int64_t worker_ = 0;  // The worker of the last Running() trial.
};

TEST_F(PgPolicyStoreTest, WriteIsCommittedWithTheResultThatCausedIt) {
  const int64_t search = NewSearch();
  RecordingObserver observer{Write(1, {Q("d0 START", "CONV1D c8 k3", 0.6)})};
  NAS_ASSERT_OK_AND_ASSIGN(
      v1::Trial infeasible,
      store_->InsertTrial(Candidate(search, v1::TRIAL_INFEASIBLE, "a"), kNow,
                          observer.Get()));
  // Shown the trial as stored: id and number set, final state.
  ASSERT_EQ(observer.seen.size(), 1u);
  EXPECT_THAT(observer.seen[0], EqualsProto(infeasible));
  EXPECT_GT(observer.seen[0].id(), 0);
  EXPECT_EQ(observer.seen[0].state(), v1::TRIAL_INFEASIBLE);

  const LeasedTrial running = Running(search, "b", "lease-b");
  observer.answer = Write(2, {Q("d0 START", "CONV1D c8 k3", 0.7, 2)});
  NAS_ASSERT_OK_AND_ASSIGN(
      CompletionResult done,
      store_->CompleteTrial(running.trial.id(), worker_, "lease-b",
                            Success(0.875), kNow + absl::Seconds(5),
                            observer.Get()));
  ASSERT_TRUE(done.accepted);
  ASSERT_EQ(observer.seen.size(), 2u);
  const v1::Trial& completed = observer.seen[1];
  EXPECT_EQ(completed.state(), v1::TRIAL_SUCCEEDED);
  EXPECT_DOUBLE_EQ(completed.metrics().accuracy(), 0.875);
  EXPECT_DOUBLE_EQ(completed.reward(), 0.875);
  EXPECT_EQ(completed.finished_unix_ms(),
            absl::ToUnixMillis(kNow + absl::Seconds(5)));
  EXPECT_THAT(done.trial, EqualsProto(completed));

  EXPECT_EQ(Count(absl::StrCat("SELECT observed_seq FROM trials WHERE id = ",
                               running.trial.id())),
            2);
  NAS_ASSERT_OK_AND_ASSIGN(StoredPolicy stored, store_->LoadPolicy(search));
  EXPECT_EQ(stored.state, Write(2).state);
  EXPECT_THAT(stored.q_values,
              ElementsAre(EqualsProto(Q("d0 START", "CONV1D c8 k3", 0.7, 2))));
  ASSERT_EQ(stored.observed.size(), 2u);
  EXPECT_EQ(stored.observed[0].id(), infeasible.id());
  EXPECT_THAT(stored.observed[1], EqualsProto(completed));
}

TEST_F(PgPolicyStoreTest, ObserverErrorStoresNothingOfTheOperation) {
  const int64_t search = NewSearch();
  RecordingObserver failing{absl::InternalError("policy exploded")};
  EXPECT_THAT(store_->InsertTrial(Candidate(search, v1::TRIAL_INFEASIBLE, "a"),
                                  kNow, failing.Get()),
              StatusIs(absl::StatusCode::kInternal, "policy exploded"));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM trials"), 0);
  NAS_ASSERT_OK_AND_ASSIGN(SearchRecord record, store_->GetSearch(search));
  EXPECT_EQ(record.infeasible_streak, 0);

  const LeasedTrial running = Running(search, "b", "lease-b");
  EXPECT_THAT(Complete(running, "lease-b", 0.9, failing),
              StatusIs(absl::StatusCode::kInternal, "policy exploded"));
  NAS_ASSERT_OK_AND_ASSIGN(v1::Trial still,
                           store_->GetTrial(running.trial.id()));
  EXPECT_EQ(still.state(), v1::TRIAL_RUNNING);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM result_cache"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM search_policies"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM q_values"), 0);

  // The lease still holds: the same report goes through once the policy
  // learns.
  RecordingObserver ok{Write(1, {Q("s", "a", 0.9)})};
  NAS_ASSERT_OK_AND_ASSIGN(CompletionResult done,
                           Complete(running, "lease-b", 0.9, ok));
  EXPECT_TRUE(done.accepted);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM q_values"), 1);
}

TEST_F(PgPolicyStoreTest, ReportNotAcceptedCallsNoObserverAndWritesNothing) {
  const int64_t search = NewSearch();
  const LeasedTrial running = Running(search, "a", "lease-a");
  RecordingObserver observer{Write(1, {Q("s", "a", 0.9)})};
  NAS_ASSERT_OK_AND_ASSIGN(CompletionResult stale,
                           Complete(running, "another-lease", 0.9, observer));
  EXPECT_FALSE(stale.accepted);
  EXPECT_THAT(observer.seen, IsEmpty());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM search_policies"), 0);

  NAS_ASSERT_OK(Complete(running, "lease-a", 0.9, observer).status());
  ASSERT_EQ(observer.seen.size(), 1u);
  observer.answer = Write(2, {Q("s", "a", 0.1)});
  NAS_ASSERT_OK_AND_ASSIGN(CompletionResult duplicate,
                           Complete(running, "lease-a", 0.1, observer));
  EXPECT_FALSE(duplicate.accepted);
  EXPECT_EQ(observer.seen.size(), 1u);
  NAS_ASSERT_OK_AND_ASSIGN(StoredPolicy stored, store_->LoadPolicy(search));
  EXPECT_EQ(stored.state, Write(1).state);
  EXPECT_THAT(stored.q_values, ElementsAre(EqualsProto(Q("s", "a", 0.9))));
}

TEST_F(PgPolicyStoreTest, NoWriteAndPendingTrialsLeaveThePolicyAlone) {
  const int64_t search = NewSearch();
  RecordingObserver silent{std::nullopt};
  NAS_ASSERT_OK_AND_ASSIGN(
      v1::Trial stored,
      store_->InsertTrial(Candidate(search, v1::TRIAL_INFEASIBLE, "a"), kNow,
                          silent.Get()));
  EXPECT_EQ(silent.seen.size(), 1u);
  // PENDING is not final: the observer is not asked.
  NAS_ASSERT_OK(store_
                    ->InsertTrial(Candidate(search, v1::TRIAL_PENDING, "b"),
                                  kNow, silent.Get())
                    .status());
  EXPECT_EQ(silent.seen.size(), 1u);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM trials WHERE observed_seq IS NULL"), 2);
  NAS_ASSERT_OK_AND_ASSIGN(StoredPolicy policy, store_->LoadPolicy(search));
  EXPECT_THAT(policy.state, IsEmpty());
  EXPECT_THAT(policy.q_values, IsEmpty());
  EXPECT_THAT(policy.observed, IsEmpty());
}

TEST_F(PgPolicyStoreTest, StaleOrSkippingWriteIsAbortedAndStoresNothing) {
  const int64_t search = NewSearch();
  RecordingObserver first{Write(1, {Q("s", "a", 0.6)})};
  NAS_ASSERT_OK(store_
                    ->InsertTrial(Candidate(search, v1::TRIAL_INFEASIBLE, "a"),
                                  kNow, first.Get())
                    .status());
  // A second copy of the policy that missed observation 1.
  for (int64_t seq : {1, 3}) {
    RecordingObserver stale{Write(seq, {Q("s", "a", 0.1)})};
    EXPECT_THAT(
        store_->InsertTrial(Candidate(search, v1::TRIAL_INFEASIBLE, "b"), kNow,
                            stale.Get()),
        StatusIs(absl::StatusCode::kAborted,
                 HasSubstr(absl::StrCat("stale policy of search ", search))));
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM trials"), 1);
  NAS_ASSERT_OK_AND_ASSIGN(StoredPolicy stored, store_->LoadPolicy(search));
  EXPECT_EQ(stored.state, Write(1).state);
  EXPECT_THAT(stored.q_values, ElementsAre(EqualsProto(Q("s", "a", 0.6))));
}

TEST_F(PgPolicyStoreTest, LoadPolicyReturnsObservedTrialsInLearningOrder) {
  const int64_t search = NewSearch();
  const int64_t other = NewSearch("other");
  // Trial #0 is queued first but learnt from last.
  const LeasedTrial running = Running(search, "first", "lease-1");
  RecordingObserver observer{Write(1, {Q("b", "x", 0.5), Q("a", "y", 0.4)})};
  NAS_ASSERT_OK_AND_ASSIGN(
      v1::Trial cached_copy,
      store_->InsertTrial(Candidate(search, v1::TRIAL_CACHED, "second"), kNow,
                          observer.Get()));
  observer.answer = Write(2, {Q("b", "x", 0.75, 2), Q("a", "z", 0.3)});
  NAS_ASSERT_OK(Complete(running, "lease-1", 0.8, observer).status());
  RecordingObserver elsewhere{Write(1, {Q("b", "x", -1)})};
  NAS_ASSERT_OK(store_
                    ->InsertTrial(Candidate(other, v1::TRIAL_INFEASIBLE, "o"),
                                  kNow, elsewhere.Get())
                    .status());

  NAS_ASSERT_OK_AND_ASSIGN(StoredPolicy stored, store_->LoadPolicy(search));
  EXPECT_EQ(stored.state, Write(2).state);
  // The whole table, by state then action; later values replaced earlier.
  EXPECT_THAT(stored.q_values, ElementsAre(EqualsProto(Q("a", "y", 0.4)),
                                           EqualsProto(Q("a", "z", 0.3)),
                                           EqualsProto(Q("b", "x", 0.75, 2))));
  ASSERT_EQ(stored.observed.size(), 2u);
  EXPECT_EQ(stored.observed[0].id(), cached_copy.id());
  EXPECT_EQ(stored.observed[0].number(), 1);
  EXPECT_EQ(stored.observed[1].id(), running.trial.id());
  EXPECT_EQ(stored.observed[1].number(), 0);
  EXPECT_EQ(stored.observed[1].state(), v1::TRIAL_SUCCEEDED);
  EXPECT_THAT(store_->LoadPolicy(98765),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("98765")));
}

TEST_F(PgPolicyStoreTest, QEntriesRoundTripVerbatimAndExactly) {
  const int64_t search = NewSearch();
  const std::vector<std::string> states = {"'; DROP TABLE q_values; --",
                                           "Robert'); DELETE FROM trials;--",
                                           "quote \" and back\\slash",
                                           "$1 $2 %s {} [\"x\"]",
                                           "ünïcødé ✓",
                                           "tab\tand\nnewline",
                                           ""};
  std::vector<v1::QValue> written;
  for (size_t i = 0; i < states.size(); ++i) {
    written.push_back(Q(states[i], absl::StrCat("act '", i, "'"),
                        0.1 + 0.2 * static_cast<double>(i) / 3.0,
                        static_cast<int>(i)));
  }
  written.push_back(Q("tiny", "x", 1e-300));
  written.push_back(Q("huge", "x", -1.2345678901234567e300));
  RecordingObserver observer{Write(1, written)};
  NAS_ASSERT_OK(store_
                    ->InsertTrial(Candidate(search, v1::TRIAL_INFEASIBLE, "a"),
                                  kNow, observer.Get())
                    .status());
  NAS_ASSERT_OK_AND_ASSIGN(StoredPolicy stored, store_->LoadPolicy(search));
  ASSERT_EQ(stored.q_values.size(), written.size());
  for (const v1::QValue& w : written) {
    bool found = false;
    for (const v1::QValue& s : stored.q_values) {
      if (s.state() != w.state() || s.action() != w.action()) continue;
      found = true;
      EXPECT_EQ(s.q(), w.q()) << w.state();  // Bit for bit.
      EXPECT_EQ(s.updates(), w.updates());
    }
    EXPECT_TRUE(found) << w.state();
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM trials"), 1);  // Still there.
}

TEST_F(PgPolicyStoreTest, RepeatedPairInOneWriteKeepsItsLastValue) {
  const int64_t search = NewSearch();
  RecordingObserver observer{
      Write(1, {Q("s", "a", 0.5, 1), Q("t", "a", 0.2), Q("s", "a", 0.6, 2)})};
  NAS_ASSERT_OK(store_
                    ->InsertTrial(Candidate(search, v1::TRIAL_INFEASIBLE, "a"),
                                  kNow, observer.Get())
                    .status());
  NAS_ASSERT_OK_AND_ASSIGN(StoredPolicy stored, store_->LoadPolicy(search));
  EXPECT_THAT(stored.q_values, ElementsAre(EqualsProto(Q("s", "a", 0.6, 2)),
                                           EqualsProto(Q("t", "a", 0.2))));
}

TEST_F(PgPolicyStoreTest, NonFiniteQValueIsRefusedAndNothingStored) {
  const int64_t search = NewSearch();
  RecordingObserver observer{Write(1, {Q("s", "a", std::nan(""))})};
  EXPECT_THAT(store_->InsertTrial(Candidate(search, v1::TRIAL_INFEASIBLE, "a"),
                                  kNow, observer.Get()),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("not finite")));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM trials"), 0);
}

TEST_F(PgPolicyStoreTest, SummaryOrdersByQThenStateThenActionAndLimits) {
  const int64_t search = NewSearch();
  // Ties at 0.9 break by state in byte order ("B" < "a"), then by action.
  RecordingObserver observer{
      Write(1, {Q("a", "y", 0.9), Q("a", "x", 0.9), Q("B", "z", 0.9),
                Q("c", "x", 0.95), Q("d", "x", 0.1), Q("e", "x", -0.5)})};
  NAS_ASSERT_OK(store_
                    ->InsertTrial(Candidate(search, v1::TRIAL_INFEASIBLE, "a"),
                                  kNow, observer.Get())
                    .status());
  NAS_ASSERT_OK_AND_ASSIGN(PolicySummary top4,
                           store_->GetPolicySummary(search, 4));
  EXPECT_EQ(top4.state, Write(1).state);
  EXPECT_EQ(top4.q_entries, 6);
  EXPECT_THAT(top4.q_top, ElementsAre(EqualsProto(Q("c", "x", 0.95)),
                                      EqualsProto(Q("B", "z", 0.9)),
                                      EqualsProto(Q("a", "x", 0.9)),
                                      EqualsProto(Q("a", "y", 0.9))));
  NAS_ASSERT_OK_AND_ASSIGN(PolicySummary all,
                           store_->GetPolicySummary(search, 100));
  ASSERT_EQ(all.q_top.size(), 6u);
  EXPECT_EQ(all.q_top.back().state(), "e");
  NAS_ASSERT_OK_AND_ASSIGN(PolicySummary none,
                           store_->GetPolicySummary(search, 0));
  EXPECT_EQ(none.q_entries, 6);
  EXPECT_THAT(none.q_top, IsEmpty());

  const int64_t fresh = NewSearch("fresh");
  NAS_ASSERT_OK_AND_ASSIGN(PolicySummary empty,
                           store_->GetPolicySummary(fresh, 20));
  EXPECT_THAT(empty.state, IsEmpty());
  EXPECT_EQ(empty.q_entries, 0);
  EXPECT_THAT(store_->GetPolicySummary(4242, 20),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("4242")));
  // The top-N read has an index of its own.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM pg_indexes WHERE tablename = "
                  "'q_values' AND indexname = 'q_values_top_idx' "
                  "AND schemaname = current_schema()"),
            1);
}

}  // namespace
}  // namespace nas::controller
