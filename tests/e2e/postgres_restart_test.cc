// PostgreSQL stopped (pg_ctl stop -m fast) and started again, twice, during
// a search run by the real nas-controller and two real workers. The test
// has a cluster of its own (the ctest one is shared). The controller must
// stay up and reconnect, the workers must keep the results they could not
// deliver and retry until they are accepted, and the search must end with
// every trial accounted for.
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/e2e/fault_fixture.h"
#include "tests/integration/subprocess.h"
#include "tests/status_matchers.h"

namespace nas::testing {
namespace {

constexpr int kOutages = 2;
constexpr absl::Duration kOutage = absl::Seconds(2);

class PostgresRestartTest : public FaultTest {};

// Lines of `text` that contain `needle`.
int CountLines(const std::string& text, const std::string& needle) {
  int n = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    n += absl::StrContains(line, needle);
  }
  return n;
}

TEST_F(PostgresRestartTest, ControllerReconnectsAndWorkersKeepTheirResults) {
  ASSERT_NO_FATAL_FAILURE(UseOwnPostgres());
  // Longer than an outage and the workers' retry backoff after it, so the
  // outage itself expires no lease.
  lease_ttl_ms_ = 6000;
  heartbeat_ms_ = 300;
  ASSERT_NO_FATAL_FAILURE(StartController());
  StartWorker("pg-w0");
  StartWorker("pg-w1");
  FaultSpec spec;
  spec.name = "postgres-restart";
  spec.max_trials = 12;
  NAS_ASSERT_OK_AND_ASSIGN(v1::Search search, Submit(FaultSpecYaml(spec)));

  int finished = 0;
  for (int outage = 0; outage < kOutages; ++outage) {
    ASSERT_NO_FATAL_FAILURE(WaitForResults(search.id(), finished + 2));
    ASSERT_NO_FATAL_FAILURE(StopPostgres());
    // Trials finish meanwhile; their reports cannot be committed.
    absl::SleepFor(kOutage);
    ASSERT_TRUE(ControllerAlive()) << "the controller exited without its "
                                      "database";
    ASSERT_NO_FATAL_FAILURE(StartPostgres());
    finished = FinishedTrials(search.id());
    std::cout << "outage " << outage << " over: " << finished
              << " trials finished" << std::endl;
  }

  const v1::Search ended = WaitForEnd(search.id(), absl::Seconds(120));
  ASSERT_EQ(ended.state(), v1::SEARCH_SUCCEEDED) << ended.ShortDebugString();
  EXPECT_TRUE(ControllerAlive());
  Accounting accounting{spec.max_trials};
  // A lease whose commit was cut by the shutdown may or may not count.
  accounting.leases_logged_exactly = false;
  ExpectEveryTrialAccountedFor(search.id(), accounting);

  // The outages hit reports (kept and retried) and the controller's rounds.
  int retried = 0;
  for (const WorkerProcess& w : workers_) {
    retried += CountLines(Slurp(w.log), "keeping the result and retrying");
  }
  EXPECT_GE(retried, 1) << "no report met an outage; the test proved little";
  std::cout << retried << " report deliveries retried across " << kOutages
            << " outages of " << kOutage << std::endl;
}

TEST_F(PostgresRestartTest, OutageLongerThanTheLeaseTtlHandsNoTrialOn) {
  // Workers train on while the database is away, their heartbeats failing;
  // once it is back the controller lets every running lease run a lease
  // TTL before expiring any, so the trials they held are not handed to
  // another worker and their results are not refused as stale.
  ASSERT_NO_FATAL_FAILURE(UseOwnPostgres());
  v1::Search search;
  std::vector<TrialRow> held;
  ASSERT_NO_FATAL_FAILURE(
      StartSearchUntilEveryWorkerIsBusy("pg-long", 1500, &search, &held));
  ASSERT_NO_FATAL_FAILURE(StopPostgres());
  absl::SleepFor(absl::Seconds(4));  // Over two lease TTLs.
  ASSERT_NO_FATAL_FAILURE(StartPostgres());
  ExpectEndKeepingHeldLeases(search, held, "a 4 s outage (lease TTL 1.5 s)");
  // The rounds that failed meanwhile (about eight) are logged once, and
  // their end once.
  const std::string log = Slurp(dir_ + "/controller.log");
  EXPECT_EQ(CountLines(log, "scheduler round failed"), 1);
  EXPECT_EQ(CountLines(log, "scheduler rounds succeed again"), 1);
}

}  // namespace
}  // namespace nas::testing
