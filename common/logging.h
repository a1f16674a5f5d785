#ifndef NAS_COMMON_LOGGING_H_
#define NAS_COMMON_LOGGING_H_

// The one place that includes the logging library (glog, which LibTorch
// already depends on). Use LOG(INFO), LOG(WARNING), LOG(ERROR), CHECK(...).
#include <glog/logging.h>

namespace nas {

// Sets up glog for a binary: logs to stderr, program name as prefix.
inline void InitLogging(const char* argv0) {
  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv0);
}

}  // namespace nas

#endif  // NAS_COMMON_LOGGING_H_
