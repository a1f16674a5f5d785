#include "controller/server.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace nas::controller {
namespace {

// Room for trained models in reports and exports.
constexpr int kMaxMessageBytes = 64 << 20;

}  // namespace

ControllerServer::ControllerServer(TrialStore* store, const Clock* clock,
                                   prometheus::Registry* registry,
                                   const ServerOptions& options)
    : metrics_(registry),
      contexts_(store),
      queries_(store, clock, 3 * options.lease_ttl) {
  watch_hub_ =
      std::make_unique<WatchHub>(&queries_, options.watch_poll_interval);
  scheduler_ = std::make_unique<Scheduler>(
      store, &contexts_, clock, &metrics_, watch_hub_.get(),
      SchedulerOptions{options.data_root, options.lease_ttl,
                       3 * options.lease_ttl});
  dispatcher_ = std::make_unique<TrialDispatcher>(
      store, &contexts_, clock, &metrics_, watch_hub_.get(),
      [scheduler = scheduler_.get()] { scheduler->Wake(); },
      DispatcherOptions{options.lease_ttl, options.heartbeat_interval});
  search_service_ = std::make_unique<SearchServiceImpl>(
      scheduler_.get(), &queries_, watch_hub_.get(), &metrics_);
  worker_service_ =
      std::make_unique<WorkerServiceImpl>(dispatcher_.get(), &metrics_);
}

absl::StatusOr<std::unique_ptr<ControllerServer>> ControllerServer::Start(
    TrialStore* store, const Clock* clock, prometheus::Registry* registry,
    const ServerOptions& options) {
  std::unique_ptr<ControllerServer> server(
      new ControllerServer(store, clock, registry, options));
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen,
                           options.tls.has_value()
                               ? MakeServerCredentials(*options.tls)
                               : grpc::InsecureServerCredentials(),
                           &server->port_);
  builder.RegisterService(server->search_service_.get());
  builder.RegisterService(server->worker_service_.get());
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    server->server_.reset();
    server->shut_down_ = true;
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen));
  }
  server->scheduler_->Start(options.tick_interval);
  return server;
}

ControllerServer::~ControllerServer() { Shutdown(); }

void ControllerServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  scheduler_->Stop();
  watch_hub_->Shutdown();
  server_->Shutdown(std::chrono::system_clock::now() +
                    absl::ToChronoMilliseconds(grace));
  server_->Wait();
}

}  // namespace nas::controller
