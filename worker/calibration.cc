#include "worker/calibration.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "worker/dataset_batch.h"

namespace nas::worker {
namespace {

constexpr int64_t kCalibrationBatch = 256;
constexpr int kDefaultSamples = 1000;
constexpr double kDefaultPercentile = 99.99;
// Calibration draws its own sample from the trial seed, apart from the
// epochs' batch order.
constexpr uint64_t kCalibrationSeedSalt = 0x63616c6962726174ULL;  // "calibrat"

// One tensor's statistics over the calibration set.
struct TensorStats {
  double min = 0, max = 0;
  int64_t positives = 0, negatives = 0;
  // Percentile pass: the largest values above 0 and the largest magnitudes
  // below 0, as many as lie at or beyond the percentile.
  int64_t keep_top = 0, keep_bottom = 0;
  torch::Tensor top, bottom;
};

void ForEachBatch(const FoldedNetwork& net, const SampleSet& set,
                  const InputNormalization& normalization,
                  const std::vector<int64_t>& indices, const torch::Device& device,
                  const FoldedNetwork::Observer& observe) {
  torch::NoGradGuard no_grad;
  const auto total = static_cast<int64_t>(indices.size());
  for (int64_t begin = 0; begin < total; begin += kCalibrationBatch) {
    const int64_t n = std::min(kCalibrationBatch, total - begin);
    const Batch batch =
        MakeBatch(set, normalization, indices.data() + begin, n, device, false);
    net.Forward(batch.inputs, nullptr, observe);
  }
}

void CountPass(const torch::Tensor& v, bool percentile, TensorStats* s) {
  s->min = std::min(s->min, v.min().item<double>());
  s->max = std::max(s->max, v.max().item<double>());
  if (!percentile) return;
  s->positives += (v > 0).sum().item<int64_t>();
  s->negatives += (v < 0).sum().item<int64_t>();
}

// Keeps the `keep` largest of `kept` and `values`.
torch::Tensor KeepLargest(const torch::Tensor& kept, const torch::Tensor& values,
                          int64_t keep) {
  const torch::Tensor all = kept.defined() ? torch::cat({kept, values}) : values;
  if (all.numel() <= keep) return all;
  return std::get<0>(all.topk(keep, 0, /*largest=*/true, /*sorted=*/false));
}

void PercentilePass(const torch::Tensor& v, TensorStats* s) {
  if (s->keep_top > 0) {
    s->top = KeepLargest(s->top, v.masked_select(v > 0), s->keep_top);
  }
  if (s->keep_bottom > 0) {
    s->bottom = KeepLargest(s->bottom, v.neg().masked_select(v < 0), s->keep_bottom);
  }
}

// How many of `n` values lie at or beyond the p-th percentile (nearest
// rank: the value of rank ceil(p / 100 * n), 1-based ascending).
int64_t KeepCount(int64_t n, double p) {
  if (n == 0) return 0;
  const auto rank = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(p / 100.0 * n)));
  return n - std::min(rank, n) + 1;
}

mcu::FloatRange ToRange(const TensorStats& s, bool percentile) {
  if (!percentile) return {s.min, s.max};
  mcu::FloatRange range;
  if (s.top.defined() && s.top.numel() > 0) range.max = s.top.min().item<double>();
  if (s.bottom.defined() && s.bottom.numel() > 0) {
    range.min = -s.bottom.min().item<double>();
  }
  return range;
}

}  // namespace

CalibrationSettings CalibrationSettings::FromRecipe(const v1::TrainingRecipe& recipe) {
  CalibrationSettings s;
  s.samples = recipe.calibration_samples() > 0 ? recipe.calibration_samples()
                                               : kDefaultSamples;
  s.percentile = recipe.calibration() == "percentile";
  s.percentile_value = recipe.calibration_percentile() > 0
                           ? recipe.calibration_percentile()
                           : kDefaultPercentile;
  return s;
}

std::string CalibrationSettings::Description() const {
  return percentile ? absl::StrCat("percentile ", percentile_value) : "minmax";
}

std::vector<int64_t> CalibrationIndices(const std::vector<int64_t>& train, int count,
                                        uint64_t seed) {
  std::vector<int64_t> indices = train;
  std::mt19937_64 rng(seed ^ kCalibrationSeedSalt);
  ShuffleIndices(&rng, &indices);
  indices.resize(std::min<size_t>(indices.size(), std::max(count, 0)));
  std::sort(indices.begin(), indices.end());
  return indices;
}

absl::StatusOr<CalibratedRanges> Calibrate(const FoldedNetwork& net, const SampleSet& set,
                                           const InputNormalization& normalization,
                                           const std::vector<int64_t>& indices,
                                           const CalibrationSettings& settings,
                                           const torch::Device& device) {
  if (indices.empty()) {
    return absl::InvalidArgumentError("int8 calibration: no training samples");
  }
  // stats[0] is the network input, stats[1 + i] op i's output.
  std::vector<TensorStats> stats(net.plan().ops.size() + 1);
  const bool percentile = settings.percentile;
  ForEachBatch(net, set, normalization, indices, device,
               [&](int op, const torch::Tensor& v) {
                 CountPass(v, percentile, &stats[op + 1]);
               });
  if (percentile) {
    for (TensorStats& s : stats) {
      s.keep_top = KeepCount(s.positives, settings.percentile_value);
      s.keep_bottom = KeepCount(s.negatives, settings.percentile_value);
    }
    ForEachBatch(net, set, normalization, indices, device,
                 [&](int op, const torch::Tensor& v) {
                   PercentilePass(v, &stats[op + 1]);
                 });
  }
  CalibratedRanges ranges;
  ranges.input = ToRange(stats[0], percentile);
  for (size_t i = 1; i < stats.size(); ++i) {
    ranges.outputs.push_back(ToRange(stats[i], percentile));
  }
  return ranges;
}

}  // namespace nas::worker
