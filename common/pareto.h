#ifndef NAS_COMMON_PARETO_H_
#define NAS_COMMON_PARETO_H_

// The Pareto front of a search: the one computation the GetParetoFront RPC,
// the Prometheus front-size gauge and `nasctl report` share (the report
// shows the RPC's front). Pure functions, thread-safe; FrontBuilder is a
// plain value (not thread-safe).
//
// The rules (FrontRulesFor):
// - the candidates are the SUCCEEDED and CACHED trials, one point per
//   architecture: a trial whose arch_hash an earlier final trial (by
//   number) already has is not a second point (a CACHED repeat);
// - a trial whose deployed figures are below constraints.min_accuracy or
//   min_macro_f1 is not a candidate (MeetsFloors);
// - the objectives, all minimised, are {1 - quality, flash, SRAM, MACs}:
//   quality is the deployed macro-F1 when reward.metric is macro_f1 or
//   macro_f1_int8, else the deployed accuracy (int8 figures when the trial
//   was quantised); SRAM is SramUsage, max(peak, arena), the figure the
//   constraints use;
// - a point dominates another when it is no worse in every objective and
//   better in one, or equal in every objective with a smaller spread of its
//   quality over the folds (Metrics.accuracy_spread or macro_f1_spread).
//   Points equal in everything are all kept.

#include <array>
#include <cstddef>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "proto/nas.pb.h"

namespace nas {

// What decides a search's front. Plain value type.
struct FrontRules {
  bool macro_f1 = false;    // Quality is the deployed macro-F1.
  double min_accuracy = 0;  // Floors on the deployed figures; 0 = none.
  double min_macro_f1 = 0;
};

// The rules of a (completed) spec: its reward.metric and its floors.
FrontRules FrontRulesFor(const v1::SearchSpec& spec);

// The front's quality of a trial (DeployedMacroF1 or DeployedAccuracy), its
// spread over the folds (0 with one split), and the quality's name as shown
// ("macro-F1" or "accuracy").
double FrontQuality(const FrontRules& rules, const v1::Metrics& m);
double FrontSpread(const FrontRules& rules, const v1::Metrics& m);
const char* FrontQualityName(const FrontRules& rules);

// Whether the deployed figures reach both floors (0 = no floor). The reward
// treats a network below one as a constraint violation.
bool MeetsFloors(double min_accuracy, double min_macro_f1,
                 const v1::Metrics& m);

// One candidate as the front compares it.
struct FrontPoint {
  std::array<double, 4> objectives{};  // {1 - quality, flash, SRAM, MACs}.
  double spread = 0;
};
FrontPoint FrontPointOf(const FrontRules& rules, const v1::Metrics& m);

// True when `a` dominates `b` (see the rules above). A strict partial
// order, so a front may be computed a chunk at a time.
bool Dominates(const FrontPoint& a, const FrontPoint& b);

// Indices (ascending) of the non-dominated points. O(n^2).
std::vector<size_t> ParetoFrontIndices(const std::vector<FrontPoint>& points);

// The front of trials offered one at a time in ascending number order, in
// memory linear in the front and the number of distinct architectures (a
// search's trials can be read page by page).
class FrontBuilder {
 public:
  explicit FrontBuilder(const FrontRules& rules) : rules_(rules) {}

  // Offers the next trial (number, state, arch_hash and metrics are read).
  // Trials that are not candidates are counted and otherwise ignored. An
  // empty arch_hash is an architecture of its own.
  void Add(const v1::Trial& trial);
  // Positions (0-based, in Add order, ascending) of the offered trials that
  // are on the front.
  std::vector<size_t> Front();

 private:
  // Brings front_ to the front of front_ + pending_.
  void Merge();

  FrontRules rules_;
  std::unordered_set<std::string> architectures_;
  size_t offered_ = 0;
  std::vector<std::pair<size_t, FrontPoint>> front_;
  std::vector<std::pair<size_t, FrontPoint>> pending_;
};

// Indices (ascending) of the trials on the front; `trials` in any order
// (they are offered by number).
std::vector<size_t> ParetoFront(const FrontRules& rules,
                                const std::vector<v1::Trial>& trials);

// The figures of the model that ships: the int8 model's when the trial was
// quantised (m.int8()), else the float model's.
double DeployedAccuracy(const v1::Metrics& m);
double DeployedMacroF1(const v1::Metrics& m);
double DeployedTestAccuracy(const v1::Metrics& m);

}  // namespace nas

#endif  // NAS_COMMON_PARETO_H_
