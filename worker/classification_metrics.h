#ifndef NAS_WORKER_CLASSIFICATION_METRICS_H_
#define NAS_WORKER_CLASSIFICATION_METRICS_H_

#include <cstdint>
#include <vector>

namespace nas::worker {

// Counts (true class, predicted class) pairs and derives top-1 accuracy and
// macro-F1. Not thread-safe; one evaluation owns one matrix.
class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int num_classes);

  // Labels outside [0, num_classes) are a caller bug (CHECK-fails).
  void Add(int truth, int predicted);

  int64_t total() const { return total_; }
  int64_t count(int truth, int predicted) const;

  // Correct / total; 0 when empty.
  double Accuracy() const;

  // Mean over classes of per-class F1 = 2TP / (2TP + FP + FN). A class with
  // no support and no predictions (TP + FP + FN == 0) has an undefined F1 and
  // is left out of the mean, so a validation subset that happens to lack a
  // rare class is not penalised for it; a class that was predicted but never
  // present counts with F1 = 0. 0 when empty.
  double MacroF1() const;

 private:
  int num_classes_;
  std::vector<int64_t> counts_;  // counts_[truth * num_classes_ + predicted]
  int64_t total_ = 0;
};

}  // namespace nas::worker

#endif  // NAS_WORKER_CLASSIFICATION_METRICS_H_
