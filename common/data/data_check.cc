// CheckDataFiles (samples.h): the submit check, with its per-file cache.

#include <sys/stat.h>

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/data/samples.h"
#include "common/data/text_fields.h"
#include "common/status_macros.h"

namespace nas::data {
namespace {

// What the check keeps of one file: everything but the values and the
// per-sample labels.
struct FileFacts {
  std::vector<int64_t> shape;
  int64_t count = 0;
  std::set<std::string> labels;
  int64_t padded = 0;
  int64_t cut = 0;
  int64_t min_length = 0;
  int64_t max_length = 0;
};

// The facts of recently checked files, keyed by what they depend on; the
// oldest entry goes first when it is full. Thread-safe.
class FactsCache {
 public:
  static constexpr size_t kMaxEntries = 64;

  bool Find(const std::string& key, FileFacts* facts) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    const auto it = facts_.find(key);
    if (it == facts_.end()) return false;
    *facts = it->second;
    ++hits_;
    return true;
  }
  void Insert(const std::string& key, const FileFacts& facts)
      ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (!facts_.emplace(key, facts).second) return;
    order_.push_back(key);
    if (order_.size() > kMaxEntries) {
      facts_.erase(order_.front());
      order_.pop_front();
    }
  }
  int64_t hits() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return hits_;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, FileFacts> facts_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> order_ ABSL_GUARDED_BY(mu_);
  int64_t hits_ ABSL_GUARDED_BY(mu_) = 0;
};

FactsCache& Cache() {
  static auto* const cache = new FactsCache;
  return *cache;
}

// "path size mtime" of a file, or false when it cannot be stat'ed.
bool AppendIdentity(const std::string& path, std::string* key) {
  if (path.empty()) return true;
  struct stat info;
  if (stat(path.c_str(), &info) != 0) return false;
  absl::StrAppend(key, path, " ", info.st_size, " ", info.st_mtim.tv_sec, ".",
                  info.st_mtim.tv_nsec, "\n");
  return true;
}

// The cache key of one role's files under `spec`: the files' identities
// and every spec field the readers use. Empty when a file is missing.
std::string CacheKey(const v1::DatasetSpec& spec, FileRole role) {
  const bool train = role == FileRole::kTrain;
  std::string key = absl::StrCat(ReadingKey(spec, role), "\n");
  if (!AppendIdentity(train ? spec.train_path() : spec.test_path(), &key) ||
      !AppendIdentity(
          train ? spec.train_labels_path() : spec.test_labels_path(), &key)) {
    return "";
  }
  return key;
}

absl::StatusOr<FileFacts> ReadFacts(const v1::DatasetSpec& spec,
                                    FileRole role) {
  const std::string key = CacheKey(spec, role);
  FileFacts facts;
  if (!key.empty() && Cache().Find(key, &facts)) return facts;
  ReadOptions options;
  options.keep_values = false;
  NAS_ASSIGN_OR_RETURN(RawSamples samples, ReadSamples(spec, role, options));
  facts.shape = samples.shape;
  facts.count = samples.count;
  facts.labels.insert(samples.labels.begin(), samples.labels.end());
  facts.padded = samples.padded;
  facts.cut = samples.cut;
  facts.min_length = samples.min_length;
  facts.max_length = samples.max_length;
  if (!key.empty()) Cache().Insert(key, facts);
  return facts;
}

absl::Status CheckShape(const v1::DatasetSpec& spec, const std::string& path,
                        const FileFacts& facts) {
  const auto& dims = spec.input_shape().dims();
  if (dims.empty()) return absl::OkStatus();
  std::vector<int64_t> expected(dims.begin(), dims.end());
  if (expected.size() == 1) expected.insert(expected.begin(), 1);
  if (facts.shape == expected) return absl::OkStatus();
  const bool series_length = facts.shape.size() == 2 && expected.size() == 2 &&
                             facts.shape[0] == expected[0];
  return absl::InvalidArgumentError(absl::StrCat(
      path, ": samples are ", ShapeText(facts.shape),
      ", dataset.input_shape says ", ShapeText(expected),
      series_length ? " (dataset.length pads or cuts series to one length)"
                    : ""));
}

}  // namespace

absl::StatusOr<v1::DatasetSummary> CheckDataFiles(const v1::DatasetSpec& spec) {
  std::vector<std::pair<std::string, FileFacts>> files;
  NAS_ASSIGN_OR_RETURN(FileFacts train, ReadFacts(spec, FileRole::kTrain));
  files.emplace_back(spec.train_path(), std::move(train));
  const bool test = spec.evaluate_test() && !spec.test_path().empty();
  if (test) {
    NAS_ASSIGN_OR_RETURN(FileFacts facts, ReadFacts(spec, FileRole::kTest));
    files.emplace_back(spec.test_path(), std::move(facts));
  }
  v1::DatasetSummary summary;
  std::vector<std::string> labels;
  std::vector<std::string> paths;
  for (const auto& [path, facts] : files) {
    NAS_RETURN_IF_ERROR(CheckShape(spec, path, facts));
    labels.insert(labels.end(), facts.labels.begin(), facts.labels.end());
    paths.push_back(path);
    summary.set_padded(summary.padded() + facts.padded);
    summary.set_cut(summary.cut() + facts.cut);
    if (facts.max_length > 0) {
      summary.set_min_length(
          summary.min_length() == 0
              ? facts.min_length
              : std::min(summary.min_length(), facts.min_length));
      summary.set_max_length(std::max(summary.max_length(), facts.max_length));
    }
  }
  summary.set_train_samples(files[0].second.count);
  if (test) summary.set_test_samples(files[1].second.count);
  const std::vector<std::string> classes = SortedDistinctLabels(labels);
  if (spec.num_classes() > 0 &&
      static_cast<int64_t>(classes.size()) > spec.num_classes()) {
    constexpr size_t kShown = 10;
    std::vector<std::string> shown(
        classes.begin(), classes.begin() + std::min(kShown, classes.size()));
    if (classes.size() > kShown) shown.push_back("...");
    return absl::InvalidArgumentError(
        absl::StrCat(absl::StrJoin(paths, " and "), ": labels span ",
                     classes.size(), " classes (", absl::StrJoin(shown, ", "),
                     "), dataset.num_classes says ", spec.num_classes()));
  }
  for (const std::string& name : classes) summary.add_class_names(name);
  return summary;
}

int64_t CheckDataFilesCacheHitsForTest() { return Cache().hits(); }

}  // namespace nas::data
