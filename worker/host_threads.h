#ifndef NAS_WORKER_HOST_THREADS_H_
#define NAS_WORKER_HOST_THREADS_H_

#include <sys/types.h>

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace nas::worker {

// The cores of a host, shared fairly by the workers on it. Every CPU
// worker writes how many training threads it wants (slots x threads) to a
// file named by its pid in a shared folder (by default
// /dev/shm/tinynas-workers); before each trial a slot asks for its thread
// count, which is the configured one while all workers' wants fit the
// cores, and scaled down to the worker's share of the cores (at least one)
// when they do not. Two workers of 2 threads on 2 cores then train with one
// thread each instead of waiting in each other's OpenMP barriers (12x
// slower on short trials: bench/README.md, "Threads and slots"). Files of
// processes that are gone are removed. Workers in other containers (another
// /dev/shm) are not seen; their CPU quotas keep them apart.
//
// Thread-safe. A folder that cannot be used only logs a warning: the worker
// then trains with its configured threads.
class HostThreads {
 public:
  // `wanted`: this worker's slots x threads; `cores`: the usable cores.
  HostThreads(std::string folder, int wanted, int cores);
  ~HostThreads();  // Removes this worker's file.
  HostThreads(const HostThreads&) = delete;
  HostThreads& operator=(const HostThreads&) = delete;

  // Threads for one slot's next trial, given `threads` configured per slot:
  // `threads` when the host's wants fit its cores, else
  // max(1, threads x cores / total wants). The folder is read at most once
  // a second.
  int ThreadsPerSlot(int threads);

  // The wants of every live worker on the host, this one included.
  int total_wanted();

  static constexpr const char* kDefaultFolder = "/dev/shm/tinynas-workers";

 private:
  // Sums the live workers' files; removes those of dead processes.
  int ReadTotal() const;
  // Re-reads the folder when the last read is older than a second.
  void RefreshLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string folder_;
  const std::string file_;  // Empty when the folder could not be used.
  const int wanted_;
  const int cores_;
  absl::Mutex mu_;
  int total_ ABSL_GUARDED_BY(mu_);
  absl::Time read_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int last_logged_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace nas::worker

#endif  // NAS_WORKER_HOST_THREADS_H_
