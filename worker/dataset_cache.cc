#include "worker/dataset_cache.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/data/samples.h"

namespace nas::worker {

std::string DatasetCache::Key(const v1::DatasetSpec& spec) {
  std::string key = data::ReadingKey(spec, data::FileRole::kTrain);
  if (spec.evaluate_test()) {
    absl::StrAppend(&key, "\n", data::ReadingKey(spec, data::FileRole::kTest));
  }
  absl::StrAppend(&key, "\nclasses ", spec.num_classes());
  // The class names fix the label mapping; one name a line, length first
  // so that no name can pass for another.
  for (const std::string& name : spec.summary().class_names()) {
    absl::StrAppend(&key, "\nclass ", name.size(), ":", name);
  }
  return key;
}

absl::StatusOr<std::shared_ptr<const Dataset>> DatasetCache::Get(
    const v1::DatasetSpec& spec) {
  const std::string key = Key(spec);
  std::promise<Result> promise;
  std::shared_future<Result> pending;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      pending = it->second;
    } else {
      entries_.emplace(key, promise.get_future().share());
    }
  }
  if (pending.valid()) return pending.get();  // Another caller loads it.
  absl::StatusOr<Dataset> loaded = LoadDataset(spec, &inputs_);
  Result result = loaded.ok() ? Result(std::make_shared<const Dataset>(
                                    std::move(loaded).value()))
                              : Result(loaded.status());
  {
    absl::MutexLock lock(&mu_);
    ++loads_;
    if (!result.ok()) entries_.erase(key);
  }
  promise.set_value(result);
  return result;
}

int DatasetCache::loads() const {
  absl::MutexLock lock(&mu_);
  return loads_;
}

}  // namespace nas::worker
