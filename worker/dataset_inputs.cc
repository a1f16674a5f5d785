#include "worker/dataset_inputs.h"

#include <algorithm>
#include <utility>

namespace nas::worker {

int64_t SampleInputs::count() const {
  if (sample_size == 0) return 0;
  const auto stored = static_cast<int64_t>(pixels.empty() ? values.size() : pixels.size());
  return stored / sample_size;
}

int64_t SampleInputs::bytes() const {
  return static_cast<int64_t>(pixels.size() + values.size() * sizeof(float));
}

void SampleInputs::CopyRaw(int64_t index, float* out) const {
  const int64_t offset = index * sample_size;
  if (!pixels.empty()) {
    std::copy_n(pixels.data() + offset, sample_size, out);
  } else {
    std::copy_n(values.data() + offset, sample_size, out);
  }
}

std::shared_ptr<const SampleInputs> InputsCache::Find(const std::string& key) const {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : it->second;
}

std::shared_ptr<const SampleInputs> InputsCache::Intern(const std::string& key,
                                                        SampleInputs inputs) {
  auto stored = std::make_shared<const SampleInputs>(std::move(inputs));
  absl::MutexLock lock(&mu_);
  // emplace keeps an entry that a concurrent load stored first.
  return entries_.emplace(key, std::move(stored)).first->second;
}

int InputsCache::size() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(entries_.size());
}

}  // namespace nas::worker
