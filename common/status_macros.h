#ifndef NAS_COMMON_STATUS_MACROS_H_
#define NAS_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns from the enclosing function when `expr` yields a non-OK status.
#define NAS_RETURN_IF_ERROR(expr)                  \
  do {                                             \
    const ::absl::Status nas_status_ = (expr);     \
    if (!nas_status_.ok()) return nas_status_;     \
  } while (0)

#define NAS_STATUS_CONCAT_INNER_(a, b) a##b
#define NAS_STATUS_CONCAT_(a, b) NAS_STATUS_CONCAT_INNER_(a, b)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status,
// otherwise moves the value into `lhs` (which may be a declaration).
#define NAS_ASSIGN_OR_RETURN(lhs, rexpr) \
  NAS_ASSIGN_OR_RETURN_IMPL_(NAS_STATUS_CONCAT_(nas_statusor_, __LINE__), lhs, rexpr)

#define NAS_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                               \
  if (!statusor.ok()) return statusor.status();          \
  lhs = std::move(statusor).value()

#endif  // NAS_COMMON_STATUS_MACROS_H_
