#include "common/pareto.h"

#include <algorithm>
#include <numeric>

#include "common/cost_model.h"

namespace nas {
namespace {

// Points compared at once when a front is extended (the comparison is
// quadratic in its input).
constexpr size_t kMergeChunk = 512;

bool IsFinal(v1::TrialState state) {
  return state == v1::TRIAL_SUCCEEDED || state == v1::TRIAL_CACHED;
}

}  // namespace

FrontRules FrontRulesFor(const v1::SearchSpec& spec) {
  FrontRules rules;
  const std::string& metric = spec.reward().metric();
  rules.macro_f1 = metric == "macro_f1" || metric == "macro_f1_int8";
  rules.min_accuracy = spec.constraints().min_accuracy();
  rules.min_macro_f1 = spec.constraints().min_macro_f1();
  return rules;
}

double FrontQuality(const FrontRules& rules, const v1::Metrics& m) {
  return rules.macro_f1 ? DeployedMacroF1(m) : DeployedAccuracy(m);
}

double FrontSpread(const FrontRules& rules, const v1::Metrics& m) {
  return rules.macro_f1 ? m.macro_f1_spread() : m.accuracy_spread();
}

const char* FrontQualityName(const FrontRules& rules) {
  return rules.macro_f1 ? "macro-F1" : "accuracy";
}

bool MeetsFloors(double min_accuracy, double min_macro_f1,
                 const v1::Metrics& m) {
  return !(min_accuracy > 0 && DeployedAccuracy(m) < min_accuracy) &&
         !(min_macro_f1 > 0 && DeployedMacroF1(m) < min_macro_f1);
}

FrontPoint FrontPointOf(const FrontRules& rules, const v1::Metrics& m) {
  FrontPoint p;
  p.objectives = {
      1.0 - FrontQuality(rules, m), static_cast<double>(m.flash_bytes()),
      static_cast<double>(SramUsage(m)), static_cast<double>(m.macs())};
  p.spread = FrontSpread(rules, m);
  return p;
}

bool Dominates(const FrontPoint& a, const FrontPoint& b) {
  bool strictly_better = false;
  for (size_t i = 0; i < a.objectives.size(); ++i) {
    if (a.objectives[i] > b.objectives[i]) return false;
    if (a.objectives[i] < b.objectives[i]) strictly_better = true;
  }
  // Equal everywhere: the steadier network (smaller spread) wins.
  return strictly_better || a.spread < b.spread;
}

std::vector<size_t> ParetoFrontIndices(const std::vector<FrontPoint>& points) {
  std::vector<size_t> front;
  for (size_t i = 0; i < points.size(); ++i) {
    bool dominated = false;
    for (size_t j = 0; j < points.size() && !dominated; ++j) {
      dominated = j != i && Dominates(points[j], points[i]);
    }
    if (!dominated) front.push_back(i);
  }
  return front;
}

void FrontBuilder::Add(const v1::Trial& trial) {
  const size_t position = offered_++;
  if (!IsFinal(trial.state())) return;
  if (!trial.arch_hash().empty() &&
      !architectures_.insert(trial.arch_hash()).second) {
    return;  // The architecture's point is its first final trial.
  }
  const v1::Metrics& m = trial.metrics();
  if (!MeetsFloors(rules_.min_accuracy, rules_.min_macro_f1, m)) return;
  pending_.emplace_back(position, FrontPointOf(rules_, m));
  if (pending_.size() >= kMergeChunk) Merge();
}

void FrontBuilder::Merge() {
  if (pending_.empty()) return;
  // front_ holds earlier positions than pending_, so the batch stays in
  // position order.
  std::vector<std::pair<size_t, FrontPoint>> batch = std::move(front_);
  batch.insert(batch.end(), pending_.begin(), pending_.end());
  pending_.clear();
  std::vector<FrontPoint> points;
  points.reserve(batch.size());
  for (const auto& entry : batch) points.push_back(entry.second);
  front_.clear();
  for (size_t i : ParetoFrontIndices(points)) front_.push_back(batch[i]);
}

std::vector<size_t> FrontBuilder::Front() {
  Merge();
  std::vector<size_t> positions;
  positions.reserve(front_.size());
  for (const auto& entry : front_) positions.push_back(entry.first);
  return positions;
}

std::vector<size_t> ParetoFront(const FrontRules& rules,
                                const std::vector<v1::Trial>& trials) {
  std::vector<size_t> order(trials.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return trials[a].number() < trials[b].number();
  });
  FrontBuilder builder(rules);
  for (size_t i : order) builder.Add(trials[i]);
  std::vector<size_t> front;
  for (size_t position : builder.Front()) front.push_back(order[position]);
  std::sort(front.begin(), front.end());
  return front;
}

double DeployedAccuracy(const v1::Metrics& m) {
  return m.int8() ? m.accuracy_int8() : m.accuracy();
}

double DeployedMacroF1(const v1::Metrics& m) {
  return m.int8() ? m.macro_f1_int8() : m.macro_f1();
}

double DeployedTestAccuracy(const v1::Metrics& m) {
  return m.int8() ? m.test_accuracy_int8() : m.test_accuracy();
}

}  // namespace nas
