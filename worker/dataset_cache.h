#ifndef NAS_WORKER_DATASET_CACHE_H_
#define NAS_WORKER_DATASET_CACHE_H_

#include <future>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "proto/nas.pb.h"
#include "worker/dataset.h"

namespace nas::worker {

// Loads each data set once per worker process and hands the same immutable
// Dataset to every trial slot that asks for it. Underneath, each data file's
// inputs are kept once (an InputsCache): specs that differ in what is read
// around a file (test files or not, class count, input shape) get Datasets of
// their own that share the file's bytes.
//
// Thread-safe. Concurrent Get() calls for the same spec wait for one load
// instead of loading twice; loads of different specs run in parallel. A
// failed load is not cached, so a later Get() tries again (e.g. after a
// missing file appeared). Returned datasets stay valid as long as the caller
// holds the shared_ptr, independent of the cache's lifetime.
class DatasetCache {
 public:
  DatasetCache() = default;
  DatasetCache(const DatasetCache&) = delete;
  DatasetCache& operator=(const DatasetCache&) = delete;

  // Errors are LoadDataset()'s.
  absl::StatusOr<std::shared_ptr<const Dataset>> Get(const v1::DatasetSpec& spec);

  // Loads that completed so far (successful ones kept in the cache).
  int loads() const;

  // The cache key: format, the paths of the files LoadDataset reads (test
  // files only with evaluate_test), how they are read (layout, length, pad,
  // label column), and the input shape, class count and summary class names
  // the spec states (they shape what LoadDataset checks and returns). Split,
  // fold, subset and normalisation fields are per trial and not part of it.
  static std::string Key(const v1::DatasetSpec& spec);

 private:
  using Result = absl::StatusOr<std::shared_ptr<const Dataset>>;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_future<Result>> entries_
      ABSL_GUARDED_BY(mu_);
  int loads_ ABSL_GUARDED_BY(mu_) = 0;
  InputsCache inputs_;  // Thread-safe on its own.
};

}  // namespace nas::worker

#endif  // NAS_WORKER_DATASET_CACHE_H_
