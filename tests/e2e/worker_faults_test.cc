// Workers that die or hang mid-trial, against the real nas-controller, real
// nas-worker processes training on ECG5000 and a real PostgreSQL: the lease
// expires, the trial is handed to another worker, a late report changes
// nothing, and the search ends with every trial accounted for.
#include <signal.h>

#include <iostream>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/e2e/fault_fixture.h"
#include "tests/status_matchers.h"

namespace nas::testing {
namespace {

class WorkerFaultTest : public FaultTest {};

TEST_F(WorkerFaultTest, KilledWorkersTrialIsHandedOnAndTheSearchEnds) {
  ASSERT_NO_FATAL_FAILURE(StartController());
  const int victim = StartWorker("kill-victim");
  StartWorker("kill-survivor");
  FaultSpec spec;
  spec.name = "worker-kill";
  spec.max_trials = 6;
  NAS_ASSERT_OK_AND_ASSIGN(v1::Search search, Submit(FaultSpecYaml(spec)));

  // A trial the victim started under 300 ms ago: training takes about a
  // second, so the kill lands while it holds the lease.
  const TrialRow held =
      WaitForRunning(search.id(), "kill-victim", absl::ZeroDuration(),
                     absl::Milliseconds(300), absl::Seconds(60));
  ASSERT_NE(held.id, 0) << "the victim ran no trial within 60 s";
  ASSERT_NO_FATAL_FAILURE(SignalWorker(victim, SIGKILL));
  const TrialRow at_kill = Trial(held.id);
  ASSERT_EQ(at_kill.state, v1::TRIAL_RUNNING)
      << "the victim finished before the kill; the test proves nothing";
  ASSERT_EQ(at_kill.lease_id, held.lease_id);

  const v1::Search ended = WaitForEnd(search.id(), absl::Seconds(90));
  ASSERT_EQ(ended.state(), v1::SEARCH_SUCCEEDED) << ended.ShortDebugString();
  const TrialRow after = Trial(held.id);
  EXPECT_EQ(after.state, v1::TRIAL_SUCCEEDED);
  EXPECT_EQ(after.attempts, 2) << "the expired lease was not handed on once";
  EXPECT_EQ(after.worker, "kill-survivor");
  EXPECT_NE(after.lease_id, held.lease_id);
  ExpectEveryTrialAccountedFor(search.id(), {spec.max_trials});
  std::cout << "trial " << held.id << " killed with worker, finished by "
            << after.worker << " after " << after.attempts << " attempts"
            << std::endl;
}

TEST_F(WorkerFaultTest, HungWorkerIsPassedOverAndItsLateReportRefused) {
  ASSERT_NO_FATAL_FAILURE(StartController());
  const int hung = StartWorker("hang-victim");
  StartWorker("hang-other");
  // Almost all of a trial is measurement after training (10,000 latency
  // runs), which a stop request does not cut short: a worker woken there
  // finishes the trial and reports it although it lost the lease.
  FaultSpec spec;
  spec.name = "worker-hang";
  // Enough that trials remain once the hung trial is handed on: the other
  // worker trains a few a second through the lease's expiry (12 were all
  // done before the victim woke, once).
  spec.max_trials = 40;
  spec.train_subset = 64;
  spec.epochs = 1;
  spec.latency_runs = 10000;
  NAS_ASSERT_OK_AND_ASSIGN(v1::Search search, Submit(FaultSpecYaml(spec)));

  // Stop the victim amid the measurement of a trial: not its first, whose
  // start loads the data set (a stop request is honoured after that), and
  // 200 ms in, when its few training steps are over. If the trial ended
  // just before the SIGSTOP landed, wake it and try the next one.
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (const TrialRow& t : Trials(search.id())) {
          if (t.worker == "hang-victim" && t.state == v1::TRIAL_SUCCEEDED) {
            return true;
          }
        }
        return false;
      },
      absl::Seconds(60)))
      << "the victim finished no trial within 60 s";
  TrialRow held;
  for (int tries = 0; tries < 5 && held.id == 0; ++tries) {
    const TrialRow running =
        WaitForRunning(search.id(), "hang-victim", absl::Milliseconds(200),
                       absl::Milliseconds(1000), absl::Seconds(60));
    ASSERT_NE(running.id, 0) << "the victim ran no trial within 60 s";
    ASSERT_NO_FATAL_FAILURE(SignalWorker(hung, SIGSTOP));
    const TrialRow now = Trial(running.id);
    if (now.state == v1::TRIAL_RUNNING && now.lease_id == running.lease_id) {
      held = running;
    } else {
      ASSERT_NO_FATAL_FAILURE(SignalWorker(hung, SIGCONT));
    }
  }
  ASSERT_NE(held.id, 0) << "could not stop the victim amid a trial";

  // No heartbeat: the lease expires and the other worker trains the trial.
  TrialRow handed;
  ASSERT_TRUE(WaitUntil(
      [&] {
        handed = Trial(held.id);
        return handed.state == v1::TRIAL_SUCCEEDED;
      },
      absl::Seconds(30)))
      << "the hung worker's trial was not finished by another worker";
  EXPECT_EQ(handed.worker, "hang-other");
  EXPECT_EQ(handed.attempts, 2);
  EXPECT_NE(handed.lease_id, held.lease_id);
  const std::string stored = TrialJson(held.id);

  int final_trials = 0;
  for (const TrialRow& t : Trials(search.id())) {
    final_trials += t.state != v1::TRIAL_PENDING && t.state != v1::TRIAL_RUNNING;
  }
  ASSERT_LE(final_trials, spec.max_trials - 8)
      << "the search is nearly over before the victim wakes: it could not "
         "show that the woken worker carries on";
  const int64_t woken_ms = absl::ToUnixMillis(absl::Now());
  ASSERT_NO_FATAL_FAILURE(SignalWorker(hung, SIGCONT));
  // The woken worker finishes its measurement and reports: refused.
  ASSERT_TRUE(WaitUntil([&] { return LoggedReports("stale").count(held.id); },
                        absl::Seconds(30)))
      << "the woken worker's late report was not refused as stale";
  EXPECT_EQ(TrialJson(held.id), stored) << "a refused report changed the trial";

  const v1::Search ended = WaitForEnd(search.id(), absl::Seconds(90));
  ASSERT_EQ(ended.state(), v1::SEARCH_SUCCEEDED) << ended.ShortDebugString();
  EXPECT_EQ(TrialJson(held.id), stored);
  ExpectEveryTrialAccountedFor(search.id(), {spec.max_trials});
  // The woken worker carried on: it trained trials after it woke.
  int after_waking = 0;
  for (const TrialRow& t : Trials(search.id())) {
    if (t.worker == "hang-victim" && t.started_ms > woken_ms &&
        t.state == v1::TRIAL_SUCCEEDED) {
      ++after_waking;
    }
  }
  EXPECT_GE(after_waking, 1) << "the woken worker trained nothing more";
  std::cout << "trial " << held.id << " handed on while its worker hung; late "
            << "report refused; the woken worker trained " << after_waking
            << " more (" << final_trials << " of " << spec.max_trials
            << " trials were final when it woke)" << std::endl;
}

}  // namespace
}  // namespace nas::testing
