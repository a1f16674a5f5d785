#ifndef NAS_TESTS_INTEGRATION_GRPC_PROBE_H_
#define NAS_TESTS_INTEGRATION_GRPC_PROBE_H_

// What a generic gRPC client (grpcurl, grpc_health_probe) would do, with raw
// protobuf bytes so that no health or reflection stubs are needed.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"

namespace nas::testing {

// grpc.health.v1.Health/Check for `service` ("": the whole server); returns
// the serialized HealthCheckResponse ("\x08\x01" is SERVING, "\x08\x02"
// NOT_SERVING).
absl::StatusOr<std::string> HealthCheck(
    const std::shared_ptr<grpc::Channel>& channel,
    const std::string& service = "");

// grpc.reflection.v1alpha.ServerReflection list_services; returns the
// serialized first response (it names every service).
absl::StatusOr<std::string> ReflectionListServices(
    const std::shared_ptr<grpc::Channel>& channel);

// GET http://127.0.0.1:port/metrics; returns the whole HTTP response.
absl::StatusOr<std::string> ScrapeMetrics(int port);

}  // namespace nas::testing

#endif  // NAS_TESTS_INTEGRATION_GRPC_PROBE_H_
