// nas-controller: keeps searches in PostgreSQL, proposes candidates, leases
// them to workers over gRPC and exposes Prometheus metrics.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/datasets.h"
#include "common/main_init.h"
#include "common/logging.h"
#include "controller/auth.h"
#include "controller/clock.h"
#include "controller/server.h"
#include "controller/store/pg_trial_store.h"
#include "prometheus/exposer.h"
#include "prometheus/registry.h"

ABSL_FLAG(std::string, listen, "0.0.0.0:50051",
          "gRPC address to serve on; port 0 picks a free port");
ABSL_FLAG(std::string, port_file, "",
          "Write the bound gRPC port to this file once serving");
ABSL_FLAG(std::string, db, "",
          "libpq URI of the database (default: $TINYNAS_DB)");
ABSL_FLAG(std::string, metrics_listen, "0.0.0.0:9464",
          "Prometheus /metrics address; port 0 picks a free port");
ABSL_FLAG(std::string, metrics_port_file, "",
          "Write the bound metrics port to this file");
ABSL_FLAG(std::string, health_listen, "",
          "Plain-text gRPC address serving only grpc.health.v1.Health, for "
          "probes that cannot do TLS (kubelet); empty: off; port 0 picks a "
          "free port");
ABSL_FLAG(std::string, health_port_file, "",
          "Write the bound health port to this file");
ABSL_FLAG(std::string, data_root, "",
          "Folder of the built-in data sets (default: $TINYNAS_DATA_ROOT or "
          "the source tree's data/)");
ABSL_FLAG(int32_t, lease_ttl_ms, 30000,
          "A leased trial without a heartbeat for this long is handed out "
          "again");
ABSL_FLAG(int32_t, heartbeat_ms, 2000,
          "Heartbeat interval the controller asks workers for");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain of the controller (TLS); with --tls_key and "
          "--tls_client_ca (scripts/make_certs.sh makes them)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA that signs client certificates: workers must present one "
          "with OU=worker (mutual TLS); one with OU=api admits a client to "
          "the search API");
ABSL_FLAG(std::string, api_tokens_file, "",
          "Bearer tokens the search API accepts, one a line (needs TLS)");
ABSL_FLAG(bool, insecure, false,
          "Serve plain text without any authentication (tests and trusted "
          "networks only; logs a warning)");

namespace {

// Prints "nas-controller: <message>" on one line and returns exit code 1.
int Fail(const std::string& message) {
  std::cerr << "nas-controller: " << message << std::endl;
  return 1;
}

// Writes `port` to `path` through a temporary file, so that a reader never
// sees a partial number.
absl::Status WritePortFile(const std::string& path, int port) {
  if (path.empty()) return absl::OkStatus();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out.good()) {
      return absl::UnavailableError(absl::StrCat("cannot write ", tmp));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot rename to ", path));
  }
  return absl::OkStatus();
}

// OkStatus when `value` is HOST:PORT with a port in 0..65535 (gRPC would
// otherwise log its own errors before failing); names `flag` otherwise.
absl::Status CheckHostPort(absl::string_view flag, const std::string& value) {
  const size_t colon = value.rfind(':');
  int port = -1;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(absl::string_view(value).substr(colon + 1), &port)) {
    port = -1;
  }
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": \"", value,
                     "\" is not HOST:PORT (e.g. 0.0.0.0:50052; port 0 picks a "
                     "free port)"));
  }
  return absl::OkStatus();
}

std::string DatabaseUri() {
  std::string uri = absl::GetFlag(FLAGS_db);
  if (uri.empty()) {
    const char* env = std::getenv("TINYNAS_DB");
    if (env != nullptr) uri = env;
  }
  return uri;
}

// The TLS options the flags ask for: nullopt with --insecure, InvalidArgument for a contradictory or incomplete set of flags
// or unreadable files.
absl::StatusOr<std::optional<nas::controller::TlsServerOptions>> TlsFromFlags() {
  const std::string cert = absl::GetFlag(FLAGS_tls_cert);
  const std::string key = absl::GetFlag(FLAGS_tls_key);
  const std::string client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  const std::string tokens = absl::GetFlag(FLAGS_api_tokens_file);
  const bool any_tls = !cert.empty() || !key.empty() || !client_ca.empty();
  if (absl::GetFlag(FLAGS_insecure)) {
    if (any_tls || !tokens.empty()) {
      return absl::InvalidArgumentError(
          "--insecure (plain text) cannot be combined with --tls_cert, --tls_key, "
          "--tls_client_ca or --api_tokens_file");
    }
    return std::nullopt;
  }
  if (!any_tls) {
    if (!tokens.empty()) {
      return absl::InvalidArgumentError(
          "--api_tokens_file needs TLS (--tls_cert, --tls_key, --tls_client_ca): "
          "tokens are never accepted in plain text");
    }
    return absl::InvalidArgumentError(
        "no TLS material: pass --tls_cert, --tls_key and --tls_client_ca "
        "(scripts/make_certs.sh makes them), or --insecure to serve plain text "
        "without authentication");
  }
  if (cert.empty() || key.empty() || client_ca.empty()) {
    return absl::InvalidArgumentError(
        "--tls_cert, --tls_key and --tls_client_ca go together (the server's "
        "certificate, its key and the CA of the workers' certificates)");
  }
  return nas::controller::LoadTlsServerOptions(cert, key, client_ca, tokens);
}

}  // namespace

int main(int argc, char** argv) {
  nas::InitMain(argc, argv,
                  "nas-controller --db=postgresql:///tinynas?host=/path/sock "
                  "[--listen=0.0.0.0:50051]",
                  "controller/main.cc");

  // SIGINT/SIGTERM are taken by sigwait below; every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const int ttl_ms = absl::GetFlag(FLAGS_lease_ttl_ms);
  const int heartbeat_ms = absl::GetFlag(FLAGS_heartbeat_ms);
  if (heartbeat_ms <= 0 || ttl_ms <= heartbeat_ms) {
    return Fail("need 0 < --heartbeat_ms < --lease_ttl_ms");
  }
  auto tls = TlsFromFlags();
  if (!tls.ok()) return Fail(std::string(tls.status().message()));
  const std::string uri = DatabaseUri();
  if (uri.empty()) return Fail("no database: pass --db or set TINYNAS_DB");
  const std::string health_listen = absl::GetFlag(FLAGS_health_listen);
  if (health_listen.empty() && !absl::GetFlag(FLAGS_health_port_file).empty()) {
    return Fail("--health_port_file needs --health_listen");
  }
  if (!health_listen.empty()) {
    absl::Status valid = CheckHostPort("--health_listen", health_listen);
    if (!valid.ok()) return Fail(std::string(valid.message()));
  }

  auto store = nas::controller::PgTrialStore::Create(uri);
  if (!store.ok()) return Fail(std::string(store.status().message()));
  if (absl::Status migrated = (*store)->Migrate(); !migrated.ok()) {
    return Fail(absl::StrCat("cannot migrate the database schema: ",
                             migrated.message()));
  }

  auto registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    exposer = std::make_unique<prometheus::Exposer>(
        absl::GetFlag(FLAGS_metrics_listen));
  } catch (const std::exception& e) {
    return Fail(absl::StrCat("cannot serve metrics on ",
                             absl::GetFlag(FLAGS_metrics_listen), ": ",
                             e.what()));
  }
  exposer->RegisterCollectable(registry);

  nas::controller::ServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.data_root = absl::GetFlag(FLAGS_data_root);
  if (options.data_root.empty()) options.data_root = nas::DefaultDataRoot();
  options.lease_ttl = absl::Milliseconds(ttl_ms);
  options.heartbeat_interval = absl::Milliseconds(heartbeat_ms);
  options.tls = *std::move(tls);
  options.health_listen = health_listen;
  nas::controller::SystemClock clock;
  auto server = nas::controller::ControllerServer::Start(
      store->get(), &clock, registry.get(), options);
  if (!server.ok()) return Fail(std::string(server.status().message()));

  const std::vector<int> metrics_ports = exposer->GetListeningPorts();
  if (metrics_ports.empty()) return Fail("metrics server has no port");
  const int metrics_port = metrics_ports.front();
  for (const absl::Status& s :
       {WritePortFile(absl::GetFlag(FLAGS_port_file), (*server)->port()),
        WritePortFile(absl::GetFlag(FLAGS_metrics_port_file), metrics_port),
        WritePortFile(absl::GetFlag(FLAGS_health_port_file),
                      (*server)->health_port())}) {
    if (!s.ok()) return Fail(std::string(s.message()));
  }
  LOG(INFO) << "serving on port " << (*server)->port() << ", metrics on port "
            << metrics_port << ", data root " << options.data_root;
  if ((*server)->health_port() != 0) {
    LOG(INFO) << "health checks (plain text, grpc.health.v1.Health only) on "
                 "port "
              << (*server)->health_port();
  }
  if (options.tls.has_value()) {
    LOG(INFO) << "TLS: workers need a client certificate with OU=worker "
                 "signed by "
              << absl::GetFlag(FLAGS_tls_client_ca) << "; the search API takes "
              << options.tls->tokens.size()
              << " bearer token(s) or such a certificate with OU=api";
  } else {
    LOG(WARNING) << "--insecure: serving plain text WITHOUT authentication; "
                    "anyone who reaches the port can run searches and act as a "
                    "worker";
  }

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  LOG(INFO) << "signal " << signal_number << ": shutting down";
  (*server)->Shutdown();
  return 0;
}
