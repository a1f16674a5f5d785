#ifndef NAS_WORKER_DATASET_INPUTS_H_
#define NAS_WORKER_DATASET_INPUTS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace nas::worker {

// The inputs of one data file as a worker keeps them: 8-bit images as their
// bytes, time series as float32. Normalisation happens when a batch is built
// (dataset_batch.h), never in storage.
//
// Immutable once loaded, so one SampleInputs is shared without locking by
// every Dataset, trial and slot that reads the file.
struct SampleInputs {
  std::vector<int64_t> shape;   // Per sample: {C, H, W} or {C, L}.
  int64_t sample_size = 0;      // Product of `shape`.
  std::vector<uint8_t> pixels;  // IDX: count() * sample_size bytes; else empty.
  std::vector<float> values;    // UCR: count() * sample_size floats; else empty.

  int64_t count() const;
  // Bytes of sample storage (pixels or values).
  int64_t bytes() const;

  // Writes sample `index` to out[0 .. sample_size): pixels scaled to [0, 1]
  // (x * (1 / 255.f)), time-series values unchanged (UCR series are
  // z-normalised). This is also the input convention of the exported model.
  void CopySample(int64_t index, float* out) const;
};

// Keeps the inputs of each data file once per worker process. LoadDataset
// asks it before reading a file and hands it what it read, so that specs
// naming the same file (with or without the test files, with other class
// counts or splits) share one copy.
//
// Thread-safe. Entries live as long as the cache (the worker's DatasetCache
// owns it); a SampleInputs stays valid while anyone holds its shared_ptr.
class InputsCache {
 public:
  InputsCache() = default;
  InputsCache(const InputsCache&) = delete;
  InputsCache& operator=(const InputsCache&) = delete;

  // The inputs stored under `key` (format and path of the file), or null.
  std::shared_ptr<const SampleInputs> Find(const std::string& key) const;

  // Stores `inputs` under `key` and returns them; when a concurrent load
  // stored the same file first, returns that copy and drops `inputs`.
  std::shared_ptr<const SampleInputs> Intern(const std::string& key,
                                             SampleInputs inputs);

  // Files stored so far.
  int size() const;

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const SampleInputs>> entries_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace nas::worker

#endif  // NAS_WORKER_DATASET_INPUTS_H_
