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

// The inputs of one data file as a worker keeps them: 8-bit samples (IDX,
// uint8 NumPy) as their bytes, everything else as float32, always raw.
// Normalisation happens per trial when a batch is built (dataset_batch.h,
// normalization.h), never in storage.
//
// Immutable once loaded, so one SampleInputs is shared without locking by
// every Dataset, trial and slot that reads the file.
struct SampleInputs {
  std::vector<int64_t> shape;   // Per sample: {C, H, W} or {C, L}.
  int64_t sample_size = 0;      // Product of `shape`.
  std::vector<uint8_t> pixels;  // 8-bit: count() * sample_size bytes; else empty.
  std::vector<float> values;    // Else count() * sample_size floats; else empty.

  int64_t count() const;
  // Bytes of sample storage (pixels or values).
  int64_t bytes() const;

  // Writes sample `index` to out[0 .. sample_size) as stored, in float
  // (pixels 0..255, values unchanged): the raw values a trial's
  // InputNormalization (normalization.h) turns into the network's input.
  void CopyRaw(int64_t index, float* out) const;
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

  // The inputs stored under `key` (the file and how it is read), or null.
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
