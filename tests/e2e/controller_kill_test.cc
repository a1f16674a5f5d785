// The real nas-controller SIGKILLed at random moments of a random-policy
// search and started again on the same port, four times, while two real
// workers train on ECG5000 (resume_test does the same for the learning
// policies and checks their stored state; this test checks the trial
// accounting). Workers keep their results through the outages and deliver
// them to the next controller.
#include <signal.h>

#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/e2e/fault_fixture.h"
#include "tests/status_matchers.h"

namespace nas::testing {
namespace {

constexpr int kKills = 4;

class ControllerKillTest : public FaultTest {};

TEST_F(ControllerKillTest, RandomSearchSurvivesRepeatedControllerKills) {
  lease_ttl_ms_ = 3000;
  heartbeat_ms_ = 300;
  ASSERT_NO_FATAL_FAILURE(StartController());
  StartWorker("ckill-w0");
  StartWorker("ckill-w1");
  FaultSpec spec;
  spec.name = "controller-kill";
  // Room for every kill: up to 18 results landed between two once workers
  // reached a restarted controller within half a second, and 40 ran out.
  spec.max_trials = 100;
  spec.train_subset = 200;
  NAS_ASSERT_OK_AND_ASSIGN(v1::Search search, Submit(FaultSpecYaml(spec)));

  const uint64_t seed = absl::ToUnixNanos(absl::Now());
  std::mt19937_64 rng(seed);
  SCOPED_TRACE(absl::StrCat("kill-time seed ", seed));
  int finished_at_last_kill = 0;
  for (int kill_number = 0; kill_number < kKills; ++kill_number) {
    // Each controller records at least one result, then dies 0 .. 400 ms
    // later: amid a lease, a heartbeat, a report's commit or a proposal.
    ASSERT_NO_FATAL_FAILURE(
        WaitForResults(search.id(), finished_at_last_kill + 1));
    absl::SleepFor(absl::Milliseconds(rng() % 400));
    ASSERT_NO_FATAL_FAILURE(KillController());
    finished_at_last_kill = FinishedTrials(search.id());
    std::cout << "kill " << kill_number << ": " << finished_at_last_kill
              << " trials finished" << std::endl;
    // Down for up to a second, while the workers' calls fail.
    absl::SleepFor(absl::Milliseconds(rng() % 1000));
    ASSERT_NO_FATAL_FAILURE(StartController());
  }

  const v1::Search ended = WaitForEnd(search.id(), absl::Seconds(120));
  ASSERT_EQ(ended.state(), v1::SEARCH_SUCCEEDED) << ended.ShortDebugString();
  Accounting accounting{spec.max_trials};
  // A lease committed just before a kill never reached its worker.
  accounting.leases_logged_exactly = false;
  ExpectEveryTrialAccountedFor(search.id(), accounting);
}

TEST_F(ControllerKillTest, DownLongerThanTheLeaseTtlHandsNoTrialOn) {
  // Workers train on while no controller runs; the next one lets every
  // running lease run a lease TTL from its start before expiring any, so
  // the trials they held are not handed on (a restart of a Kubernetes pod
  // easily outlasts a lease). The workers' channels reach the new
  // controller about 0.5 s after it serves.
  v1::Search search;
  std::vector<TrialRow> held;
  ASSERT_NO_FATAL_FAILURE(
      StartSearchUntilEveryWorkerIsBusy("controller-down", 2000, &search, &held));
  ASSERT_NO_FATAL_FAILURE(KillController());
  absl::SleepFor(absl::Seconds(5));  // Over two lease TTLs.
  ASSERT_NO_FATAL_FAILURE(StartController());
  ExpectEndKeepingHeldLeases(search, held,
                             "5 s without a controller (lease TTL 2 s)");
}

}  // namespace
}  // namespace nas::testing
