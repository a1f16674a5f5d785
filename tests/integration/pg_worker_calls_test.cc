// PgTrialStore against a real PostgreSQL: the workers' calls (leases,
// heartbeats, reports, the expiry of leases; controller/store/
// pg_worker_calls.cc). Searches, trials, models and migrations are in
// pg_trial_store_test.cc.
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "controller/store/pg_rows.h"
#include "controller/store/pg_trial_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "tests/integration/pg_store_fixture.h"
#include "tests/status_matchers.h"

namespace nas::controller {
namespace {

using ::nas::testing::IsOk;
using ::nas::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST_F(PgTrialStoreTest, LeaseHeartbeatAndReportAreHeldToTheLease) {
  const int64_t search = NewSearch();
  const int64_t worker = NewWorker("w1");
  const int64_t other = NewWorker("w2");
  NAS_ASSERT_OK(store_
                    ->InsertTrial(Candidate(search, v1::TRIAL_PENDING, "k"),
                                  kNow, nullptr)
                    .status());
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<LeasedTrial> leased,
                           store_->LeaseTrials(worker, {"lease-a", "lease-b"},
                                               kNow, kNow + absl::Seconds(30)));
  ASSERT_EQ(leased.size(), 1u);
  const v1::Trial& trial = leased[0].trial;
  EXPECT_EQ(trial.state(), v1::TRIAL_RUNNING);
  EXPECT_EQ(trial.attempts(), 1);
  EXPECT_EQ(trial.worker(), "w1");
  NAS_ASSERT_OK_AND_ASSIGN(
      std::vector<HeldLease> held,
      store_->Heartbeat(worker, {"lease-a", "nope"}, kNow,
                        kNow + absl::Seconds(30)));
  EXPECT_THAT(held, ElementsAre(HeldWith(LeaseStatus::kActive),
                                HeldWith(LeaseStatus::kLost)));
  // The held lease names its trial, for the progress board.
  EXPECT_EQ(held[0].trial_id, trial.id());
  EXPECT_EQ(held[0].search_id, trial.search_id());
  EXPECT_EQ(held[0].trial_number, trial.number());
  EXPECT_EQ(held[0].worker, "w1");
  EXPECT_EQ(held[1].trial_id, 0);
  EXPECT_THAT(store_->Heartbeat(other, {"lease-a"}, kNow, kNow),
              HoldsValue(ElementsAre(HeldWith(LeaseStatus::kLost))));

  TrialOutcome outcome;
  outcome.metrics.set_accuracy(0.9);
  outcome.reward = 0.9;
  outcome.model = std::string("\0\x01\xff torchscript \0", 17);
  NAS_ASSERT_OK_AND_ASSIGN(CompletionResult stolen,
                           store_->CompleteTrial(trial.id(), other, "lease-a",
                                                 outcome, kNow, nullptr));
  EXPECT_FALSE(stolen.accepted);
  EXPECT_THAT(stolen.detail, HasSubstr("stale report"));
  NAS_ASSERT_OK_AND_ASSIGN(
      CompletionResult done,
      store_->CompleteTrial(trial.id(), worker, "lease-a", outcome,
                            kNow + absl::Seconds(12), nullptr));
  EXPECT_TRUE(done.accepted);
  EXPECT_DOUBLE_EQ(done.duration_seconds, 12);
  outcome.metrics.set_accuracy(0.1);
  NAS_ASSERT_OK_AND_ASSIGN(CompletionResult again,
                           store_->CompleteTrial(trial.id(), worker, "lease-a",
                                                 outcome, kNow, nullptr));
  EXPECT_FALSE(again.accepted);
  EXPECT_THAT(again.detail, HasSubstr("duplicate report"));

  NAS_ASSERT_OK_AND_ASSIGN(v1::Trial stored, store_->GetTrial(trial.id()));
  EXPECT_EQ(stored.state(), v1::TRIAL_SUCCEEDED);
  EXPECT_DOUBLE_EQ(stored.metrics().accuracy(), 0.9);
  EXPECT_TRUE(stored.has_model());
  EXPECT_THAT(store_->GetModel(trial.id()), HoldsValue(outcome.model));
  // Float-only (quantize: none): there is no int8 model to export.
  EXPECT_THAT(store_->GetModel(trial.id(), v1::INT8),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("has no int8 model")));
  EXPECT_THAT(store_->Heartbeat(worker, {"lease-a"}, kNow, kNow),
              HoldsValue(ElementsAre(HeldWith(LeaseStatus::kLost))));
  NAS_ASSERT_OK_AND_ASSIGN(SearchRecord record, store_->GetSearch(search));
  EXPECT_EQ(record.search.best_trial_id(), trial.id());
  EXPECT_DOUBLE_EQ(record.search.best_accuracy(), 0.9);
  EXPECT_EQ(record.search.trials_done(), 1);
  EXPECT_DOUBLE_EQ(record.mean_trial_seconds, 12);
}


TEST_F(PgTrialStoreTest, HeartbeatWritesLastSeenOnlyWhenStale) {
  const int64_t worker = NewWorker("w1");  // Seen at kNow.
  const std::string seen =
      absl::StrCat("SELECT last_seen_ms FROM workers WHERE id = ", worker);
  const absl::Duration ttl = absl::Seconds(30);  // Resolution 3.75 s.
  NAS_ASSERT_OK(store_->Heartbeat(worker, {}, kNow + absl::Seconds(3),
                                  kNow + absl::Seconds(3) + ttl)
                    .status());
  EXPECT_EQ(Count(seen), Ms(kNow));
  NAS_ASSERT_OK(store_->Heartbeat(worker, {}, kNow + absl::Seconds(4),
                                  kNow + absl::Seconds(4) + ttl)
                    .status());
  EXPECT_EQ(Count(seen), Ms(kNow + absl::Seconds(4)));
  // Never moved back by a call that carries an older time.
  NAS_ASSERT_OK(store_->Heartbeat(worker, {}, kNow, kNow + ttl).status());
  EXPECT_EQ(Count(seen), Ms(kNow + absl::Seconds(4)));
  EXPECT_THAT(store_->Heartbeat(worker + 100, {}, kNow, kNow + ttl),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("register")));
}


TEST_F(PgTrialStoreTest, ExpiredLeasesRequeueThenFail) {
  const int64_t search = NewSearch("s", /*max_attempts=*/2);
  const int64_t worker = NewWorker("w1");
  NAS_ASSERT_OK(store_
                    ->InsertTrial(Candidate(search, v1::TRIAL_PENDING, "k"),
                                  kNow, nullptr)
                    .status());
  const absl::Time expires = kNow + absl::Seconds(10);
  NAS_ASSERT_OK(store_->LeaseTrials(worker, {"l1"}, kNow, expires).status());
  EXPECT_THAT(store_->ExpireLeases(kNow + absl::Seconds(5)),
              HoldsValue(::testing::IsEmpty()));
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<ExpiredLease> expired,
                           store_->ExpireLeases(expires + absl::Seconds(1)));
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].new_state, v1::TRIAL_PENDING);
  EXPECT_EQ(expired[0].attempts, 1);

  NAS_ASSERT_OK_AND_ASSIGN(std::vector<LeasedTrial> again,
                           store_->LeaseTrials(worker, {"l2"}, kNow, expires));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].trial.attempts(), 2);
  NAS_ASSERT_OK_AND_ASSIGN(expired,
                           store_->ExpireLeases(expires + absl::Seconds(1)));
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].new_state, v1::TRIAL_FAILED);
  NAS_ASSERT_OK_AND_ASSIGN(v1::Trial failed,
                           store_->GetTrial(again[0].trial.id()));
  EXPECT_EQ(failed.state(), v1::TRIAL_FAILED);
  EXPECT_EQ(failed.failure_reason(), "lease expired 2 times (last worker w1)");
  // The first lease's late report changes nothing.
  NAS_ASSERT_OK_AND_ASSIGN(
      CompletionResult late,
      store_->CompleteTrial(failed.id(), worker, "l1", TrialOutcome(), kNow,
                            nullptr));
  EXPECT_FALSE(late.accepted);
}


TEST_F(PgTrialStoreTest, ConcurrentLeasesHandOutEachTrialOnce) {
  const int64_t search = NewSearch();
  for (int i = 0; i < 40; ++i) {
    NAS_ASSERT_OK(store_
                      ->InsertTrial(Candidate(search, v1::TRIAL_PENDING,
                                              "key" + std::to_string(i)),
                                    kNow, nullptr)
                      .status());
  }
  std::vector<int64_t> workers;
  for (int w = 0; w < 4; ++w)
    workers.push_back(NewWorker("w" + std::to_string(w)));
  std::mutex mu;
  std::multiset<int64_t> leased;
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      for (int round = 0; round < 10; ++round) {
        std::vector<std::string> ids = {absl::StrCat(w, "-", round, "-a"),
                                        absl::StrCat(w, "-", round, "-b")};
        absl::StatusOr<std::vector<LeasedTrial>> got =
            store_->LeaseTrials(workers[w], ids, kNow, kNow);
        ASSERT_THAT(got, IsOk());
        std::lock_guard<std::mutex> lock(mu);
        for (const LeasedTrial& l : *got) leased.insert(l.trial.id());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(leased.size(), 40u);
  EXPECT_EQ(std::set<int64_t>(leased.begin(), leased.end()).size(), 40u);
  NAS_ASSERT_OK_AND_ASSIGN(SlotCounts slots,
                           store_->CountSlots(kNow - absl::Seconds(1)));
  EXPECT_EQ(slots.total, 8);
  EXPECT_EQ(slots.busy, 40);
}

}  // namespace
}  // namespace nas::controller
