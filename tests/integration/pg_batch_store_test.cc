// PgTrialStore's batch operations (CompleteTrials, InsertPendingTrials),
// its trial counters kept by a trigger, its queue memory and the light
// reads, against a real PostgreSQL.
#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "controller/scheduler.h"
#include "controller/store/pg_leases.h"
#include "controller/store/pg_rows.h"
#include "tests/integration/pg_store_fixture.h"
#include "tests/status_matchers.h"

namespace nas::controller {
namespace {

using ::nas::testing::IsOk;
using ::nas::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class PgBatchStoreTest : public PgTrialStoreTest {
 protected:
  // Queues a candidate per key in one batch; their ids in order.
  std::vector<int64_t> Queue(int64_t search,
                             const std::vector<std::string>& keys) {
    std::vector<NewTrial> trials;
    for (const std::string& key : keys) {
      trials.push_back(Candidate(search, v1::TRIAL_PENDING, key));
    }
    std::vector<int64_t> ids;
    absl::StatusOr<std::vector<absl::StatusOr<v1::Trial>>> stored =
        store_->InsertPendingTrials(trials, kNow);
    EXPECT_THAT(stored, IsOk());
    if (!stored.ok()) return ids;
    for (const absl::StatusOr<v1::Trial>& t : *stored) {
      EXPECT_THAT(t, IsOk());
      ids.push_back(t.ok() ? t->id() : 0);
    }
    return ids;
  }

  // What GetSearch says next to what a COUNT over the trials says.
  void ExpectCountersMatchTheTrials(int64_t search) {
    NAS_ASSERT_OK_AND_ASSIGN(SearchRecord r, store_->GetSearch(search));
    const std::string where = absl::StrCat(" FROM trials WHERE search_id = ",
                                           search, " AND state = ");
    EXPECT_EQ(r.search.trials_pending(), Count("SELECT COUNT(*)" + where + "1"));
    EXPECT_EQ(r.search.trials_running(), Count("SELECT COUNT(*)" + where + "2"));
    EXPECT_EQ(r.succeeded, Count("SELECT COUNT(*)" + where + "3"));
    EXPECT_EQ(r.search.trials_failed(), Count("SELECT COUNT(*)" + where + "4"));
    EXPECT_EQ(r.search.trials_infeasible(),
              Count("SELECT COUNT(*)" + where + "5"));
    EXPECT_EQ(r.search.trials_cached(), Count("SELECT COUNT(*)" + where + "6"));
    EXPECT_EQ(r.cancelled, Count("SELECT COUNT(*)" + where + "7"));
  }

  static TrialOutcome Succeeded(double accuracy) {
    TrialOutcome o;
    o.metrics.set_accuracy(accuracy);
    o.metrics.set_flash_bytes(1000);
    o.reward = accuracy;
    return o;
  }
};

TEST_F(PgBatchStoreTest, ABatchOfReportsIsTakenAsOneAtATime) {
  const int64_t search = NewSearch();
  const int64_t worker = NewWorker("w", /*slots=*/4);
  Queue(search, {"k1", "k2", "k3"});
  NAS_ASSERT_OK_AND_ASSIGN(
      std::vector<LeasedTrial> leased,
      store_->LeaseTrials(worker, {"l1", "l2", "l3"}, kNow,
                          kNow + absl::Seconds(30)));
  ASSERT_EQ(leased.size(), 3u);
  const int64_t t1 = leased[0].trial.id(), t2 = leased[1].trial.id(),
                t3 = leased[2].trial.id();
  TrialOutcome failed;
  failed.state = v1::TRIAL_FAILED;
  failed.failure_reason = "diverged";
  std::vector<const v1::Trial*> observed;
  PolicyObserver observe = [&](const v1::Trial& trial)
      -> absl::StatusOr<std::optional<PolicyWrite>> {
    observed.push_back(&trial);
    EXPECT_NE(trial.state(), v1::TRIAL_RUNNING) << "observed as stored";
    return std::nullopt;
  };
  NAS_ASSERT_OK_AND_ASSIGN(
      std::vector<absl::StatusOr<CompletionResult>> results,
      store_->CompleteTrials({{t1, worker, "l1", Succeeded(0.9)},
                              {t2, worker, "l2", failed},
                              {t3, worker, "l1", Succeeded(0.5)},  // Not its lease.
                              {t1, worker, "l1", Succeeded(0.1)},  // Twice.
                              {987654321, worker, "l9", Succeeded(0.5)}},
                             kNow + absl::Seconds(2), observe));
  ASSERT_EQ(results.size(), 5u);
  ASSERT_THAT(results[0], IsOk());
  EXPECT_TRUE(results[0]->accepted);
  EXPECT_EQ(results[0]->trial.state(), v1::TRIAL_SUCCEEDED);
  EXPECT_DOUBLE_EQ(results[0]->duration_seconds, 2);
  ASSERT_THAT(results[1], IsOk());
  EXPECT_TRUE(results[1]->accepted);
  EXPECT_EQ(results[1]->trial.failure_reason(), "diverged");
  ASSERT_THAT(results[2], IsOk());
  EXPECT_FALSE(results[2]->accepted);
  EXPECT_THAT(results[2]->detail, HasSubstr("stale report"));
  ASSERT_THAT(results[3], IsOk());
  EXPECT_FALSE(results[3]->accepted);
  EXPECT_THAT(results[3]->detail, HasSubstr("duplicate report"));
  EXPECT_THAT(results[4], StatusIs(absl::StatusCode::kNotFound, HasSubstr("not found")));
  EXPECT_EQ(observed.size(), 2u);

  NAS_ASSERT_OK_AND_ASSIGN(v1::Trial first, store_->GetTrial(t1));
  EXPECT_DOUBLE_EQ(first.metrics().accuracy(), 0.9);
  EXPECT_THAT(store_->FindCachedResult("k1"),
              HoldsValue(::testing::Optional(::testing::Property(
                  &v1::Trial::id, t1))));
  EXPECT_THAT(store_->FindCachedResult("k2"),
              HoldsValue(::testing::Eq(std::nullopt)));
  NAS_ASSERT_OK_AND_ASSIGN(SearchRecord record, store_->GetSearch(search));
  EXPECT_EQ(record.search.trials_done(), 2);
  EXPECT_EQ(record.search.trials_running(), 1);
  EXPECT_EQ(record.search.best_trial_id(), t1);
  EXPECT_DOUBLE_EQ(record.search.best_accuracy(), 0.9);
  EXPECT_DOUBLE_EQ(record.mean_trial_seconds, 2);
  ExpectCountersMatchTheTrials(search);
}

TEST_F(PgBatchStoreTest, AnObserverErrorStoresNothingOfTheBatch) {
  const int64_t search = NewSearch();
  const int64_t worker = NewWorker("w", /*slots=*/2);
  Queue(search, {"a", "b"});
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<LeasedTrial> leased,
                           store_->LeaseTrials(worker, {"l1", "l2"}, kNow,
                                               kNow + absl::Seconds(30)));
  ASSERT_EQ(leased.size(), 2u);
  PolicyObserver refuse = [&](const v1::Trial& trial)
      -> absl::StatusOr<std::optional<PolicyWrite>> {
    if (trial.id() == leased[1].trial.id()) {
      return absl::InternalError("cannot learn");
    }
    return std::nullopt;
  };
  EXPECT_THAT(store_->CompleteTrials(
                  {{leased[0].trial.id(), worker, "l1", Succeeded(0.7)},
                   {leased[1].trial.id(), worker, "l2", Succeeded(0.8)}},
                  kNow, refuse),
              StatusIs(absl::StatusCode::kInternal, "cannot learn"));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM trials WHERE state = 2"), 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM result_cache"), 0);
  ExpectCountersMatchTheTrials(search);
}

TEST_F(PgBatchStoreTest, QueuedBatchIsNumberedInOrderAndRefusesKnownNetworks) {
  const int64_t search = NewSearch();
  const int64_t worker = NewWorker("w", /*slots=*/1);
  Queue(search, {"trained"});
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<LeasedTrial> leased,
                           store_->LeaseTrials(worker, {"l"}, kNow, kNow));
  ASSERT_EQ(leased.size(), 1u);
  NAS_ASSERT_OK(store_
                    ->CompleteTrial(leased[0].trial.id(), worker, "l",
                                    Succeeded(0.6), kNow, nullptr)
                    .status());
  Queue(search, {"in-flight"});
  std::vector<NewTrial> batch;
  for (const char* key : {"x", "in-flight", "y", "x", "trained"}) {
    batch.push_back(Candidate(search, v1::TRIAL_PENDING, key));
  }
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<absl::StatusOr<v1::Trial>> stored,
                           store_->InsertPendingTrials(batch, kNow));
  ASSERT_EQ(stored.size(), 5u);
  ASSERT_THAT(stored[0], IsOk());
  ASSERT_THAT(stored[2], IsOk());
  EXPECT_EQ(stored[0]->number(), 2);
  EXPECT_EQ(stored[2]->number(), 3);
  EXPECT_EQ(stored[0]->state(), v1::TRIAL_PENDING);
  EXPECT_EQ(stored[2]->architecture().layers_size(), 1);
  EXPECT_EQ(stored[2]->metrics().params(), 705);
  EXPECT_THAT(stored[1], StatusIs(absl::StatusCode::kAlreadyExists,
                                  HasSubstr("trained")));
  EXPECT_THAT(stored[3], StatusIs(absl::StatusCode::kAlreadyExists,
                                  HasSubstr("being trained")));
  EXPECT_THAT(stored[4], StatusIs(absl::StatusCode::kAlreadyExists,
                                  HasSubstr("trained")));
  ExpectCountersMatchTheTrials(search);

  NAS_ASSERT_OK(store_->CancelSearch(search, kNow));
  EXPECT_THAT(store_->InsertPendingTrials(
                  {Candidate(search, v1::TRIAL_PENDING, "z")}, kNow),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("no longer running")));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM trials WHERE cache_key = 'z'"), 0);
}

TEST_F(PgBatchStoreTest, CountersFollowEveryStateChange) {
  const int64_t search = NewSearch("s", /*max_attempts=*/1);
  const int64_t worker = NewWorker("w", /*slots=*/3);
  NewTrial infeasible = Candidate(search, v1::TRIAL_INFEASIBLE, "i");
  infeasible.violations = {"too big"};
  NAS_ASSERT_OK(store_->InsertTrial(infeasible, kNow, nullptr).status());
  Queue(search, {"a", "b", "c", "d"});
  ExpectCountersMatchTheTrials(search);
  const absl::Time expires = kNow + absl::Seconds(10);
  NAS_ASSERT_OK_AND_ASSIGN(
      std::vector<LeasedTrial> leased,
      store_->LeaseTrials(worker, {"l1", "l2", "l3"}, kNow, expires));
  ASSERT_EQ(leased.size(), 3u);
  NAS_ASSERT_OK(store_
                    ->CompleteTrial(leased[0].trial.id(), worker, "l1",
                                    Succeeded(0.4), kNow, nullptr)
                    .status());
  NewTrial cached = Candidate(search, v1::TRIAL_CACHED, "a");
  cached.cached_from = leased[0].trial.id();
  cached.reward = 0.95;
  cached.metrics.set_accuracy(0.95);
  NAS_ASSERT_OK_AND_ASSIGN(v1::Trial copy,
                           store_->InsertTrial(cached, kNow, nullptr));
  ExpectCountersMatchTheTrials(search);
  // l2 runs out (max_attempts 1: FAILED); l3's search is then cancelled.
  NAS_ASSERT_OK(store_->Heartbeat(worker, {"l3"}, kNow, expires + absl::Hours(1))
                    .status());
  NAS_ASSERT_OK(store_->ExpireLeases(expires + absl::Seconds(1)).status());
  ExpectCountersMatchTheTrials(search);
  NAS_ASSERT_OK(store_->CancelSearch(search, kNow));
  EXPECT_THAT(store_->Heartbeat(worker, {"l3"}, kNow, kNow),
              HoldsValue(ElementsAre(HeldWith(LeaseStatus::kCancelled))));
  ExpectCountersMatchTheTrials(search);
  NAS_ASSERT_OK_AND_ASSIGN(SearchRecord record, store_->GetSearch(search));
  EXPECT_EQ(record.search.trials_failed(), 1);
  EXPECT_EQ(record.cancelled, 2);  // d, queued, and l3, running.
  EXPECT_EQ(record.search.best_trial_id(), copy.id());
  EXPECT_DOUBLE_EQ(record.search.best_reward(), 0.95);
  EXPECT_DOUBLE_EQ(record.search.best_accuracy(), 0.95);
}

TEST_F(PgBatchStoreTest, LeasesTakeTheOldestWithinTheSlotsAfterARestartToo) {
  const int64_t search = NewSearch();
  const int64_t worker = NewWorker("w", /*slots=*/1);
  EXPECT_TRUE(store_->MayHaveQueuedTrials(kNow));  // Not read yet.
  const std::vector<int64_t> ids = Queue(search, {"a", "b", "c"});
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<LeasedTrial> leased,
                           store_->LeaseTrials(worker, {"l1", "l2"}, kNow,
                                               kNow + absl::Seconds(30)));
  ASSERT_EQ(leased.size(), 1u) << "one slot";
  EXPECT_EQ(leased[0].trial.id(), ids[0]);
  EXPECT_EQ(leased[0].lease_id, "l1");
  // Another store on the database, as a restarted controller.
  NAS_ASSERT_OK_AND_ASSIGN(std::unique_ptr<PgTrialStore> restarted,
                           PgTrialStore::Create(uri_));
  const int64_t second = NewWorker("w2", /*slots=*/1);
  NAS_ASSERT_OK_AND_ASSIGN(leased, restarted->LeaseTrials(second, {"l3"}, kNow,
                                                          kNow));
  ASSERT_EQ(leased.size(), 1u);
  EXPECT_EQ(leased[0].trial.id(), ids[1]);
  // The first store remembered "b" as queued: its lease finds it taken
  // and comes back empty (the worker asks again), then "b" is forgotten.
  EXPECT_THAT(store_->LeaseTrials(worker, {"l4"}, kNow, kNow),
              HoldsValue(IsEmpty()));
  NAS_ASSERT_OK_AND_ASSIGN(leased,
                           store_->LeaseTrials(worker, {"l4"}, kNow, kNow));
  ASSERT_EQ(leased.size(), 1u);
  EXPECT_EQ(leased[0].trial.id(), ids[2]);
  EXPECT_FALSE(store_->MayHaveQueuedTrials(kNow));
  EXPECT_THAT(store_->LeaseTrials(worker, {"l5"}, kNow, kNow),
              HoldsValue(IsEmpty()));
  EXPECT_THAT(store_->LeaseTrials(987654, {"l6"}, kNow, kNow),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("register")));
  // Queued by the other store: seen once the memory is read again.
  Queue(search, {"d"});
  NAS_ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<PgTrialStore> other, PgTrialStore::Create(uri_));
  NewTrial late = Candidate(search, v1::TRIAL_PENDING, "e");
  NAS_ASSERT_OK(other->InsertTrial(late, kNow, nullptr).status());
  NAS_ASSERT_OK_AND_ASSIGN(leased,
                           store_->LeaseTrials(worker, {"l7"}, kNow, kNow));
  ASSERT_EQ(leased.size(), 1u);  // "d", which it queued itself.
  EXPECT_TRUE(store_->MayHaveQueuedTrials(kNow + absl::Seconds(6)));
  NAS_ASSERT_OK_AND_ASSIGN(
      leased, store_->LeaseTrials(worker, {"l8"}, kNow + absl::Seconds(6),
                                  kNow + absl::Seconds(6)));
  ASSERT_EQ(leased.size(), 1u);
  EXPECT_EQ(leased[0].trial.architecture().layers_size(), 1);
  EXPECT_EQ(leased[0].trial.arch_hash(), "hash-e");
}

TEST_F(PgBatchStoreTest, OneStatementLeasesForSeveralWorkersWithinTheirSlots) {
  const int64_t search = NewSearch();
  const int64_t one_slot = NewWorker("one", /*slots=*/1);
  const int64_t two_slots = NewWorker("two", /*slots=*/2);
  const std::vector<int64_t> ids = Queue(search, {"a", "b", "c", "d", "e", "f"});
  // "c" leaves the queue before the statement runs (another controller
  // leased it): attempted, not leased.
  NAS_ASSERT_OK(store_->LeaseTrials(two_slots, {"x"}, kNow, kNow).status());
  {
    pqxx::connection conn(uri_);
    pqxx::work txn(conn);
    txn.exec(absl::StrCat("UPDATE trials SET state = 2 WHERE id = ", ids[2]));
    txn.commit();
  }
  const absl::Time expires = kNow + absl::Seconds(30);
  const std::vector<LeaseClaim> claims = {
      {one_slot, {ids[1], ids[3], ids[4]}, {"o1", "o2", "o3"}, kNow, expires},
      {987654, {ids[5]}, {"u1"}, kNow, expires},
      {two_slots, {ids[2]}, {"t1"}, kNow + absl::Seconds(10), expires},
  };
  pqxx::connection conn(uri_);
  pqxx::work txn(conn);
  const LeaseGrants grants = LeaseClaimedIn(txn, claims);
  txn.commit();
  EXPECT_THAT(grants.known_workers,
              ::testing::UnorderedElementsAre(one_slot, two_slots));
  // One slot: only the lowest of its three claims is tried.
  EXPECT_THAT(grants.attempted,
              ::testing::UnorderedElementsAre(ids[1], ids[2]));
  ASSERT_EQ(grants.leased.size(), 1u);
  const LeasedTrial& leased = grants.leased.at(ids[1]);
  EXPECT_EQ(leased.lease_id, "o1");
  EXPECT_EQ(leased.trial.state(), v1::TRIAL_RUNNING);
  EXPECT_EQ(leased.trial.worker(), "one");
  EXPECT_EQ(leased.trial.attempts(), 1);
  EXPECT_EQ(Count(absl::StrCat("SELECT COUNT(*) FROM trials WHERE state = 1 "
                               "AND id IN (",
                               ids[3], ",", ids[4], ",", ids[5], ")")),
            3);
  // Seen at kNow (registered): written again only once older than
  // SeenResolution, here 2.5 s for "two" (TTL 20 s), 3.75 s for "one".
  EXPECT_EQ(Count(absl::StrCat("SELECT last_seen_ms FROM workers WHERE id = ",
                               two_slots)),
            Ms(kNow + absl::Seconds(10)));
  EXPECT_EQ(Count(absl::StrCat("SELECT last_seen_ms FROM workers WHERE id = ",
                               one_slot)),
            Ms(kNow));
  ExpectCountersMatchTheTrials(search);
}

TEST_F(PgBatchStoreTest, CancellingADeepQueueWhileLeasingNeverDeadlocks) {
  // The lease statement and the cancellation both lock many PENDING rows;
  // locked in different orders they deadlocked (one of them ABORTED).
  constexpr int kWorkers = 12;
  std::vector<int64_t> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.push_back(NewWorker(absl::StrCat("w", w), /*slots=*/32));
  }
  for (int round = 0; round < 6; ++round) {
    const int64_t search = NewSearch();
    std::vector<std::string> keys;
    for (int i = 0; i < 800; ++i) keys.push_back(absl::StrCat(round, "-k", i));
    Queue(search, keys);
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int w = 0; w < kWorkers; ++w) {
      threads.emplace_back([&, w] {
        for (int call = 0; !stop.load(); ++call) {
          std::vector<std::string> lease_ids;
          for (int i = 0; i < 32; ++i) {
            lease_ids.push_back(absl::StrCat(round, "-", w, "-", call, "-", i));
          }
          absl::StatusOr<std::vector<LeasedTrial>> got =
              store_->LeaseTrials(workers[w], lease_ids, kNow, kNow);
          EXPECT_THAT(got, IsOk());
          if (got.ok() && got->empty()) break;  // Queue empty or cancelled.
        }
      });
    }
    absl::SleepFor(absl::Milliseconds(5 * round));
    NAS_EXPECT_OK(store_->CancelSearch(search, kNow));
    stop = true;
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(Count(absl::StrCat("SELECT COUNT(*) FROM trials WHERE state = 1 "
                                 "AND search_id = ", search)),
              0);
  }
}

TEST_F(PgBatchStoreTest, ConcurrentLeaseCallsNeverShareATrialOrPassTheSlots) {
  const int64_t search = NewSearch();
  std::vector<std::string> keys;
  for (int i = 0; i < 120; ++i) keys.push_back(absl::StrCat("k", i));
  const std::vector<int64_t> ids = Queue(search, keys);
  constexpr int kWorkers = 24;
  std::vector<int64_t> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.push_back(NewWorker(absl::StrCat("w", w), /*slots=*/1 + w % 3));
  }
  std::mutex mu;
  std::vector<int64_t> leased;
  int not_found = 0;
  std::vector<std::thread> threads;
  for (int w = 0; w <= kWorkers; ++w) {  // The last one is not registered.
    threads.emplace_back([&, w] {
      const int64_t id = w < kWorkers ? workers[w] : 555555;
      for (int round = 0; round < 8; ++round) {
        // Each asks for more than its slots.
        std::vector<std::string> lease_ids;
        for (int i = 0; i < 4; ++i) {
          lease_ids.push_back(absl::StrCat(w, "-", round, "-", i));
        }
        absl::StatusOr<std::vector<LeasedTrial>> got =
            store_->LeaseTrials(id, lease_ids, kNow, kNow);
        std::lock_guard<std::mutex> lock(mu);
        if (!got.ok()) {
          EXPECT_EQ(w, kWorkers) << got.status();
          not_found += absl::IsNotFound(got.status());
          continue;
        }
        EXPECT_LE(got->size(), static_cast<size_t>(1 + w % 3)) << "slots";
        for (const LeasedTrial& l : *got) {
          EXPECT_EQ(l.trial.worker(), absl::StrCat("w", w));
          leased.push_back(l.trial.id());
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(not_found, 8);
  std::sort(leased.begin(), leased.end());
  EXPECT_EQ(std::adjacent_find(leased.begin(), leased.end()), leased.end())
      << "a trial leased twice";
  // 24 workers x 8 rounds x 1-3 slots ask for more than the 120 queued.
  EXPECT_EQ(leased, ids);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM trials WHERE state = 2"), 120);
  EXPECT_FALSE(store_->MayHaveQueuedTrials(kNow));
  ExpectCountersMatchTheTrials(search);
}

TEST_F(PgBatchStoreTest, FrontCandidatesCarryWhatTheRulesRead) {
  const int64_t search = NewSearch();
  const int64_t worker = NewWorker("w", /*slots=*/3);
  Queue(search, {"a", "b", "c"});
  NAS_ASSERT_OK_AND_ASSIGN(
      std::vector<LeasedTrial> leased,
      store_->LeaseTrials(worker, {"l1", "l2", "l3"}, kNow, kNow));
  ASSERT_EQ(leased.size(), 3u);
  // The figures only the metrics blob holds: int8 macro-F1, arena, spread.
  TrialOutcome first = Succeeded(0.75);
  first.metrics.set_int8(true);
  first.metrics.set_macro_f1_int8(0.625);
  first.metrics.set_arena_bytes(4096);
  first.metrics.set_folds(5);
  first.metrics.set_macro_f1_spread(0.03125);
  NAS_ASSERT_OK(store_
                    ->CompleteTrial(leased[0].trial.id(), worker, "l1", first,
                                    kNow, nullptr)
                    .status());
  TrialOutcome failed;
  failed.state = v1::TRIAL_FAILED;
  failed.failure_reason = "out of memory";
  NAS_ASSERT_OK(store_
                    ->CompleteTrial(leased[1].trial.id(), worker, "l2", failed,
                                    kNow, nullptr)
                    .status());
  NAS_ASSERT_OK(store_
                    ->CompleteTrial(leased[2].trial.id(), worker, "l3",
                                    Succeeded(0.5), kNow, nullptr)
                    .status());
  NAS_ASSERT_OK_AND_ASSIGN(FrontCandidatePage page,
                           store_->ListFrontCandidates(search, -1, 10));
  ASSERT_EQ(page.trials.size(), 2u);  // The FAILED one is no candidate.
  const v1::Trial& t = page.trials[0];
  EXPECT_EQ(t.number(), leased[0].trial.number());
  EXPECT_EQ(t.state(), v1::TRIAL_SUCCEEDED);
  EXPECT_EQ(t.arch_hash(), "hash-a");
  EXPECT_EQ(t.metrics().macro_f1_int8(), 0.625);
  EXPECT_EQ(t.metrics().arena_bytes(), 4096);
  EXPECT_EQ(t.metrics().folds(), 5);
  EXPECT_EQ(t.metrics().macro_f1_spread(), 0.03125);
  EXPECT_EQ(page.trials[1].arch_hash(), "hash-c");
  EXPECT_EQ(page.last_number, leased[2].trial.number());
  // Pages of one: the second starts after the first's number.
  NAS_ASSERT_OK_AND_ASSIGN(page, store_->ListFrontCandidates(search, -1, 1));
  ASSERT_EQ(page.trials.size(), 1u);
  EXPECT_EQ(page.trials[0].arch_hash(), "hash-a");
  NAS_ASSERT_OK_AND_ASSIGN(
      page, store_->ListFrontCandidates(search, page.last_number, 1));
  ASSERT_EQ(page.trials.size(), 1u);
  EXPECT_EQ(page.trials[0].arch_hash(), "hash-c");
  NAS_ASSERT_OK_AND_ASSIGN(
      page, store_->ListFrontCandidates(search, page.last_number, 1));
  EXPECT_THAT(page.trials, IsEmpty());
  EXPECT_EQ(page.last_number, -1);
}

TEST_F(PgBatchStoreTest, ParetoFrontSizeIsTheSameWhateverThePageSize) {
  const int64_t search = NewSearch();
  const int64_t worker = NewWorker("w", /*slots=*/8);
  Queue(search, {"a", "b", "c", "d", "e", "f", "g"});
  NAS_ASSERT_OK_AND_ASSIGN(
      std::vector<LeasedTrial> leased,
      store_->LeaseTrials(worker, {"0", "1", "2", "3", "4", "5", "6"}, kNow,
                          kNow));
  ASSERT_EQ(leased.size(), 7u);
  // (accuracy, flash): the front is 0.9@4000, 0.8@2000, 0.6@1000; the
  // others are dominated, or failed (not counted).
  const std::vector<std::pair<double, int64_t>> results = {
      {0.6, 1000}, {0.5, 3000}, {0.9, 4000}, {0.8, 2000},
      {0.7, 2500}, {0.55, 1500}, {0.95, 500}};
  for (size_t i = 0; i < results.size(); ++i) {
    TrialOutcome outcome = Succeeded(results[i].first);
    outcome.metrics.set_flash_bytes(results[i].second);
    if (i == 6) {  // Would dominate everything, but failed.
      outcome.state = v1::TRIAL_FAILED;
      outcome.failure_reason = "out of memory";
    }
    NAS_ASSERT_OK(store_
                      ->CompleteTrial(leased[i].trial.id(), worker,
                                      leased[i].lease_id, outcome, kNow,
                                      nullptr)
                      .status());
  }
  for (int page_size : {1, 2, 3, 100}) {
    EXPECT_THAT(ParetoFrontSize(store_.get(), search, FrontRules(), page_size),
                HoldsValue(3))
        << "pages of " << page_size;
  }
  // A floor that 0.6@1000 (and 0.55@1500 behind it) does not reach.
  FrontRules floor;
  floor.min_accuracy = 0.65;
  for (int page_size : {1, 2, 100}) {
    EXPECT_THAT(ParetoFrontSize(store_.get(), search, floor, page_size),
                HoldsValue(2))
        << "pages of " << page_size;
  }
  floor.min_accuracy = 0.85;  // Only 0.9@4000 is left.
  EXPECT_THAT(ParetoFrontSize(store_.get(), search, floor, 2), HoldsValue(1));
}

}  // namespace
}  // namespace nas::controller
