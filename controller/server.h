#ifndef NAS_CONTROLLER_SERVER_H_
#define NAS_CONTROLLER_SERVER_H_

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/auth.h"
#include "controller/clock.h"
#include "controller/controller_metrics.h"
#include "controller/scheduler.h"
#include "controller/search_contexts.h"
#include "controller/progress_board.h"
#include "controller/search_queries.h"
#include "controller/search_service.h"
#include "controller/store/trial_store.h"
#include "controller/trial_dispatcher.h"
#include "controller/watch_hub.h"
#include "controller/worker_service.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/server.h"
#include "prometheus/registry.h"

namespace nas::controller {

// The health service name that reports liveness only (see ControllerServer).
inline constexpr char kLivenessService[] = "liveness";

struct ServerOptions {
  std::string listen = "0.0.0.0:50051";  // Port 0 picks a free port.
  std::string data_root;                 // Where built-in data sets live.
  absl::Duration lease_ttl = absl::Seconds(30);
  absl::Duration heartbeat_interval = absl::Seconds(2);
  absl::Duration tick_interval = absl::Milliseconds(500);
  absl::Duration watch_poll_interval = absl::Seconds(1);
  // TLS with client certificates and bearer tokens (controller/auth.h);
  // unset: plain text without any authentication (in-process tests, and
  // nas-controller --insecure).
  std::optional<TlsServerOptions> tls;
  // A second gRPC server, PLAIN TEXT, serving only grpc.health.v1.Health
  // (for the kubelet's gRPC probes, which cannot do TLS); empty: none.
  // Port 0 picks a free port (health_port()).
  std::string health_listen;
  // How often the database is checked for the health status.
  absl::Duration health_check_interval = absl::Seconds(2);
};

// A serving controller: the scheduler loop plus SearchService and
// WorkerService on one gRPC port, with health checking and server
// reflection, and optionally a plain-text port with health checking only.
// Thread-safe. Borrows the store, clock and registry, which must outlive it.
//
// Health (grpc.health.v1.Health, the same on both ports):
//  - service "" (the whole server; readiness): SERVING while the database
//    answers a query (checked every health_check_interval), NOT_SERVING
//    while it does not (the controller stays up and reconnects, but can
//    neither hand out nor record trials);
//  - service kLivenessService: SERVING while the process serves, whatever
//    the database (restarting the controller would not bring it back);
//  - both NOT_SERVING from the start of Shutdown() on.
class ControllerServer {
 public:
  // Unavailable when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<ControllerServer>> Start(
      TrialStore* store, const Clock* clock, prometheus::Registry* registry,
      const ServerOptions& options);
  ~ControllerServer();
  ControllerServer(const ControllerServer&) = delete;
  ControllerServer& operator=(const ControllerServer&) = delete;

  int port() const { return port_; }
  // The health-only port; 0 without ServerOptions::health_listen.
  int health_port() const { return health_port_; }
  Scheduler& scheduler() { return *scheduler_; }

  // Stops the scheduler, ends watch streams, and gives in-flight calls up to
  // `grace` to finish. Idempotent.
  void Shutdown(absl::Duration grace = absl::Seconds(5));

 private:
  ControllerServer(TrialStore* store, const Clock* clock,
                   prometheus::Registry* registry,
                   const ServerOptions& options);

  // Starts the health-only server; Unavailable when it cannot listen.
  absl::Status StartHealthServer(const std::string& listen);
  // Sets the readiness status (service "") of every server.
  void SetServing(bool serving);
  // Checks the database every `interval` until Shutdown().
  void HealthLoop(absl::Duration interval);

  TrialStore* const store_;

  // Declared in dependency order; destroyed in reverse.
  ControllerMetrics metrics_;
  SearchContexts contexts_;
  ProgressBoard progress_;  // Running trials' progress from heartbeats.
  SearchQueries queries_;
  std::unique_ptr<WatchHub> watch_hub_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<TrialDispatcher> dispatcher_;
  std::unique_ptr<SearchServiceImpl> search_service_;
  std::unique_ptr<WorkerServiceImpl> worker_service_;
  std::unique_ptr<grpc::Server> server_;
  // Null without health_listen.
  std::unique_ptr<grpc::CallbackGenericService> health_unimplemented_;
  std::unique_ptr<grpc::Server> health_server_;
  int port_ = 0;
  int health_port_ = 0;
  bool shut_down_ = false;
  absl::Mutex health_mu_;
  bool health_stop_ ABSL_GUARDED_BY(health_mu_) = false;
  bool serving_ ABSL_GUARDED_BY(health_mu_) = false;
  std::thread health_thread_;
};

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_SERVER_H_
