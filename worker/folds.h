#ifndef NAS_WORKER_FOLDS_H_
#define NAS_WORKER_FOLDS_H_

// What a trial trained on K folds reports. Torch-free; stateless.

#include <vector>

#include "proto/nas.pb.h"

namespace nas::worker {

// Combines the metrics of the K >= 2 folds of one trial (all succeeded,
// fold 1 first) into the trial's: fold 1's metrics (its network gives the
// test figures, the latencies, the cost and the notes; epochs_run) with
//  - accuracy, macro_f1, accuracy_int8 and macro_f1_int8 the means over the
//    folds (the int8 ones when fold 1 has int8 figures),
//  - folds = K, accuracy_spread and macro_f1_spread the population standard
//    deviations over the folds of the deployed figures (int8 when
//    quantised, else float),
//  - final_loss the mean, train_seconds the sum and samples_per_second the
//    folds' training samples over their seconds.
// With fewer than 2 folds, the first one's metrics unchanged.
v1::Metrics CombineFolds(const std::vector<v1::Metrics>& folds);

// Mean and population standard deviation.
struct MeanSpread {
  double mean = 0;
  double spread = 0;
};
MeanSpread MeanAndSpread(const std::vector<double>& values);

}  // namespace nas::worker

#endif  // NAS_WORKER_FOLDS_H_
