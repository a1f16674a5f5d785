#include "controller/server.h"

#include <chrono>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/impl/server_builder_option.h"
#include "grpcpp/impl/server_builder_plugin.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace nas::controller {
namespace {

// Room for trained models in reports and exports.
constexpr int kMaxMessageBytes = 64 << 20;

// Drops every builder plugin: server reflection registers itself in each
// ServerBuilder of the process, and the health port serves health only.
class NoPluginsOption : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(
      std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->clear();
  }
};

// Whether the database answers (the query the scheduler runs every round).
bool DatabaseAnswers(TrialStore* store) {
  return store->RunningSearchIds().ok();
}

}  // namespace

ControllerServer::ControllerServer(TrialStore* store, const Clock* clock,
                                   prometheus::Registry* registry,
                                   const ServerOptions& options)
    : store_(store),
      metrics_(registry),
      contexts_(store),
      progress_(options.lease_ttl),
      queries_(store, clock, 3 * options.lease_ttl, &progress_) {
  watch_hub_ =
      std::make_unique<WatchHub>(&queries_, options.watch_poll_interval);
  scheduler_ = std::make_unique<Scheduler>(
      store, &contexts_, clock, &metrics_, watch_hub_.get(),
      SchedulerOptions{options.data_root, options.lease_ttl,
                       3 * options.lease_ttl});
  dispatcher_ = std::make_unique<TrialDispatcher>(
      store, &contexts_, clock, &metrics_, watch_hub_.get(),
      [scheduler = scheduler_.get()] { scheduler->Wake(); },
      DispatcherOptions{options.lease_ttl, options.heartbeat_interval},
      &progress_);
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
  const bool serving = DatabaseAnswers(store);
  if (!options.health_listen.empty()) {
    if (absl::Status started = server->StartHealthServer(options.health_listen);
        !started.ok()) {
      server->server_->Shutdown();
      server->server_->Wait();
      server->server_.reset();
      server->shut_down_ = true;
      return started;
    }
  }
  server->SetServing(serving);
  server->scheduler_->Start(options.tick_interval);
  server->health_thread_ = std::thread(&ControllerServer::HealthLoop,
                                       server.get(),
                                       options.health_check_interval);
  return server;
}

absl::Status ControllerServer::StartHealthServer(const std::string& listen) {
  // No services registered: the server's default health service
  // (grpc::EnableDefaultHealthCheckService) is all it serves. The base
  // CallbackGenericService answers every other method UNIMPLEMENTED (and
  // gives the server the polled completion queue gRPC insists on).
  health_unimplemented_ = std::make_unique<grpc::CallbackGenericService>();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(),
                           &health_port_);
  builder.RegisterCallbackGenericService(health_unimplemented_.get());
  builder.SetOption(std::make_unique<NoPluginsOption>());
  health_server_ = builder.BuildAndStart();
  if (health_server_ == nullptr || health_port_ == 0) {
    health_server_.reset();
    health_port_ = 0;
    return absl::UnavailableError(
        absl::StrCat("cannot serve health checks on ", listen));
  }
  return absl::OkStatus();
}

void ControllerServer::SetServing(bool serving) {
  absl::MutexLock lock(&health_mu_);
  if (health_stop_) return;
  if (serving != serving_) {
    if (serving) {
      LOG(INFO) << "health: SERVING (the database answers)";
    } else {
      LOG(WARNING) << "health: NOT_SERVING (the database does not answer)";
    }
  }
  serving_ = serving;
  for (grpc::Server* s : {server_.get(), health_server_.get()}) {
    if (s == nullptr) continue;
    s->GetHealthCheckService()->SetServingStatus("", serving);
    s->GetHealthCheckService()->SetServingStatus(kLivenessService, true);
  }
}

void ControllerServer::HealthLoop(absl::Duration interval) {
  while (true) {
    {
      absl::MutexLock lock(&health_mu_);
      health_mu_.AwaitWithTimeout(absl::Condition(&health_stop_), interval);
      if (health_stop_) return;
    }
    SetServing(DatabaseAnswers(store_));
  }
}

ControllerServer::~ControllerServer() { Shutdown(); }

void ControllerServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  {
    // Probes see NOT_SERVING from here on.
    absl::MutexLock lock(&health_mu_);
    for (grpc::Server* s : {server_.get(), health_server_.get()}) {
      if (s != nullptr) s->GetHealthCheckService()->SetServingStatus(false);
    }
    health_stop_ = true;
  }
  if (health_thread_.joinable()) health_thread_.join();
  scheduler_->Stop();
  watch_hub_->Shutdown();
  const auto deadline =
      std::chrono::system_clock::now() + absl::ToChronoMilliseconds(grace);
  server_->Shutdown(deadline);
  server_->Wait();
  if (health_server_ != nullptr) {
    health_server_->Shutdown(deadline);
    health_server_->Wait();
  }
}

}  // namespace nas::controller
