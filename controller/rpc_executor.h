#ifndef NAS_CONTROLLER_RPC_EXECUTOR_H_
#define NAS_CONTROLLER_RPC_EXECUTOR_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace nas::controller {

// A fixed set of threads that run the handlers of RPCs which block (on the
// database), so that gRPC's callback threads, one a core, never wait: a
// blocked callback thread stops every other call it would serve. Tasks run
// in submission order as threads free up. Thread-safe. The destructor runs
// the tasks still queued (each finishes an RPC that gRPC's shutdown waits
// for), then joins the threads.
class RpcExecutor {
 public:
  explicit RpcExecutor(int threads);
  ~RpcExecutor();
  RpcExecutor(const RpcExecutor&) = delete;
  RpcExecutor& operator=(const RpcExecutor&) = delete;

  void Run(std::function<void()> task);

 private:
  void Work();

  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_RPC_EXECUTOR_H_
