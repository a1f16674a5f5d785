#include "worker/folds.h"

#include <cmath>
#include <functional>

namespace nas::worker {
namespace {

using Field = std::function<double(const v1::Metrics&)>;

MeanSpread Over(const std::vector<v1::Metrics>& folds, const Field& field) {
  std::vector<double> values;
  for (const v1::Metrics& m : folds) values.push_back(field(m));
  return MeanAndSpread(values);
}

}  // namespace

MeanSpread MeanAndSpread(const std::vector<double>& values) {
  MeanSpread result;
  if (values.empty()) return result;
  for (double v : values) result.mean += v;
  result.mean /= values.size();
  double squares = 0;
  for (double v : values) squares += (v - result.mean) * (v - result.mean);
  result.spread = std::sqrt(squares / values.size());
  return result;
}

v1::Metrics CombineFolds(const std::vector<v1::Metrics>& folds) {
  if (folds.empty()) return v1::Metrics();
  v1::Metrics combined = folds[0];
  if (folds.size() < 2) return combined;
  const bool int8 = combined.int8();
  const MeanSpread accuracy = Over(folds, &v1::Metrics::accuracy);
  const MeanSpread macro_f1 = Over(folds, &v1::Metrics::macro_f1);
  combined.set_accuracy(accuracy.mean);
  combined.set_macro_f1(macro_f1.mean);
  MeanSpread deployed_accuracy = accuracy, deployed_f1 = macro_f1;
  if (int8) {
    deployed_accuracy = Over(folds, &v1::Metrics::accuracy_int8);
    deployed_f1 = Over(folds, &v1::Metrics::macro_f1_int8);
    combined.set_accuracy_int8(deployed_accuracy.mean);
    combined.set_macro_f1_int8(deployed_f1.mean);
  }
  combined.set_folds(static_cast<int32_t>(folds.size()));
  combined.set_accuracy_spread(deployed_accuracy.spread);
  combined.set_macro_f1_spread(deployed_f1.spread);
  combined.set_final_loss(Over(folds, &v1::Metrics::final_loss).mean);
  double seconds = 0, samples = 0;
  for (const v1::Metrics& m : folds) {
    seconds += m.train_seconds();
    samples += m.samples_per_second() * m.train_seconds();
  }
  combined.set_train_seconds(seconds);
  combined.set_samples_per_second(seconds > 0 ? samples / seconds : 0);
  return combined;
}

}  // namespace nas::worker
