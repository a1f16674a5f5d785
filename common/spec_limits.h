#ifndef NAS_COMMON_SPEC_LIMITS_H_
#define NAS_COMMON_SPEC_LIMITS_H_

// Bounds on what a search spec may hold, whoever sends it (YAML or proto):
// text lengths and characters, list sizes, and numeric ranges that would
// otherwise let one request make a worker train forever or the controller
// hold gigabytes. CompleteSearchSpec applies them, so that every way a spec
// arrives (YAML from nasctl, a proto from any client) meets the one table
// below; nothing else defines a submission limit.

#include <string>
#include <vector>

#include "proto/nas.pb.h"

namespace nas {

inline constexpr size_t kMaxSpecNameLength = 200;
inline constexpr size_t kMaxNameLength = 100;    // data set, device, core
inline constexpr size_t kMaxPathLength = 4096;   // data set files
inline constexpr int kMaxChoices = 64;           // each list of space choices
inline constexpr int kMaxSeedArchitectures = 100;
inline constexpr int kMaxEpsilonSteps = 1000;
inline constexpr int kMaxSizeBins = 64;
inline constexpr int kMaxEpochs = 10000;
inline constexpr int kMaxBatchSize = 65536;
inline constexpr int kMaxLatencyRuns = 10000;
inline constexpr int kMaxCalibrationSamples = 100000;
inline constexpr int kMaxTrials = 100000;  // budget.max_trials
inline constexpr int kMaxAttempts = 100;

// Appends one line per broken bound to `problems`, each naming the field
// path ("name: contains a control character ...", "training.epochs: at most
// 10000, got 2147483647"). Numbers that must be finite (learning rate,
// weights, device clock) are checked here too.
void CheckSpecLimits(const v1::SearchSpec& spec,
                     std::vector<std::string>* problems);

}  // namespace nas

#endif  // NAS_COMMON_SPEC_LIMITS_H_
