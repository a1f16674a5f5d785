#ifndef NAS_CONTROLLER_RPC_UTIL_H_
#define NAS_CONTROLLER_RPC_UTIL_H_

// Helpers shared by the gRPC service classes: request checks and the
// finishing of unary calls (status translation, deadline, metrics).

#include <chrono>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "common/text_check.h"
#include "controller/controller_metrics.h"
#include "controller/rpc_executor.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"

namespace nas::controller {

// InvalidArgument unless `value` > 0.
inline absl::Status CheckPositiveId(absl::string_view field, int64_t value) {
  if (value > 0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, " must be a positive id, got ", value));
}

// Runs `handler` (returning absl::Status after filling the reply) unless the
// call is already past its deadline, then finishes the call with the
// translated status and records it in `metrics` under `method`.
template <typename Handler>
void FinishUnary(grpc::ServerUnaryReactor* reactor,
                 grpc::CallbackServerContext* context,
                 ControllerMetrics* metrics, absl::string_view method,
                 Handler& handler) {
  const absl::Time start = absl::Now();
  absl::Status status;
  if (context->deadline() <= std::chrono::system_clock::now()) {
    status = absl::DeadlineExceededError("deadline passed before handling");
  } else {
    status = handler();
  }
  metrics->RpcFinished(method, static_cast<int>(status.code()),
                       absl::ToDoubleSeconds(absl::Now() - start));
  reactor->Finish(ToGrpcStatus(status));
}

// FinishUnary on the calling gRPC thread, for handlers that do not block.
template <typename Handler>
grpc::ServerUnaryReactor* ServeUnary(grpc::CallbackServerContext* context,
                                     ControllerMetrics* metrics,
                                     absl::string_view method,
                                     Handler&& handler) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  FinishUnary(reactor, context, metrics, method, handler);
  return reactor;
}

// FinishUnary on one of `executor`'s threads, for handlers that block (on
// the database). `handler` is copied: it must capture by value (the request
// and reply pointers stay valid until the call is finished).
template <typename Handler>
grpc::ServerUnaryReactor* ServeUnaryOn(RpcExecutor* executor,
                                       grpc::CallbackServerContext* context,
                                       ControllerMetrics* metrics,
                                       absl::string_view method,
                                       Handler handler) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  executor->Run([=]() mutable {
    FinishUnary(reactor, context, metrics, method, handler);
  });
  return reactor;
}

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_RPC_UTIL_H_
