// PgTrialStore against a real PostgreSQL cluster.
#include "controller/store/pg_trial_store.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "controller/store/pg_rows.h"
#include "controller/store/pg_schema.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "tests/integration/pg_environment.h"
#include "tests/integration/pg_store_fixture.h"
#include "tests/status_matchers.h"

namespace nas::controller {
namespace {

using ::nas::testing::IsOk;
using ::nas::testing::PostgresEnvironment;
using ::nas::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

TEST_F(PgTrialStoreTest, MigrationsApplyOnceAndAreIdempotent) {
  NAS_ASSERT_OK_AND_ASSIGN(int version, store_->SchemaVersion());
  EXPECT_EQ(version, 10);
  NAS_EXPECT_OK(store_->Migrate());
  NAS_ASSERT_OK_AND_ASSIGN(auto second, PgTrialStore::Create(uri_));
  NAS_EXPECT_OK(second->Migrate());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM schema_migrations"), 10);
  {  // A newer controller migrated this database: refuse to run on it.
    pqxx::connection conn(uri_);
    pqxx::work txn(conn);
    txn.exec("INSERT INTO schema_migrations (version, name) VALUES (99, 'x')");
    txn.commit();
  }
  EXPECT_THAT(store_->Migrate(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("schema version 99 is newer")));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM pg_indexes WHERE tablename = 'trials' "
                  "AND indexname = 'trials_search_queue_idx' "
                  "AND schemaname = current_schema()"),
            1);
}

TEST_F(PgTrialStoreTest, OnlyTwoIndexesHoldEveryTrial) {
  // Every version of a trial's row puts an entry in every index whose
  // predicate it meets, and a vacuum scans each index whole: indexes over
  // all trials beyond these two make vacuuming cost more as a search grows.
  pqxx::connection conn(uri_);
  pqxx::work txn(conn);
  std::vector<std::string> whole;
  for (const pqxx::row& r : txn.exec(
           "SELECT indexname FROM pg_indexes WHERE tablename = 'trials' "
           "AND schemaname = current_schema() AND indexdef NOT LIKE '% WHERE %' "
           "ORDER BY indexname")) {
    whole.push_back(r[0].as<std::string>());
  }
  EXPECT_THAT(whole, ElementsAre("trials_pkey", "trials_search_id_number_key"));
}

// A trial's new row version belongs beside the old one (migration 9): on a
// packed page it went to any page with room, so writes, vacuums and
// full-page images spread over the whole table as it grew. A page also
// makes room by pruning dead versions, but only those no snapshot in the
// database can see, and tests share the database: these tests hold a
// snapshot open themselves, so that no page can prune and only the room
// the page kept at insertion counts, whatever else runs.
class TrialPagesTest : public PgTrialStoreTest {
 protected:
  // Stores 400 trials, one in four PENDING among final ones (never updated
  // again), as in a search whose queue is a small part of its trials; then
  // leases the PENDING ones, one a transaction as workers ask, while a
  // snapshot is held. Returns how many got their new version on another
  // page; `leased` is how many were leased.
  int MovedByLeases(int* leased) {
    const int64_t queued_search = NewSearch("queued");
    const int64_t final_search = NewSearch("final");
    const int64_t worker = NewWorker("w1", /*slots=*/200);
    for (int i = 0; i < 400; ++i) {
      if (i % 4 == 0) {
        EXPECT_THAT(store_->InsertPendingTrials(
                        {Candidate(queued_search, v1::TRIAL_PENDING,
                                   absl::StrCat("q", i))},
                        kNow),
                    IsOk());
      } else {
        EXPECT_THAT(store_->InsertTrial(Candidate(final_search,
                                                  v1::TRIAL_INFEASIBLE,
                                                  absl::StrCat("f", i)),
                                        kNow, nullptr),
                    IsOk());
      }
    }
    const std::map<int64_t, int64_t> queued = Pages(queued_search);
    EXPECT_EQ(queued.size(), 100u);
    std::set<int64_t> pages;
    for (const auto& [id, page] : queued) pages.insert(page);
    EXPECT_GE(pages.size(), 3u) << "the trials fill too few pages";
    pqxx::connection hold_conn(uri_);
    pqxx::transaction<pqxx::isolation_level::repeatable_read> hold(hold_conn);
    hold.exec("SELECT COUNT(*) FROM trials");  // Takes the snapshot.
    *leased = 0;
    for (int i = 0; i < 100; ++i) {
      absl::StatusOr<std::vector<LeasedTrial>> got = store_->LeaseTrials(
          worker, {absl::StrCat("lease-", i)}, kNow, kNow + absl::Seconds(30));
      EXPECT_THAT(got, IsOk());
      if (got.ok()) *leased += static_cast<int>(got->size());
    }
    const std::map<int64_t, int64_t> running = Pages(queued_search);
    int moved = 0;
    for (const auto& [id, page] : queued) moved += running.at(id) != page;
    return moved;
  }

  // Trial id -> heap page, for the trials of `search_id`.
  std::map<int64_t, int64_t> Pages(int64_t search_id) {
    pqxx::connection conn(uri_);
    pqxx::work txn(conn);
    std::map<int64_t, int64_t> out;
    for (const pqxx::row& r : txn.exec_params(
             "SELECT id, (ctid::text::point)[0]::bigint FROM trials "
             "WHERE search_id = $1",
             search_id)) {
      out[r[0].as<int64_t>()] = r[1].as<int64_t>();
    }
    return out;
  }
};

TEST_F(TrialPagesTest, LeasedTrialsStayOnTheirPage) {
  int leased = 0;
  const int moved = MovedByLeases(&leased);
  EXPECT_EQ(leased, 100);
  EXPECT_EQ(moved, 0) << "of " << leased << " leased trials, " << moved
                      << " got their new row version on another page";
}

TEST_F(TrialPagesTest, PackedPagesSendLeasedTrialsElsewhere) {
  // The measure above can fail: without migration 9's room, the same
  // leases move.
  {
    pqxx::connection conn(uri_);
    pqxx::work txn(conn);
    txn.exec("ALTER TABLE trials SET (fillfactor = 100)");
    txn.commit();
  }
  int leased = 0;
  const int moved = MovedByLeases(&leased);
  EXPECT_EQ(leased, 100);
  EXPECT_GE(moved, leased / 2) << "of " << leased << " leased trials, only "
                               << moved << " moved from a packed page";
}

TEST(PgTrialStoreMigrationTest, ConcurrentControllersMigrateOnce) {
  const std::string uri = PostgresEnvironment::NewDatabaseUri();
  std::vector<absl::Status> results(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<std::unique_ptr<PgTrialStore>> store =
          PgTrialStore::Create(uri);
      results[i] = store.ok() ? (*store)->Migrate() : store.status();
    });
  }
  for (std::thread& t : threads) t.join();
  for (const absl::Status& s : results) EXPECT_THAT(s, IsOk());
  pqxx::connection conn(uri);
  pqxx::work txn(conn);
  EXPECT_EQ(txn.exec1("SELECT COUNT(*) FROM schema_migrations")[0].as<int>(),
            static_cast<int>(SchemaMigrations().size()));
}

TEST(PgTrialStoreMigrationTest, CountersSurviveTheMoveToTheirOwnTable) {
  // A database at schema version 3 with a search and final trials in it,
  // counted by the row triggers of migration 3; migration 4 carries the
  // counts over and keeps counting by statement.
  const std::string uri = nas::testing::PostgresEnvironment::NewDatabaseUri();
  {
    pqxx::connection conn(uri);
    pqxx::work txn(conn);
    txn.exec(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
        "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
    for (const Migration& m : SchemaMigrations()) {
      if (m.version > 3) break;
      txn.exec(m.sql);
      txn.exec_params("INSERT INTO schema_migrations VALUES ($1, $2)",
                      m.version, std::string(m.name));
    }
    txn.exec(R"sql(
INSERT INTO searches (id, name, state, spec, spec_json, seed, policy, device,
  dataset, max_trials, max_attempts, max_infeasible, max_duration_s,
  created_ms)
VALUES (7, 'old', 2, '', '{}', 1, 'random', 'nrf52840', 'ecg5000', 10, 2,
  10, 0, 0))sql");
    txn.exec(R"sql(
INSERT INTO trials (search_id, number, state, arch, arch_hash, cache_key,
  metrics, accuracy, reward, created_ms, started_ms, finished_ms)
VALUES (7, 0, 3, '', 'h0', 'k0', '', 0.5, 0.5, 0, 1000, 3000),
       (7, 1, 3, '', 'h1', 'k1', '', 0.75, 0.7, 0, 1000, 2000),
       (7, 2, 4, '', 'h2', 'k2', '', NULL, NULL, 0, 1000, 2000),
       (7, 3, 1, '', 'h3', 'k3', '', NULL, NULL, 0, NULL, NULL))sql");
    txn.commit();
  }
  NAS_ASSERT_OK_AND_ASSIGN(auto store, PgTrialStore::Create(uri));
  NAS_ASSERT_OK(store->Migrate());
  NAS_ASSERT_OK_AND_ASSIGN(SearchRecord record, store->GetSearch(7));
  EXPECT_EQ(record.succeeded, 2);
  EXPECT_EQ(record.search.trials_failed(), 1);
  EXPECT_EQ(record.search.trials_pending(), 1);
  EXPECT_DOUBLE_EQ(record.mean_trial_seconds, 1.5);
  EXPECT_DOUBLE_EQ(record.search.best_accuracy(), 0.75);
  EXPECT_DOUBLE_EQ(record.search.best_reward(), 0.7);
  {
    pqxx::connection conn(uri);
    pqxx::work txn(conn);
    EXPECT_EQ(txn.exec1("SELECT id FROM trials WHERE number = 1")[0].as<int64_t>(),
              record.search.best_trial_id());
    // Migration 7: numbering goes on after the search's trials.
    EXPECT_EQ(txn.exec1("SELECT next_number FROM searches WHERE id = 7")[0]
                  .as<int>(),
              4);
    // Counted by the new triggers: a better trial and a cancelled one in
    // one statement.
    txn.exec(R"sql(
UPDATE trials SET state = CASE number WHEN 2 THEN 3 ELSE 7 END,
  accuracy = CASE number WHEN 2 THEN 0.9 END,
  reward = CASE number WHEN 2 THEN 0.95 END
WHERE number IN (2, 3))sql");
    txn.commit();
  }
  NAS_ASSERT_OK_AND_ASSIGN(record, store->GetSearch(7));
  EXPECT_EQ(record.succeeded, 3);
  EXPECT_EQ(record.search.trials_failed(), 0);
  EXPECT_EQ(record.cancelled, 1);
  EXPECT_EQ(record.search.trials_pending(), 0);
  EXPECT_DOUBLE_EQ(record.search.best_reward(), 0.95);
  EXPECT_DOUBLE_EQ(record.search.best_accuracy(), 0.9);
}

TEST(PgTrialStoreConnectTest, UnreachableDatabaseIsUnavailableAndRedacted) {
  EXPECT_THAT(PgTrialStore::Create("postgresql:///tinynas?host=/nonexistent"),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("cannot connect to database "
                                 "postgresql:///tinynas?host=/nonexistent")));
  absl::StatusOr<std::unique_ptr<PgTrialStore>> store =
      PgTrialStore::Create("postgresql://nas:s3cret@127.0.0.1:1/tinynas");
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kUnavailable,
                              AllOf(HasSubstr("nas:***@127.0.0.1:1"),
                                    Not(HasSubstr("s3cret")))));
}

TEST(PgTrialStoreReconnectTest, ReconnectsAfterTheDatabaseRestarts) {
  // A cluster of its own: restarting the shared one would disturb others.
  char dir[] = "/tmp/nasrcXXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string script =
      absl::StrCat(TINYNAS_SOURCE_DIR, "/scripts/pg_cluster.sh");
  // Stopped and removed however the test ends.
  absl::Cleanup remove_cluster = [&] {
    std::string ignored;
    nas::testing::RunCommand(
        absl::StrCat(script, " stop ", dir, "; rm -rf ", dir), &ignored);
  };
  std::string uri;
  ASSERT_EQ(
      nas::testing::RunCommand(absl::StrCat(script, " start ", dir), &uri), 0)
      << uri;
  uri = std::string(absl::StripTrailingAsciiWhitespace(uri));
  uri = uri.substr(uri.rfind('\n') + 1);
  NAS_ASSERT_OK_AND_ASSIGN(auto store, PgTrialStore::Create(uri, 1));
  NAS_ASSERT_OK(store->Migrate());
  NAS_ASSERT_OK(store->CreateSearch(Spec("before"), kNow).status());
  std::string output;
  ASSERT_EQ(nas::testing::RunCommand(absl::StrCat(script, " stop ", dir, " && ",
                                                  script, " start ", dir),
                                     &output),
            0)
      << output;
  // The pooled connection died with the server: one Unavailable at most,
  // then a fresh connection.
  absl::StatusOr<SearchRecord> first = store->GetSearch(1);
  if (!first.ok()) {
    EXPECT_THAT(first, StatusIs(absl::StatusCode::kUnavailable,
                                HasSubstr("connection")));
  }
  NAS_ASSERT_OK_AND_ASSIGN(SearchRecord again, store->GetSearch(1));
  EXPECT_EQ(again.search.name(), "before");
}

TEST_F(PgTrialStoreTest, InjectionShapedNamesAreStoredVerbatim) {
  const std::vector<std::string> names = {
      "'; DROP TABLE trials; --", "Robert'); DROP TABLE searches;--",
      "quote \" and back\\slash", "$1 $2 %s {}", "ünïcødé ✓"};
  std::vector<int64_t> ids;
  for (const std::string& name : names) ids.push_back(NewSearch(name));
  for (size_t i = 0; i < names.size(); ++i) {
    NAS_ASSERT_OK_AND_ASSIGN(SearchRecord record, store_->GetSearch(ids[i]));
    EXPECT_EQ(record.search.name(), names[i]);
    EXPECT_EQ(record.search.spec().name(), names[i]);
    EXPECT_EQ(record.search.spec().seed(), 18446744073709551615ULL);
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM trials"), 0);  // Still there.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM searches"), 5);
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<SearchRecord> listed,
                           store_->ListSearches(10));
  ASSERT_EQ(listed.size(), names.size());
  EXPECT_EQ(listed.front().search.name(), names.back());  // Newest first.
}

TEST_F(PgTrialStoreTest, UnknownIdsAreNotFound) {
  EXPECT_THAT(store_->GetSearch(12345),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("12345")));
  EXPECT_THAT(store_->GetTrial(777),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("777")));
  EXPECT_THAT(store_->InsertTrial(Candidate(999, v1::TRIAL_PENDING, "k"), kNow,
                                  nullptr),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("999")));
  EXPECT_THAT(store_->LeaseTrials(55, {"lease"}, kNow, kNow),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("worker 55")));
}

TEST_F(PgTrialStoreTest, TrialsAreNumberedAndInfeasibleStreakCounted) {
  const int64_t search = NewSearch();
  NewTrial bad = Candidate(search, v1::TRIAL_INFEASIBLE, "a");
  bad.violations = {"flash 2000000 B > limit 946176 B", "it's \"too\" big"};
  NAS_ASSERT_OK_AND_ASSIGN(v1::Trial t0,
                           store_->InsertTrial(bad, kNow, nullptr));
  bad.cache_key = "b";
  NAS_ASSERT_OK_AND_ASSIGN(v1::Trial t1,
                           store_->InsertTrial(bad, kNow, nullptr));
  EXPECT_EQ(t0.number(), 0);
  EXPECT_EQ(t1.number(), 1);
  EXPECT_THAT(t1.violations(), ElementsAre("flash 2000000 B > limit 946176 B",
                                           "it's \"too\" big"));
  NAS_ASSERT_OK_AND_ASSIGN(SearchRecord record, store_->GetSearch(search));
  EXPECT_EQ(record.infeasible_streak, 2);
  EXPECT_EQ(record.search.trials_infeasible(), 2);
  NAS_ASSERT_OK_AND_ASSIGN(
      v1::Trial t2,
      store_->InsertTrial(Candidate(search, v1::TRIAL_PENDING, "c"), kNow,
                          nullptr));
  EXPECT_EQ(t2.number(), 2);
  EXPECT_EQ(t2.metrics().flash_bytes(), 1000);
  NAS_ASSERT_OK_AND_ASSIGN(record, store_->GetSearch(search));
  EXPECT_EQ(record.infeasible_streak, 0);
  EXPECT_EQ(record.search.trials_pending(), 1);
}

TEST_F(PgTrialStoreTest, ProposalCounterAdvances) {
  const int64_t search = NewSearch();
  NAS_ASSERT_OK_AND_ASSIGN(int64_t first, store_->ReserveProposals(search, 3));
  NAS_ASSERT_OK_AND_ASSIGN(int64_t next, store_->ReserveProposals(search, 2));
  EXPECT_EQ(first, 0);
  EXPECT_EQ(next, 3);
}

TEST_F(PgTrialStoreTest, ANetworkIsNeverQueuedTwiceOrAfterItsResult) {
  const int64_t a = NewSearch("a");
  const int64_t b = NewSearch("b");
  const int64_t worker = NewWorker("w1");
  NAS_ASSERT_OK(
      store_
          ->InsertTrial(Candidate(a, v1::TRIAL_PENDING, "same"), kNow, nullptr)
          .status());
  EXPECT_THAT(
      store_->InsertTrial(Candidate(b, v1::TRIAL_PENDING, "same"), kNow,
                          nullptr),
      StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("being trained")));
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<LeasedTrial> leased,
                           store_->LeaseTrials(worker, {"l1"}, kNow, kNow));
  ASSERT_EQ(leased.size(), 1u);
  NAS_ASSERT_OK_AND_ASSIGN(std::optional<v1::Trial> none,
                           store_->FindCachedResult("same"));
  EXPECT_FALSE(none.has_value());
  TrialOutcome outcome;
  outcome.metrics.set_accuracy(0.8);
  NAS_ASSERT_OK(store_
                    ->CompleteTrial(leased[0].trial.id(), worker, "l1", outcome,
                                    kNow, nullptr)
                    .status());
  EXPECT_THAT(
      store_->InsertTrial(Candidate(b, v1::TRIAL_PENDING, "same"), kNow,
                          nullptr),
      StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("already trained")));
  NAS_ASSERT_OK_AND_ASSIGN(std::optional<v1::Trial> cached,
                           store_->FindCachedResult("same"));
  ASSERT_TRUE(cached.has_value());
  EXPECT_EQ(cached->id(), leased[0].trial.id());
  // A CACHED copy points at its source and shares its model.
  NewTrial copy = Candidate(b, v1::TRIAL_CACHED, "same");
  copy.cached_from = cached->id();
  copy.reward = 0.8;
  copy.metrics.set_accuracy(0.8);
  NAS_ASSERT_OK_AND_ASSIGN(v1::Trial stored,
                           store_->InsertTrial(copy, kNow, nullptr));
  EXPECT_EQ(stored.state(), v1::TRIAL_CACHED);
  EXPECT_EQ(stored.cached_from_trial_id(), cached->id());
  EXPECT_FALSE(stored.has_model());
  EXPECT_THAT(store_->GetModel(stored.id()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("no trained model")));
}

TEST_F(PgTrialStoreTest, Int8ModelsAreStoredAndSharedByCachedCopies) {
  const int64_t a = NewSearch("a");
  const int64_t worker = NewWorker("w1");
  NAS_ASSERT_OK(
      store_->InsertTrial(Candidate(a, v1::TRIAL_PENDING, "k8"), kNow, nullptr)
          .status());
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<LeasedTrial> leased,
                           store_->LeaseTrials(worker, {"l8"}, kNow, kNow));
  ASSERT_EQ(leased.size(), 1u);
  TrialOutcome outcome;
  outcome.metrics.set_accuracy(0.9);
  outcome.metrics.set_int8(true);
  outcome.metrics.set_accuracy_int8(0.85);
  outcome.reward = 0.85;
  outcome.model = "torchscript";
  v1::QuantizedModel int8;
  int8.set_format_version(1);
  int8.set_arena_bytes(576);
  int8.set_test_inputs(std::string("\x80\0\x7f", 3));
  outcome.int8_model = int8.SerializeAsString();
  NAS_ASSERT_OK(store_
                    ->CompleteTrial(leased[0].trial.id(), worker, "l8", outcome,
                                    kNow, nullptr)
                    .status());
  NAS_ASSERT_OK_AND_ASSIGN(std::string bytes,
                           store_->GetModel(leased[0].trial.id(), v1::INT8));
  v1::QuantizedModel read;
  ASSERT_TRUE(read.ParseFromString(bytes));
  EXPECT_EQ(read.arena_bytes(), 576);
  EXPECT_EQ(read.test_inputs(), std::string("\x80\0\x7f", 3));
  EXPECT_THAT(store_->GetModel(leased[0].trial.id()), HoldsValue("torchscript"));
  // The search's best accuracy is the int8 model's: the one that ships.
  NAS_ASSERT_OK_AND_ASSIGN(SearchRecord record, store_->GetSearch(a));
  EXPECT_DOUBLE_EQ(record.search.best_accuracy(), 0.85);

  NewTrial copy = Candidate(a, v1::TRIAL_CACHED, "k8");
  copy.cached_from = leased[0].trial.id();
  copy.metrics = outcome.metrics;
  copy.reward = 0.85;
  NAS_ASSERT_OK_AND_ASSIGN(v1::Trial stored,
                           store_->InsertTrial(copy, kNow, nullptr));
  EXPECT_THAT(store_->GetModel(stored.id(), v1::INT8), HoldsValue(bytes));
}

TEST_F(PgTrialStoreTest, CancelStopsQueueAndTellsRunningTrials) {
  const int64_t search = NewSearch();
  const int64_t worker = NewWorker("w1");
  for (const char* key : {"k1", "k2"}) {
    NAS_ASSERT_OK(store_
                      ->InsertTrial(Candidate(search, v1::TRIAL_PENDING, key),
                                    kNow, nullptr)
                      .status());
  }
  NAS_ASSERT_OK(store_->LeaseTrials(worker, {"l1"}, kNow, kNow).status());
  NAS_ASSERT_OK(store_->CancelSearch(search, kNow));
  NAS_ASSERT_OK(store_->CancelSearch(search, kNow));  // Idempotent.
  NAS_ASSERT_OK_AND_ASSIGN(SearchRecord record, store_->GetSearch(search));
  EXPECT_EQ(record.search.state(), v1::SEARCH_CANCELLED);
  EXPECT_EQ(record.search.trials_pending(), 0);
  EXPECT_EQ(record.cancelled, 1);
  EXPECT_THAT(store_->Heartbeat(worker, {"l1"}, kNow, kNow),
              HoldsValue(ElementsAre(HeldWith(LeaseStatus::kCancelled))));
  NAS_ASSERT_OK_AND_ASSIGN(record, store_->GetSearch(search));
  EXPECT_EQ(record.cancelled, 2);
  EXPECT_THAT(store_->FinishSearch(search, v1::SEARCH_SUCCEEDED, "", kNow),
              HoldsValue(false));
  EXPECT_THAT(store_->InsertTrial(Candidate(search, v1::TRIAL_PENDING, "k3"),
                                  kNow, nullptr),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("no longer running")));

  const int64_t done = NewSearch("done");
  NAS_ASSERT_OK(
      store_->FinishSearch(done, v1::SEARCH_SUCCEEDED, "ok", kNow).status());
  EXPECT_THAT(store_->CancelSearch(done, kNow),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("already SEARCH_SUCCEEDED")));
}

}  // namespace
}  // namespace nas::controller
