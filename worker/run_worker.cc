#include "worker/run_worker.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "prometheus/exposer.h"
#include "prometheus/registry.h"
#include "worker/controller_client.h"
#include "worker/host_threads.h"
#include "worker/load_test_runner.h"
#include "worker/process_setup.h"
#include "worker/worker_metrics.h"

namespace nas::worker {
namespace {

std::string DefaultWorkerName() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) std::strcpy(host, "worker");
  return absl::StrCat(host, ":", getpid());
}

int64_t PhysicalMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
  return pages > 0 && page_size > 0 ? static_cast<int64_t>(pages) * page_size : 0;
}

int DefaultThreads(int slots, int cores) {
  return std::max(1, cores / std::max(1, slots));
}

// Threads beyond the cores wait for each other: OpenMP's barriers and
// LibTorch's pools assume a core per thread (bench/README.md, "Threads and
// slots"). `host_wanted`: what all the host's workers want, this one's
// included (0 when not known).
void WarnIfOversubscribed(int slots, int threads, int cores, int host_wanted) {
  if (slots * threads > cores) {
    LOG(WARNING) << slots << " slot(s) x " << threads << " thread(s) = "
                 << slots * threads << " threads on " << cores
                 << " usable core(s): trials will wait for each other; use "
                    "--slots and --threads with slots x threads <= cores";
  } else if (host_wanted > cores) {
    LOG(WARNING) << "the workers on this host want " << host_wanted
                 << " training threads for " << cores
                 << " usable core(s): each trial gets its share";
  }
}

// The Prometheus endpoint, or null when disabled.
absl::StatusOr<std::unique_ptr<prometheus::Exposer>> StartExposer(
    const WorkerConfig& config, const std::shared_ptr<prometheus::Registry>& registry) {
  std::string listen = config.metrics_listen;
  if (listen.empty() || listen == "none") return nullptr;
  if (listen == "0") listen = "0.0.0.0:0";
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    exposer = std::make_unique<prometheus::Exposer>(listen);
  } catch (const std::exception& e) {
    return absl::FailedPreconditionError(
        absl::StrCat("--metrics_listen=", listen, ": cannot listen: ", e.what()));
  }
  exposer->RegisterCollectable(registry);
  const std::vector<int> ports = exposer->GetListeningPorts();
  const int port = ports.empty() ? 0 : ports[0];
  LOG(INFO) << "metrics on " << listen << " (port " << port << ")/metrics";
  if (!config.metrics_port_file.empty()) {
    std::ofstream(config.metrics_port_file) << port << "\n";
  }
  return exposer;
}

// Mutual TLS needs the worker's certificate; plain text must be asked for.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> WorkerCredentials(
    const ClientTlsFlags& tls) {
  if (!tls.insecure && !AnyTlsFile(tls)) {
    return absl::InvalidArgumentError(
        "no TLS material: pass --tls_ca, --tls_cert and --tls_key (mutual TLS; "
        "scripts/make_certs.sh makes them), or --insecure for plain text");
  }
  if (!tls.insecure && (tls.cert.empty() || tls.key.empty())) {
    return absl::InvalidArgumentError(
        "the controller admits workers by client certificate: pass --tls_cert "
        "and --tls_key (and --tls_ca)");
  }
  NAS_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials,
                       MakeChannelCredentials(tls));
  if (tls.insecure) {
    LOG(WARNING) << "--insecure: talking to the controller in plain text, "
                    "without authentication";
  }
  return credentials;
}

WorkerLoopOptions LoopOptions(const WorkerConfig& config, ComputeDevice device) {
  WorkerLoopOptions options;
  options.name = config.name.empty() ? DefaultWorkerName() : config.name;
  options.device = ComputeDeviceName(device);
  options.slots = config.slots;
  options.memory_bytes = PhysicalMemoryBytes();
  options.exit_when_idle = config.exit_when_idle;
  options.drain_timeout = config.drain_timeout;
  return options;
}

// At most this many simulated workers in one process.
constexpr int kMaxLoadTestWorkers = 4096;

absl::Status CheckLoadTest(const WorkerConfig& config) {
  if (config.load_test_workers < 0 || config.load_test_workers > kMaxLoadTestWorkers) {
    return absl::InvalidArgumentError(absl::StrCat("--load_test_workers: ",
                                                   config.load_test_workers,
                                                   " not in [0, ", kMaxLoadTestWorkers, "]"));
  }
  if (config.load_test_workers > 1 && !config.load_test_skip_training) {
    return absl::InvalidArgumentError(
        "--load_test_workers needs --load_test_skip_training");
  }
  if (config.load_test_skip_training) {
    LOG(WARNING) << "**************************************************************";
    LOG(WARNING) << "LOAD TEST MODE (--load_test_skip_training): trials are NOT";
    LOG(WARNING) << "trained; every reported metric is made up. Never use this for";
    LOG(WARNING) << "a real search. Simulated workers: "
                 << std::max(1, config.load_test_workers)
                 << "; per-trial INFO logging is off.";
    LOG(WARNING) << "**************************************************************";
    FLAGS_minloglevel = std::max(FLAGS_minloglevel, static_cast<int>(google::WARNING));
  }
  return absl::OkStatus();
}

// One loop, or load_test_workers of them named "<name>-<i>", all on `client`.
std::vector<std::unique_ptr<WorkerLoop>> MakeLoops(const WorkerConfig& config,
                                                   ComputeDevice device,
                                                   ControllerClient* client,
                                                   DatasetCache* cache,
                                                   WorkerMetrics* metrics,
                                                   HostThreads* host) {
  const TrialRunner runner = config.load_test_skip_training
                                 ? MakeLoadTestRunner()
                                 : MakeTrialRunner(cache, device, config.threads, host);
  const int count = std::max(1, config.load_test_workers);
  std::vector<std::unique_ptr<WorkerLoop>> loops;
  for (int i = 1; i <= count; ++i) {
    WorkerLoopOptions options = LoopOptions(config, device);
    if (count > 1) options.name = absl::StrCat(options.name, "-", i);
    loops.push_back(std::make_unique<WorkerLoop>(client, runner, metrics, options));
  }
  return loops;
}

// Runs every loop on a thread of its own; the first error, else OK.
absl::Status RunLoops(const std::vector<std::unique_ptr<WorkerLoop>>& loops) {
  if (loops.size() == 1) return loops[0]->Run();
  std::vector<absl::Status> statuses(loops.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < loops.size(); ++i) {
    threads.emplace_back([&, i] { statuses[i] = loops[i]->Run(); });
  }
  for (std::thread& thread : threads) thread.join();
  for (const absl::Status& status : statuses) {
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

// The outcome of a trial whose data set did not load: FAILED with the
// reason, and flagged as a data error when the data itself is at fault
// (missing, unreadable, malformed or unlike the spec), so that the
// controller fails the search once instead of trial by trial. Other errors
// (out of memory, internal) stay plain errors of this trial.
absl::StatusOr<TrialOutcome> DataFailure(const v1::TrialTask& task,
                                         const absl::Status& status) {
  const absl::StatusCode code = status.code();
  if (code != absl::StatusCode::kNotFound && code != absl::StatusCode::kInvalidArgument &&
      code != absl::StatusCode::kDataLoss && code != absl::StatusCode::kPermissionDenied &&
      code != absl::StatusCode::kFailedPrecondition &&
      code != absl::StatusCode::kOutOfRange) {
    return status;
  }
  LOG(ERROR) << "trial " << task.trial_id() << ": data set "
             << (task.dataset().name().empty() ? task.dataset().train_path()
                                                : task.dataset().name())
             << " did not load: " << status;
  TrialOutcome outcome;
  outcome.kind = TrialOutcome::Kind::kFailed;
  outcome.failure_reason = absl::StrCat("data set: ", status.message());
  outcome.data_error = true;
  return outcome;
}

// Slots and threads: given ones as they are; left 0, on the CPU one slot
// per usable core with one thread each (the faster setting for a search:
// bench/README.md, "Threads and slots"), on a GPU one slot.
absl::StatusOr<WorkerConfig> ResolveSlots(WorkerConfig config, ComputeDevice device,
                                          int cores) {
  if (config.slots < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--slots: ", config.slots, " < 0 (0: one per core on the CPU)"));
  }
  if (config.threads < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--threads: ", config.threads, " < 0 (0: cores / slots)"));
  }
  if (config.slots == 0) {
    config.slots = device == ComputeDevice::kCuda
                       ? 1
                       : std::max(1, cores / std::max(1, config.threads));
  }
  if (config.threads == 0) config.threads = DefaultThreads(config.slots, cores);
  return config;
}

}  // namespace

TrialRunner MakeTrialRunner(DatasetCache* cache, ComputeDevice device, int threads,
                            HostThreads* host) {
  return [cache, device, threads, host](
             const v1::TrialTask& task,
             const TrialControl& control) -> absl::StatusOr<TrialOutcome> {
    absl::StatusOr<std::shared_ptr<const Dataset>> data = cache->Get(task.dataset());
    if (!data.ok()) return DataFailure(task, data.status());
    // This slot thread's intra-op threads for this trial: its share of
    // the host's cores.
    if (host != nullptr) SetTorchThreads(host->ThreadsPerSlot(threads));
    TrainOptions options;
    options.device = device;
    options.on_progress = control.on_progress;
    options.stop = control.stop;
    return RunTrial(task, **data, options);
  };
}

absl::Status RunWorker(const WorkerConfig& given) {
  // Blocked before any thread starts, so only the sigwait thread sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  NAS_ASSIGN_OR_RETURN(const ComputeDevice device, ChooseComputeDevice(given.device));
  NAS_RETURN_IF_ERROR(CheckLoadTest(given));
  const int cores = UsableCores();
  NAS_ASSIGN_OR_RETURN(const WorkerConfig config, ResolveSlots(given, device, cores));
  const int threads = config.threads;
  SetTorchThreads(threads);
  auto registry = std::make_shared<prometheus::Registry>();
  WorkerMetrics metrics(registry.get(), ComputeDeviceName(device), config.slots);
  NAS_ASSIGN_OR_RETURN(std::unique_ptr<prometheus::Exposer> exposer,
                       StartExposer(config, registry));
  NAS_ASSIGN_OR_RETURN(const std::shared_ptr<grpc::ChannelCredentials> credentials,
                       WorkerCredentials(config.tls));
  DatasetCache cache;
  std::unique_ptr<ControllerClient> client =
      NewGrpcControllerClient(config.controller, credentials, config.rpc_timeout);
  // CPU training threads shared fairly with the other workers on this host.
  std::unique_ptr<HostThreads> host;
  if (device == ComputeDevice::kCpu && !config.load_test_skip_training &&
      config.host_threads_folder != "none") {
    host = std::make_unique<HostThreads>(config.host_threads_folder,
                                         config.slots * threads, cores);
  }
  if (device == ComputeDevice::kCpu) {
    WarnIfOversubscribed(config.slots, threads, cores,
                         host != nullptr ? host->total_wanted() : 0);
  }
  const std::vector<std::unique_ptr<WorkerLoop>> loops =
      MakeLoops(config, device, client.get(), &cache, &metrics, host.get());
  LOG(INFO) << "worker for " << config.controller << ": " << config.slots
            << " slot(s), device " << ComputeDeviceName(device) << ", " << threads
            << " thread(s) per slot, " << cores << " usable core(s)";
  if (!config.process_setup.empty()) LOG(INFO) << "process: " << config.process_setup;

  std::atomic<bool> done{false};
  std::thread signal_thread([&] {
    int signal_number = 0;
    sigwait(&signals, &signal_number);
    if (done.load()) return;  // Woken by ourselves below.
    LOG(INFO) << "received " << strsignal(signal_number) << ": shutting down";
    for (const std::unique_ptr<WorkerLoop>& loop : loops) loop->RequestShutdown();
  });
  const absl::Status status = RunLoops(loops);
  done.store(true);
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  return status;
}

}  // namespace nas::worker
