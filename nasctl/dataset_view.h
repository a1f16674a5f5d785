#ifndef NAS_NASCTL_DATASET_VIEW_H_
#define NAS_NASCTL_DATASET_VIEW_H_

// How nasctl (show, the report) describes a search's data set, and a score
// measured over several folds. Pure functions of their arguments.

#include <string>
#include <utility>
#include <vector>

#include "proto/nas.pb.h"

namespace nas::nasctl {

// The data set as `show` lists it, one (key, value) a line, from the
// completed spec and the summary the controller read at submit:
//   dataset        japanese-vowels (ts), 270 train / 370 test samples
//   input          12 channels x 29 (stored 7..26 long: padded 640 at the
//                  end, cut 0 to length 29)
//   classes        9: 1, 2, 3, 4, 5, 6, 7, 8, 9   (abbreviated when many)
//   normalization  zscore per channel (training split's mean and std)
//   validation     5 stratified folds  |  hold-out 10% (stratified)
// A spec stored before summaries existed gives what the spec says.
std::vector<std::pair<std::string, std::string>> DatasetLines(
    const v1::DatasetSpec& dataset);

// The same in one line (the report's summary): the values joined by "; ".
std::string DatasetSummary(const v1::DatasetSpec& dataset);

// The class names as shown: every one up to 12, else the first 8, "...",
// and the last 2; each cut to 24 characters, control characters replaced.
std::string ClassNamesText(const v1::DatasetSummary& summary);

// "0.9120" for one hold-out split; "0.9120 ± 0.0140" (mean ± spread) when
// the figure is a mean over folds > 1.
std::string ScoreWithSpread(double value, double spread, int folds);

}  // namespace nas::nasctl

#endif  // NAS_NASCTL_DATASET_VIEW_H_
