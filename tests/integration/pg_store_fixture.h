#ifndef NAS_TESTS_INTEGRATION_PG_STORE_FIXTURE_H_
#define NAS_TESTS_INTEGRATION_PG_STORE_FIXTURE_H_

// What the PgTrialStore tests share: a store migrated on a fresh database of
// the test cluster, and small builders of searches, workers and candidates.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/store/pg_trial_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "tests/integration/pg_environment.h"
#include "tests/status_matchers.h"

namespace nas::controller {

// A lease a heartbeat found with this status.
inline auto HeldWith(LeaseStatus status) {
  return ::testing::Field("status", &HeldLease::status, status);
}

// The StatusOr holds a value that matches `matcher`.
MATCHER_P(HoldsValue, matcher, "") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status().ToString();
    return false;
  }
  return ::testing::ExplainMatchResult(matcher, *arg, result_listener);
}

inline const absl::Time kNow = absl::FromUnixSeconds(1700000000);

inline v1::SearchSpec Spec(const std::string& name, int max_attempts = 2) {
  v1::SearchSpec spec;
  spec.set_name(name);
  spec.set_device("nrf52840");
  spec.set_policy("random");
  spec.set_seed(18446744073709551615ULL);  // Largest uint64 round-trips.
  spec.mutable_dataset()->set_name("ecg5000");
  spec.mutable_budget()->set_max_trials(5);
  spec.mutable_budget()->set_max_attempts(max_attempts);
  spec.mutable_budget()->set_max_infeasible(10);
  return spec;
}

inline NewTrial Candidate(int64_t search_id, v1::TrialState state,
                          const std::string& key) {
  NewTrial t;
  t.search_id = search_id;
  t.state = state;
  v1::Layer* layer = t.architecture.add_layers();
  layer->set_type(v1::LINEAR);
  layer->set_out(5);
  t.arch_hash = "hash-" + key;
  t.cache_key = key;
  t.metrics.set_params(705);
  t.metrics.set_flash_bytes(1000);
  return t;
}

class PgTrialStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    uri_ = nas::testing::PostgresEnvironment::NewDatabaseUri();
    NAS_ASSERT_OK_AND_ASSIGN(store_, PgTrialStore::Create(uri_));
    NAS_ASSERT_OK(store_->Migrate());
  }

  // Runs a single-value SQL query on the test's database.
  int64_t Count(const std::string& sql) {
    pqxx::connection conn(uri_);
    pqxx::work txn(conn);
    return txn.exec1(sql)[0].as<int64_t>();
  }

  int64_t NewSearch(const std::string& name = "s", int max_attempts = 2) {
    absl::StatusOr<int64_t> id =
        store_->CreateSearch(Spec(name, max_attempts), kNow);
    EXPECT_THAT(id, nas::testing::IsOk());
    return id.value_or(0);
  }

  int64_t NewWorker(const std::string& name, int slots = 2) {
    absl::StatusOr<int64_t> id =
        store_->RegisterWorker({0, name, "cpu", slots, 1 << 30}, kNow);
    EXPECT_THAT(id, nas::testing::IsOk());
    return id.value_or(0);
  }

  std::string uri_;
  std::unique_ptr<PgTrialStore> store_;
};

}  // namespace nas::controller

#endif  // NAS_TESTS_INTEGRATION_PG_STORE_FIXTURE_H_
