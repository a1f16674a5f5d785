#ifndef NAS_TESTS_E2E_FAULT_FIXTURE_H_
#define NAS_TESTS_E2E_FAULT_FIXTURE_H_

// What the fault tests share: the real nas-controller and nas-worker binaries
// as child processes on a real PostgreSQL (the ctest cluster, or a cluster of
// the test's own that it may stop), a SearchService client, direct reads of
// the stored rows, and the final accounting of a search's trials.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "proto/nas.grpc.pb.h"

namespace nas::testing {

// The flags of one nas-controller run.
struct ControllerFlags {
  std::string db_uri;
  std::string listen;     // host:port (port 0: any)
  std::string port_file;  // Where the bound port is written.
  std::string metrics_port_file;  // Where the bound metrics port is written.
  int lease_ttl_ms = 2000;
  int heartbeat_ms = 200;
};

// The argv (after argv[0]) of the binaries the fault tests launch, built in
// one place each so that a new mandatory flag is a one-line change.
std::vector<std::string> ControllerArgs(const ControllerFlags& flags);
std::vector<std::string> WorkerArgs(const std::string& controller,
                                    const std::string& name,
                                    const std::string& metrics_port_file);

// A small ECG5000 search: a few epochs on a training subset, so that a
// trial takes about a second on one core (long enough to be caught
// mid-trial). `latency_runs` lengthens the part of a
// trial after training (measurements that a stop request does not cut
// short).
struct FaultSpec {
  std::string name = "fault";
  std::string policy = "random";
  int max_trials = 6;
  int max_attempts = 5;
  int train_subset = 400;  // 0: the whole training split.
  int epochs = 6;
  int latency_runs = 20;
  std::string policy_options;  // YAML lines of the policy's own section.
};
std::string FaultSpecYaml(const FaultSpec& spec);

// What the final accounting may expect of the logs.
struct Accounting {
  int max_trials = 0;
  // Leases as logged by the workers equal each trial's attempts. Off when a
  // lease reply can be lost (controller killed, network cut, workers driven
  // by the test).
  bool leases_logged_exactly = true;
  // Every trained trial has one accepted report in the worker logs (or a
  // duplicate refusal of the same lease, when the first reply was lost).
  bool reports_logged = true;
};

// A running real worker.
struct WorkerProcess {
  std::string name;
  pid_t pid = -1;
  std::string log;
  std::string metrics_port_file;  // Holds its /metrics port once it serves.
};

// A trial row as PostgreSQL holds it.
struct TrialRow {
  int64_t id = 0;
  int32_t number = 0;
  int state = 0;
  int32_t attempts = 0;
  std::string worker;
  std::string lease_id;  // "" when NULL.
  int64_t started_ms = 0;
  int64_t finished_ms = 0;
};

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Replaces the ctest cluster by one of the test's own in dir_/pg, which
  // StopPostgres/StartPostgres may stop and start. Call before anything
  // is started.
  void UseOwnPostgres();
  void StopPostgres();
  void StartPostgres();

  // Starts nas-controller (first on `listen_host_`:0, then again on the
  // port it bound) and waits until it serves.
  void StartController();
  void KillController();
  bool ControllerAlive();
  // Starts a worker named `name` against `controller` (default address_),
  // inside network namespace `netns` unless empty. Returns its index.
  int StartWorker(const std::string& name, const std::string& controller = "",
                  const std::string& netns = "");
  void SignalWorker(int index, int signal);

  absl::StatusOr<v1::Search> Submit(const std::string& yaml);
  absl::StatusOr<v1::Search> GetSearch(int64_t search_id);
  // Polls until the search is no longer RUNNING; fails after `timeout`.
  v1::Search WaitForEnd(int64_t search_id, absl::Duration timeout);

  // Rows straight from PostgreSQL.
  std::vector<TrialRow> Trials(int64_t search_id);
  TrialRow Trial(int64_t trial_id);
  // Trials of the search that ended SUCCEEDED or FAILED.
  int FinishedTrials(int64_t search_id);
  // Waits (up to 60 s) until at least `results` trials have finished, then
  // asserts that the search is still running (else a fault injected next
  // would test nothing).
  void WaitForResults(int64_t search_id, int results);
  // The whole row as JSON (model bytes included), for exact comparisons.
  std::string TrialJson(int64_t trial_id);
  // Polls `done` every 20 ms; false after `timeout`.
  static bool WaitUntil(const std::function<bool()>& done,
                        absl::Duration timeout);
  // A RUNNING trial leased by `worker` that started between `min_age` and
  // `max_age` ago (waits up to `timeout`; id 0 when none).
  TrialRow WaitForRunning(int64_t search_id, const std::string& worker,
                          absl::Duration min_age, absl::Duration max_age,
                          absl::Duration timeout);

  // For an outage longer than the lease TTL: the controller (lease TTL
  // `lease_ttl_ms`, heartbeats every 300 ms) and two workers, `name`-w0 and
  // `name`-w1, run an 8-trial search until it has a result and both
  // workers hold a lease. Sets `search` and `held` (the RUNNING trials).
  void StartSearchUntilEveryWorkerIsBusy(const std::string& name,
                                         int lease_ttl_ms, v1::Search* search,
                                         std::vector<TrialRow>* held);
  // After the outage: the search ends with every trial accounted for, and
  // the trials `held` ended SUCCEEDED under the same lease, by the same
  // worker, at their first attempt (no lease ran out while the controller
  // or its database was down), the controller having logged the grace.
  // Prints which trials kept their leases through `outage` (its words).
  void ExpectEndKeepingHeldLeases(const v1::Search& search,
                                  const std::vector<TrialRow>& held,
                                  const std::string& outage);

  // Report lines of the worker logs by trial id.
  std::map<int64_t, int> LoggedReports(const std::string& kind);
  // The search ended SUCCEEDED with every trial accounted for: numbers
  // 0..n-1, none PENDING/RUNNING, trials_done equal to the budget, one row
  // per number, no network trained to success twice, each trained trial with
  // exactly one accepted result and its attempts counted.
  void ExpectEveryTrialAccountedFor(int64_t search_id, const Accounting& a);
  // Waits (up to 15 s) until every trained trial's report has an answer in
  // the workers' logs: the search can end while a worker still retries a
  // report whose first attempt was committed by a controller killed before
  // answering; the retry is then refused as a duplicate. Returns either way:
  // the accounting asserts.
  void WaitForReportAnswers(const std::vector<TrialRow>& trials);

  std::string dir_;
  std::string db_uri_;
  std::string listen_host_ = "127.0.0.1";
  int port_ = 0;
  std::string address_;  // listen_host_:port_ once started.
  int lease_ttl_ms_ = 2000;
  int heartbeat_ms_ = 200;
  int metrics_port_ = 0;  // The running controller's /metrics port.
  pid_t controller_ = -1;
  std::vector<WorkerProcess> workers_;

 private:
  std::string Tail(const std::string& path) const;
  // Trial rows `where` (SQL with $1 = `id`), in number order.
  std::vector<TrialRow> QueryTrials(const char* where, int64_t id);

  bool own_postgres_ = false;
  int controller_starts_ = 0;
};

}  // namespace nas::testing

#endif  // NAS_TESTS_E2E_FAULT_FIXTURE_H_
