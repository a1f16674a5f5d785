#include "worker/classification_metrics.h"

#include "common/logging.h"

namespace nas::worker {

ConfusionMatrix::ConfusionMatrix(int num_classes)
    : num_classes_(num_classes),
      counts_(static_cast<size_t>(num_classes) * num_classes, 0) {}

void ConfusionMatrix::Add(int truth, int predicted) {
  CHECK(truth >= 0 && truth < num_classes_) << "truth " << truth;
  CHECK(predicted >= 0 && predicted < num_classes_) << "predicted " << predicted;
  ++counts_[static_cast<size_t>(truth) * num_classes_ + predicted];
  ++total_;
}

int64_t ConfusionMatrix::count(int truth, int predicted) const {
  return counts_[static_cast<size_t>(truth) * num_classes_ + predicted];
}

double ConfusionMatrix::Accuracy() const {
  if (total_ == 0) return 0.0;
  int64_t correct = 0;
  for (int c = 0; c < num_classes_; ++c) correct += count(c, c);
  return static_cast<double>(correct) / total_;
}

double ConfusionMatrix::MacroF1() const {
  double sum = 0.0;
  int classes = 0;
  for (int c = 0; c < num_classes_; ++c) {
    const int64_t tp = count(c, c);
    int64_t fp = 0, fn = 0;
    for (int o = 0; o < num_classes_; ++o) {
      if (o == c) continue;
      fp += count(o, c);
      fn += count(c, o);
    }
    if (tp + fp + fn == 0) continue;  // Undefined: no support, no predictions.
    sum += 2.0 * tp / (2.0 * tp + fp + fn);
    ++classes;
  }
  return classes == 0 ? 0.0 : sum / classes;
}

}  // namespace nas::worker
