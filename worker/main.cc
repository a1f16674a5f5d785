// nas-worker: leases trials from a nas-controller, trains them with LibTorch
// and reports the measured metrics. See worker/run_worker.h.
#include <stdlib.h>

#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "common/main_init.h"
#include "common/logging.h"
#include "worker/host_threads.h"
#include "worker/process_setup.h"
#include "worker/run_worker.h"

ABSL_FLAG(std::string, controller, "localhost:50051", "Controller address host:port");
ABSL_FLAG(int, slots, 0,
          "Trials run at once (0: one per usable core on the CPU, one on a GPU)");
ABSL_FLAG(std::string, name, "", "Worker name (default hostname:pid)");
ABSL_FLAG(std::string, device, "auto", "auto | cpu | cuda");
ABSL_FLAG(int, threads, 0, "Intra-op threads per slot (0: usable cores / slots)");
ABSL_FLAG(std::string, host_threads_folder, nas::worker::HostThreads::kDefaultFolder,
          "Folder where the CPU workers of this host share out its cores: a "
          "trial gets fewer threads while all workers' slots x threads exceed "
          "the cores ('none': never)");
ABSL_FLAG(std::string, metrics_listen, "0.0.0.0:9465",
          "Prometheus endpoint host:port (port 0: any free port; 'none': off)");
ABSL_FLAG(std::string, metrics_port_file, "", "Write the bound metrics port here");
ABSL_FLAG(int, exit_when_idle_s, 0, "Exit after this many seconds without work (0: never)");
ABSL_FLAG(int, drain_timeout_s, 0,
          "On SIGTERM, wait this long for running trials before abandoning them");
ABSL_FLAG(int, rpc_timeout_ms, 10000, "Deadline of every controller RPC");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM CA the controller's certificate must chain to (default: the "
          "system's roots)");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM client certificate the controller's CA signed for a worker, "
          "OU=worker (mutual TLS)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(bool, insecure, false,
          "Talk to the controller in plain text without authentication "
          "(logs a warning)");
ABSL_FLAG(bool, load_test_skip_training, false,
          "LOAD TESTS ONLY: report made-up metrics without training anything");
ABSL_FLAG(int, load_test_workers, 0,
          "LOAD TESTS ONLY (with --load_test_skip_training): simulate this many "
          "workers, each registered as <name>-<i>, in this process");

int main(int argc, char** argv) {
  // gRPC notices a finished connection attempt of an idle channel only when
  // something polls it: a call in flight, or its backup poller, every 5 s by
  // default. A worker's calls fail at once while the controller is down, so
  // after a restart it reached the controller 2.2-3.9 s late (0.5 s with
  // 100 ms), and a lease given a TTL's grace by the new controller could
  // run out meanwhile. Read once, when gRPC starts; the environment wins.
  setenv("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS", "100", /*overwrite=*/0);
  // First, before any thread allocates (worker/process_setup.h).
  const std::string prepared = nas::worker::PrepareTrainingProcess();
  nas::InitMain(argc, argv,
                  "nas-worker --controller=HOST:PORT: trains tinynas candidates "
                  "leased from a controller",
                  "worker/main.cc");
  nas::worker::WorkerConfig config;
  config.controller = absl::GetFlag(FLAGS_controller);
  config.slots = absl::GetFlag(FLAGS_slots);
  config.name = absl::GetFlag(FLAGS_name);
  config.device = absl::GetFlag(FLAGS_device);
  config.threads = absl::GetFlag(FLAGS_threads);
  config.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  config.metrics_port_file = absl::GetFlag(FLAGS_metrics_port_file);
  config.exit_when_idle = absl::Seconds(absl::GetFlag(FLAGS_exit_when_idle_s));
  config.drain_timeout = absl::Seconds(absl::GetFlag(FLAGS_drain_timeout_s));
  config.rpc_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_rpc_timeout_ms));
  config.tls = {absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert),
                absl::GetFlag(FLAGS_tls_key), absl::GetFlag(FLAGS_insecure)};
  config.load_test_skip_training = absl::GetFlag(FLAGS_load_test_skip_training);
  config.load_test_workers = absl::GetFlag(FLAGS_load_test_workers);
  config.process_setup = prepared;
  config.host_threads_folder = absl::GetFlag(FLAGS_host_threads_folder);
  const absl::Status status = nas::worker::RunWorker(config);
  if (!status.ok()) {
    std::cerr << "nas-worker: " << status.message() << std::endl;
    return 1;
  }
  return 0;
}
