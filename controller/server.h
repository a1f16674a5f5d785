#ifndef NAS_CONTROLLER_SERVER_H_
#define NAS_CONTROLLER_SERVER_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/auth.h"
#include "controller/clock.h"
#include "controller/controller_metrics.h"
#include "controller/scheduler.h"
#include "controller/search_contexts.h"
#include "controller/search_queries.h"
#include "controller/search_service.h"
#include "controller/store/trial_store.h"
#include "controller/trial_dispatcher.h"
#include "controller/watch_hub.h"
#include "controller/worker_service.h"
#include "grpcpp/server.h"
#include "prometheus/registry.h"

namespace nas::controller {

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
};

// A serving controller: the scheduler loop plus SearchService and
// WorkerService on one gRPC port, with health checking and server
// reflection. Thread-safe. Borrows the store, clock and registry, which must
// outlive it.
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
  Scheduler& scheduler() { return *scheduler_; }

  // Stops the scheduler, ends watch streams, and gives in-flight calls up to
  // `grace` to finish. Idempotent.
  void Shutdown(absl::Duration grace = absl::Seconds(5));

 private:
  ControllerServer(TrialStore* store, const Clock* clock,
                   prometheus::Registry* registry,
                   const ServerOptions& options);

  // Declared in dependency order; destroyed in reverse.
  ControllerMetrics metrics_;
  SearchContexts contexts_;
  SearchQueries queries_;
  std::unique_ptr<WatchHub> watch_hub_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<TrialDispatcher> dispatcher_;
  std::unique_ptr<SearchServiceImpl> search_service_;
  std::unique_ptr<WorkerServiceImpl> worker_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_SERVER_H_
