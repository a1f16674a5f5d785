#ifndef NAS_COMMON_GRPC_STATUS_H_
#define NAS_COMMON_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"

namespace nas {

// The longest status message sent over gRPC. The message travels
// percent-encoded in a trailer, and clients refuse metadata over 8 KiB (the
// whole response, not only this call, then fails), so a long list of
// problems is cut at a line break and the rest counted.
inline constexpr size_t kMaxGrpcMessageBytes = 2048;

inline std::string BoundedMessage(absl::string_view message) {
  if (message.size() <= kMaxGrpcMessageBytes) return std::string(message);
  absl::string_view kept = message.substr(0, kMaxGrpcMessageBytes);
  const size_t line_end = kept.rfind('\n');
  if (line_end != absl::string_view::npos && line_end > 0) {
    kept = kept.substr(0, line_end);
  }
  const absl::string_view rest = message.substr(kept.size());
  size_t lines = 0;
  for (char c : rest) lines += c == '\n' ? 1 : 0;
  return absl::StrCat(kept, "\n... (", message.size() - kept.size(),
                      " more bytes, ", lines, " more line breaks)");
}

// Both enums follow google.rpc.Code, so the conversion is a cast.
inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      BoundedMessage(status.message()));
}

inline absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

}  // namespace nas

#endif  // NAS_COMMON_GRPC_STATUS_H_
