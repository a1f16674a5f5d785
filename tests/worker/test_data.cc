#include "tests/worker/test_data.h"

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/architecture.h"
#include "common/datasets.h"
#include "common/logging.h"
#include "worker/dataset_cache.h"

namespace nas::worker::testing {
namespace {

v1::DatasetSpec Resolve(const std::string& name) {
  v1::DatasetSpec spec;
  spec.set_name(name);
  absl::StatusOr<v1::DatasetSpec> resolved = ResolveDataset(spec, DefaultDataRoot());
  CHECK(resolved.ok()) << resolved.status();
  resolved->set_validation_fraction(0.1);
  return *resolved;
}

}  // namespace

v1::DatasetSpec FashionMnistSpec() { return Resolve("fashion-mnist"); }
v1::DatasetSpec Ecg5000Spec() { return Resolve("ecg5000"); }
v1::DatasetSpec JapaneseVowelsSpec() { return Resolve("japanese-vowels"); }

std::shared_ptr<const Dataset> SharedDataset(const v1::DatasetSpec& spec) {
  static DatasetCache* cache = new DatasetCache();
  absl::StatusOr<std::shared_ptr<const Dataset>> data = cache->Get(spec);
  CHECK(data.ok()) << data.status();
  return *data;
}

v1::Architecture Arch(absl::string_view text) {
  absl::StatusOr<v1::Architecture> arch = ParseArchitecture(text);
  CHECK(arch.ok()) << arch.status();
  return *arch;
}

v1::TrialTask MakeTask(const v1::DatasetSpec& dataset, absl::string_view arch,
                       int epochs) {
  v1::TrialTask task;
  task.set_trial_id(1);
  task.set_search_id(1);
  task.set_lease_id("lease-1");
  *task.mutable_architecture() = Arch(arch);
  *task.mutable_dataset() = dataset;
  v1::TrainingRecipe* recipe = task.mutable_training();
  recipe->set_optimizer("adam");
  recipe->set_learning_rate(0.003);
  recipe->set_epochs(epochs);
  recipe->set_batch_size(32);
  recipe->set_latency_runs(5);
  task.set_seed(7);
  task.set_trial_seed(11);
  return task;
}

std::string TempDir() {
  static const std::string* dir = [] {
    char pattern[] = "/tmp/nas_worker_testXXXXXX";
    CHECK(mkdtemp(pattern) != nullptr);
    std::atexit([] { std::filesystem::remove_all(TempDir()); });
    return new std::string(pattern);
  }();
  return *dir;
}

std::string WriteTempFile(const std::string& name, const std::string& bytes) {
  const std::string path = TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

}  // namespace nas::worker::testing
