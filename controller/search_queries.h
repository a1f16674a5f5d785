#ifndef NAS_CONTROLLER_SEARCH_QUERIES_H_
#define NAS_CONTROLLER_SEARCH_QUERIES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/clock.h"
#include "controller/progress_board.h"
#include "controller/store/trial_store.h"
#include "proto/nas.pb.h"

namespace nas::controller {

// A trained model and the trial it belongs to.
struct ModelExport {
  v1::Trial trial;
  std::string torchscript;      // format TORCHSCRIPT.
  v1::QuantizedModel int8_model;  // format INT8.
};

// Read-only views of searches for clients: searches with their ETA, trials,
// the Pareto front and trained models, all read from the store. Thread-safe;
// borrows the store and clock, which must outlive it.
class SearchQueries {
 public:
  // `progress` (may be null) is where running trials' progress is read.
  SearchQueries(TrialStore* store, const Clock* clock,
                absl::Duration worker_timeout,
                const ProgressBoard* progress = nullptr)
      : store_(store),
        clock_(clock),
        worker_timeout_(worker_timeout),
        progress_(progress) {}
  SearchQueries(const SearchQueries&) = delete;
  SearchQueries& operator=(const SearchQueries&) = delete;

  // NotFound for an unknown search (here and below).
  absl::StatusOr<v1::Search> GetSearch(int64_t search_id);
  // Newest first; `limit` 0 means 100.
  absl::StatusOr<std::vector<v1::Search>> ListSearches(int limit);
  // NotFound for an unknown trial. A RUNNING trial carries its progress
  // (here and in ListTrials) once its worker sent some.
  absl::StatusOr<v1::Trial> GetTrial(int64_t trial_id);
  // The progress of the search's running trials, by trial number.
  std::vector<v1::TrialProgress> RunningProgress(int64_t search_id) const;
  // In number order; UNSPECIFIED = every state.
  absl::StatusOr<std::vector<v1::Trial>> ListTrials(int64_t search_id,
                                                    v1::TrialState state);
  // The search's Pareto front under its spec's rules (common/pareto.h:
  // one point per architecture, floors, the spec's metric, SRAM as
  // max(peak, arena), spread as tie-breaker), best quality first. With
  // `device`, the front of the trials whose network fits that built-in
  // device's (or the search's own custom device's) flash and SRAM; an
  // unknown device is InvalidArgument.
  absl::StatusOr<std::vector<v1::Trial>> ParetoFront(int64_t search_id,
                                                     const std::string& device);
  // The TorchScript of a trial of the search; trial 0 = the best one.
  // FailedPrecondition when there is no such model (yet).
  absl::StatusOr<ModelExport> ExportModel(
      int64_t search_id, int64_t trial_id,
      v1::ModelFormat format = v1::TORCHSCRIPT);
  // What the search's policy has learnt, as stored: the stored state with
  // q_entries and the `top` (>= 0) highest Q entries filled in; the
  // policy's name from the spec and nothing learnt when nothing is stored.
  // kDataLoss when the stored state cannot be parsed.
  absl::StatusOr<v1::PolicyState> GetPolicyState(int64_t search_id, int top);

 private:
  absl::StatusOr<int> LiveSlots();
  void AttachProgress(v1::Trial* trial) const;

  TrialStore* const store_;
  const Clock* const clock_;
  const absl::Duration worker_timeout_;
  const ProgressBoard* const progress_;
};

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_SEARCH_QUERIES_H_
