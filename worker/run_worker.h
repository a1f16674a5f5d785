#ifndef NAS_WORKER_RUN_WORKER_H_
#define NAS_WORKER_RUN_WORKER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/tls_files.h"
#include "worker/dataset_cache.h"
#include "worker/host_threads.h"
#include "worker/trainer.h"
#include "worker/worker_loop.h"

namespace nas::worker {

// Everything nas-worker's flags configure.
struct WorkerConfig {
  std::string controller = "localhost:50051";
  // Trials run at once; 0: one per usable core on the CPU (with one thread
  // each unless `threads` says otherwise), 1 on a GPU.
  int slots = 0;
  std::string name;              // Empty: "<hostname>:<pid>".
  std::string device = "auto";   // auto | cpu | cuda
  int threads = 0;               // Intra-op threads per slot; 0: usable cores / slots.
  // "host:port" for the Prometheus endpoint (port 0: any free port); "" or
  // "none": no endpoint.
  std::string metrics_listen = "0.0.0.0:9465";
  std::string metrics_port_file;  // Written with the bound port when set.
  absl::Duration exit_when_idle = absl::ZeroDuration();
  absl::Duration drain_timeout = absl::ZeroDuration();
  absl::Duration rpc_timeout = absl::Seconds(10);
  // --tls_ca/--tls_cert/--tls_key (mutual TLS) or --insecure (plain text).
  ClientTlsFlags tls;
  // FOR LOAD TESTS ONLY (worker/load_test_runner.h), never on by default:
  // report made-up metrics without building or training anything, and run
  // `load_test_workers` independent worker loops in this process (0 or 1:
  // one), each registered as "<name>-<i>" and leasing, heart-beating and
  // reporting on its own.
  bool load_test_skip_training = false;
  int load_test_workers = 0;
  // What PrepareTrainingProcess set up (worker/process_setup.h), logged
  // once the configuration is accepted.
  std::string process_setup;
  // Where CPU workers of this host share out its cores (HostThreads);
  // "none": not shared.
  std::string host_threads_folder = HostThreads::kDefaultFolder;
};

// The real trial runner: the data set from `cache` (loaded once per process;
// when it cannot be loaded for a reason of the data itself, a FAILED outcome
// with data_error and the loader's message), then RunTrial on `device`, with `threads` intra-op threads or, given
// `host`, the slot's share of the host's cores (HostThreads). `cache` and
// `host` (may be null) must outlive the runner.
TrialRunner MakeTrialRunner(DatasetCache* cache, ComputeDevice device, int threads = 1,
                            HostThreads* host = nullptr);

// Runs a worker until SIGINT/SIGTERM (graceful: stop leasing, drain, exit)
// or the idle timeout. InvalidArgument/FailedPrecondition for a bad
// configuration (unknown device, metrics port taken, ...). Blocks SIGINT and
// SIGTERM in the calling thread and the threads it starts.
absl::Status RunWorker(const WorkerConfig& config);

}  // namespace nas::worker

#endif  // NAS_WORKER_RUN_WORKER_H_
