// A network cut between the real nas-controller and one real worker. The
// test makes a network namespace and a veth pair on 10.231.N.0/30 (names
// and N from the test's pid): the controller listens on the root side, one
// worker runs inside the namespace (ip netns exec), another in the root
// namespace. The namespace side of the link is cut mid-trial and restored:
// once for less than the lease TTL (the trial stays with its worker), once
// for longer (the trial is handed on and the cut-off worker's late report is
// refused). Everything is removed at the end, also on failure. Needs root
// or CAP_NET_ADMIN; without, the test is skipped and says so.
#include <unistd.h>

#include <iostream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "tests/e2e/fault_fixture.h"
#include "tests/integration/pg_environment.h"
#include "tests/integration/subprocess.h"
#include "tests/status_matchers.h"

namespace nas::testing {
namespace {

class NetworkCutTest : public FaultTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(FaultTest::SetUp());
    const int pid = static_cast<int>(getpid());
    netns_ = absl::StrCat("nasf", pid);
    root_link_ = absl::StrCat("nfr", pid);
    ns_link_ = absl::StrCat("nfn", pid);
    const std::string subnet = absl::StrCat("10.231.", pid % 250, ".");
    listen_host_ = subnet + "1";
    std::string out;
    if (RunCommand("ip netns add " + netns_, &out) != 0) {
      // The README's test command runs as root; a machine that cannot make
      // a namespace cannot run this test, and that is a failure, not a skip.
      if (geteuid() != 0 || absl::StrContains(out, "not permitted")) {
        FAIL() << "network namespaces are not permitted on this machine "
                  "(needs root or CAP_NET_ADMIN): "
               << out;
      }
      FAIL() << "ip netns add " << netns_ << ": " << out;
    }
    made_ = true;
    for (const std::string& command : {
             absl::StrCat("ip link add ", root_link_, " type veth peer name ",
                          ns_link_),
             absl::StrCat("ip link set ", ns_link_, " netns ", netns_),
             absl::StrCat("ip addr add ", subnet, "1/30 dev ", root_link_),
             absl::StrCat("ip link set ", root_link_, " up"),
             absl::StrCat("ip -n ", netns_, " addr add ", subnet, "2/30 dev ",
                          ns_link_),
             absl::StrCat("ip -n ", netns_, " link set ", ns_link_, " up"),
             absl::StrCat("ip -n ", netns_, " link set lo up")}) {
      ASSERT_EQ(RunCommand(command, &out), 0) << command << ": " << out;
    }
  }

  void TearDown() override {
    FaultTest::TearDown();  // Ends the processes first.
    if (!made_) return;
    std::string out;
    RunCommand("ip netns del " + netns_, &out);  // Takes its veth end along.
    RunCommand("ip link del " + root_link_, &out);
    EXPECT_NE(RunCommand("ip netns list | grep -qw " + netns_, &out), 0)
        << "namespace " << netns_ << " left behind";
  }

  void SetLink(bool up) {
    std::string out;
    const std::string command = absl::StrCat(
        "ip -n ", netns_, " link set ", ns_link_, up ? " up" : " down");
    ASSERT_EQ(RunCommand(command, &out), 0) << command << ": " << out;
  }

  std::string netns_, root_link_, ns_link_;
  bool made_ = false;
};

TEST_F(NetworkCutTest, WorkerCutOffShortlyKeepsItsTrialAndLongerLosesIt) {
  lease_ttl_ms_ = 6000;
  heartbeat_ms_ = 250;
  ASSERT_NO_FATAL_FAILURE(StartController());
  const int cut = StartWorker("cut-ns", address_, netns_);
  StartWorker("cut-root");
  ASSERT_GE(cut, 0);
  FaultSpec spec;
  spec.name = "network-cut";
  spec.max_trials = 36;
  // Trials of ~1 s (the latency measurement, at its limit), so that a
  // trial found under 300 ms old is still running when the link goes down:
  // with 0.1 s trials on an idle machine the report could reach the
  // controller just before the long cut, and the trial was never handed on
  // (seen in a fresh-clone run).
  spec.latency_runs = 10000;
  NAS_ASSERT_OK_AND_ASSIGN(v1::Search search, Submit(FaultSpecYaml(spec)));

  // A cut shorter than the lease TTL: the trial stays with its worker.
  const TrialRow kept =
      WaitForRunning(search.id(), "cut-ns", absl::ZeroDuration(),
                     absl::Milliseconds(300), absl::Seconds(60));
  ASSERT_NE(kept.id, 0) << "the namespaced worker ran no trial within 60 s";
  ASSERT_NO_FATAL_FAILURE(SetLink(false));
  // Longer than the workers' RPC deadline (2 s), so calls fail.
  absl::SleepFor(absl::Milliseconds(2500));
  ASSERT_NO_FATAL_FAILURE(SetLink(true));
  TrialRow row;
  ASSERT_TRUE(WaitUntil(
      [&] {
        row = Trial(kept.id);
        return row.state != v1::TRIAL_RUNNING;
      },
      absl::Seconds(30)));
  EXPECT_EQ(row.state, v1::TRIAL_SUCCEEDED);
  EXPECT_EQ(row.worker, "cut-ns") << "a short cut cost the worker its trial";
  EXPECT_EQ(row.attempts, 1);
  EXPECT_TRUE(absl::StrContains(Slurp(workers_[cut].log), "Heartbeat failed"))
      << "the cut did not reach the worker";

  // A cut longer than the TTL: the link comes back once the lease has
  // expired and the trial has gone to the other worker.
  // A trial the namespaced worker runs: RUNNING under it and in its log. A
  // task leased with the answer to a report that the first cut swallowed is
  // RUNNING under it too, but never reached it (its lease just expires).
  TrialRow lost;
  const absl::Time look_until = absl::Now() + absl::Seconds(60);
  while (lost.id == 0 && absl::Now() < look_until) {
    const TrialRow t =
        WaitForRunning(search.id(), "cut-ns", absl::ZeroDuration(),
                       absl::Milliseconds(300), absl::Seconds(5));
    if (t.id != 0 && LoggedReports("leased").count(t.id) > 0) lost = t;
  }
  ASSERT_NE(lost.id, 0) << "the namespaced worker ran no second trial";
  const absl::Time cut_at = absl::Now();
  ASSERT_NO_FATAL_FAILURE(SetLink(false));
  const bool handed_on = WaitUntil(
      [&] {
        row = Trial(lost.id);
        return row.worker == "cut-root";  // Not just back in the queue.
      },
      absl::Seconds(30));
  const absl::Duration cut_for = absl::Now() - cut_at;
  ASSERT_NO_FATAL_FAILURE(SetLink(true));
  const int64_t restored_ms = absl::ToUnixMillis(absl::Now());
  ASSERT_TRUE(handed_on) << "the cut-off worker's lease did not expire";
  // The cut-off worker carries on: it reaches the controller again (its
  // heartbeats and leases refresh its row). Whether work is left for it
  // depends on how fast the other worker trains meanwhile.
  EXPECT_TRUE(WaitUntil(
      [&] {
        pqxx::connection conn(db_uri_);
        pqxx::work txn(conn);
        return txn
                   .exec_params1(
                       "SELECT last_seen_ms FROM workers WHERE name = $1",
                       "cut-ns")[0]
                   .as<int64_t>() > restored_ms;
      },
      absl::Seconds(20)))
      << "the cut-off worker did not come back";
  // The lease ran from the last heartbeat before the cut.
  EXPECT_GT(cut_for, absl::Milliseconds(lease_ttl_ms_ - heartbeat_ms_));
  ASSERT_TRUE(WaitUntil(
      [&] {
        row = Trial(lost.id);
        return row.state == v1::TRIAL_SUCCEEDED;
      },
      absl::Seconds(30)))
      << "the handed-on trial did not finish";
  EXPECT_EQ(row.worker, "cut-root");
  EXPECT_EQ(row.attempts, 2);
  const std::string stored = TrialJson(lost.id);
  // The cut-off worker finished the trial during the cut and reports it
  // once it reaches the controller again: refused, nothing changes.
  // (Were its heartbeat answered first, the report would still come: the
  // trial is done by then.)
  ASSERT_TRUE(WaitUntil([&] { return LoggedReports("stale").count(lost.id); },
                        absl::Seconds(30)))
      << "the cut-off worker's late report was not refused as stale";
  EXPECT_EQ(TrialJson(lost.id), stored);

  const v1::Search ended = WaitForEnd(search.id(), absl::Seconds(90));
  ASSERT_EQ(ended.state(), v1::SEARCH_SUCCEEDED) << ended.ShortDebugString();
  Accounting accounting{spec.max_trials};
  // A lease reply lost in a cut leaves a lease no worker logged.
  accounting.leases_logged_exactly = false;
  ExpectEveryTrialAccountedFor(search.id(), accounting);
  int after_restore = 0;
  for (const TrialRow& t : Trials(search.id())) {
    after_restore += t.worker == "cut-ns" && t.started_ms > restored_ms &&
                     t.state == v1::TRIAL_SUCCEEDED;
  }
  std::cout << "short cut: trial " << kept.id << " kept; long cut of "
            << cut_for << ": trial " << lost.id << " handed on, late report "
            << "refused; the cut-off worker trained " << after_restore
            << " more" << std::endl;
}

}  // namespace
}  // namespace nas::testing
