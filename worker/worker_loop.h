#ifndef NAS_WORKER_WORKER_LOOP_H_
#define NAS_WORKER_WORKER_LOOP_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/nas.pb.h"
#include "worker/controller_client.h"
#include "worker/trainer.h"
#include "worker/worker_metrics.h"

namespace nas::worker {

// How the loop steers one running trial.
struct TrialControl {
  const std::atomic<bool>* stop = nullptr;  // Set: stop promptly (cancelled).
  std::function<void(const TrainProgress&)> on_progress;
};

// Runs one leased trial to its outcome (the real one: DatasetCache +
// RunTrial). Called on a slot thread; must be thread-safe.
using TrialRunner = std::function<absl::StatusOr<TrialOutcome>(
    const v1::TrialTask& task, const TrialControl& control)>;

struct WorkerLoopOptions {
  std::string name;            // Host-unique worker name.
  std::string device = "cpu";  // Reported at registration.
  int slots = 1;               // Trials run at once.
  int64_t memory_bytes = 0;
  // Wait before asking again after a lease returned nothing.
  absl::Duration idle_poll = absl::Milliseconds(500);
  // Backoff between retries of a failed RPC (doubling up to the maximum).
  absl::Duration retry_initial = absl::Milliseconds(200);
  absl::Duration retry_max = absl::Seconds(5);
  // Used until the controller states its own heartbeat interval.
  absl::Duration default_heartbeat = absl::Seconds(2);
  // Exit after this long without a running or leased trial (0 = never).
  absl::Duration exit_when_idle = absl::ZeroDuration();
  // On shutdown, wait this long for running trials to finish and be
  // reported before stopping them (0 = stop them at once; their leases then
  // expire on the controller and the trials are handed out again).
  absl::Duration drain_timeout = absl::ZeroDuration();
  // On shutdown, keep retrying an unaccepted report this long, then give up.
  absl::Duration report_grace = absl::Seconds(10);
};

// The worker's client loop: registers, leases trials for its free slots,
// runs each on its own slot thread (which goes on with the next task that
// the controller answers its report with), heart-beats progress, stops a trial when
// the controller's verdict says so, and reports every finished trial until
// the controller answers (a transient error never loses a result). A
// controller that no longer knows the worker id (NOT_FOUND, e.g. after its
// restart) gets a fresh registration.
//
// Thread-safe: RequestShutdown() may be called from any thread while Run()
// blocks. The client, runner and metrics are borrowed and must outlive the
// loop.
class WorkerLoop {
 public:
  WorkerLoop(ControllerClient* client, TrialRunner runner,
             WorkerMetrics* metrics, WorkerLoopOptions options);
  ~WorkerLoop();
  WorkerLoop(const WorkerLoop&) = delete;
  WorkerLoop& operator=(const WorkerLoop&) = delete;

  // Blocks until RequestShutdown() or the idle timeout, then drains (see
  // WorkerLoopOptions) and joins every thread. OK after a graceful exit
  // (also when the controller was never reached); the controller's error
  // when it refuses the registration (e.g. INVALID_ARGUMENT).
  absl::Status Run();

  // Stops leasing; Run() returns once current trials are done or abandoned.
  void RequestShutdown();

  // Trials whose report the controller answered (accepted or not).
  int64_t reports_answered() const;

 private:
  struct Slot;
  // Exponential backoff: initial, 2*initial, ... capped at max.
  class Backoff {
   public:
    Backoff(absl::Duration initial, absl::Duration max)
        : initial_(initial), max_(max), next_(initial) {}
    absl::Duration Next() {
      const absl::Duration current = next_;
      next_ = std::min(next_ * 2, max_);
      return current;
    }
    void Reset() { next_ = initial_; }

   private:
    const absl::Duration initial_, max_;
    absl::Duration next_;
  };

  // Blocks (retrying transient errors with backoff) until registered.
  // Registers only if the current id is still `stale_id`, so threads that
  // all saw NOT_FOUND register once. kCancelled when it gave up (see
  // GivenUp); the controller's error when it refuses the registration.
  absl::Status EnsureRegistered(int64_t stale_id, absl::Duration grace);
  int64_t worker_id() const;
  absl::Duration heartbeat_interval() const;
  // True once shutdown was requested at least `grace` ago, or when the
  // worker has been idle longer than exit_when_idle (e.g. no controller).
  bool GivenUp(absl::Duration grace) const;

  // One lease round; false after an RPC failure (the caller backs off).
  bool LeaseOnce();
  void StartSlot(const v1::TrialTask& task);
  static void LogLeased(const v1::TrialTask& task);
  // Runs the slot's trial, and the next ones its reports bring.
  void RunSlot(Slot* slot);
  // Reports a finished trial (not a cancelled one) and counts its outcome;
  // unless shutting down, the report asks for this slot's next task.
  // Returns the tasks the controller leased with its answer.
  std::vector<v1::TrialTask> Report(Slot* slot,
                                    const absl::StatusOr<TrialOutcome>& outcome);
  // Makes `task` the slot's trial, re-keying it by the new lease; false
  // (the task is left to expire) when shutting down.
  bool NextTask(Slot* slot, const v1::TrialTask& task);
  // Sends the report until the controller answers, with backoff on transient
  // errors and one re-registration on NOT_FOUND. Errors: the controller's
  // refusal, or kCancelled when giving up at shutdown (report_grace).
  absl::StatusOr<v1::ReportTrialResponse> DeliverReport(v1::ReportTrialRequest* request);
  void FinishSlot(Slot* slot);
  void JoinFinishedThreads();
  void HeartbeatLoop();
  // Extends the leases held for at least one heartbeat interval (younger
  // ones were granted with a whole TTL) and learns their verdicts. Skipped
  // when no lease needs it and another call reached the controller within
  // the interval: so a worker whose trials are shorter than the interval
  // (a load test) costs the controller no heartbeats, while a stopped
  // trial is still noticed within two intervals of its lease.
  void HeartbeatOnce();
  // Notes a call the controller answered (it saw this worker alive).
  void Contacted();
  // Waits for (or stops) the running trials after shutdown.
  void Drain();
  // Sleeps up to `duration`; returns early (true) when shutdown is requested.
  bool SleepUnlessShutdown(absl::Duration duration);
  bool IdleTooLong() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  ControllerClient* const client_;
  const TrialRunner runner_;
  WorkerMetrics* const metrics_;
  const WorkerLoopOptions options_;

  absl::Mutex register_mu_;  // Serialises registrations.
  mutable absl::Mutex mu_;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time shutdown_at_ ABSL_GUARDED_BY(mu_);
  bool stopping_heartbeats_ ABSL_GUARDED_BY(mu_) = false;
  int64_t worker_id_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Duration heartbeat_interval_ ABSL_GUARDED_BY(mu_);
  // Running (or reporting) trials by lease id.
  absl::flat_hash_map<std::string, std::unique_ptr<Slot>> slots_
      ABSL_GUARDED_BY(mu_);
  // Slot threads that finished and wait to be joined.
  std::vector<std::thread> finished_threads_ ABSL_GUARDED_BY(mu_);
  absl::Time last_busy_ ABSL_GUARDED_BY(mu_);
  absl::Time last_contact_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int64_t reports_answered_ ABSL_GUARDED_BY(mu_) = 0;
  // Waits after leases that found nothing; the Run() thread's.
  Backoff empty_backoff_;
  // Whether the last call succeeded, for logging changes only. Each is
  // touched by one thread: the Run() thread and the heartbeat thread.
  bool leases_ok_ = true;
  bool heartbeats_ok_ = true;
};

}  // namespace nas::worker

#endif  // NAS_WORKER_WORKER_LOOP_H_
