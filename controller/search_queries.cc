#include "controller/search_queries.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/cost_model.h"
#include "common/devices.h"
#include "common/status_macros.h"
#include "controller/scheduling_rules.h"

namespace nas::controller {
namespace {

constexpr int kDefaultListLimit = 100;

// Whether the trial's network fits the device's flash and SRAM, judged on
// the analytic metrics stored with it (flash and SRAM do not depend on the
// device, so the cost model need not run again).
bool Fits(const v1::Trial& trial, const EffectiveLimits& limits) {
  const v1::Metrics& m = trial.metrics();
  return m.flash_bytes() <= limits.flash_bytes &&
         SramUsage(m) <= limits.sram_bytes;
}

}  // namespace

absl::StatusOr<int> SearchQueries::LiveSlots() {
  NAS_ASSIGN_OR_RETURN(SlotCounts slots,
                       store_->CountSlots(clock_->Now() - worker_timeout_));
  return slots.total;
}

absl::StatusOr<v1::Search> SearchQueries::GetSearch(int64_t search_id) {
  NAS_ASSIGN_OR_RETURN(SearchRecord record, store_->GetSearch(search_id));
  NAS_ASSIGN_OR_RETURN(int slots, LiveSlots());
  record.search.set_eta_seconds(
      EstimateEtaSeconds(record, clock_->Now(), slots));
  return std::move(record.search);
}

absl::StatusOr<std::vector<v1::Search>> SearchQueries::ListSearches(int limit) {
  NAS_ASSIGN_OR_RETURN(
      std::vector<SearchRecord> records,
      store_->ListSearches(limit > 0 ? limit : kDefaultListLimit));
  NAS_ASSIGN_OR_RETURN(int slots, LiveSlots());
  std::vector<v1::Search> out;
  for (SearchRecord& record : records) {
    record.search.set_eta_seconds(
        EstimateEtaSeconds(record, clock_->Now(), slots));
    out.push_back(std::move(record.search));
  }
  return out;
}

absl::StatusOr<std::vector<v1::Trial>> SearchQueries::ListTrials(
    int64_t search_id, v1::TrialState state) {
  NAS_RETURN_IF_ERROR(store_->GetSearch(search_id).status());
  NAS_ASSIGN_OR_RETURN(std::vector<v1::Trial> trials,
                       store_->ListTrials(search_id, state));
  for (v1::Trial& trial : trials) AttachProgress(&trial);
  return trials;
}

absl::StatusOr<v1::Trial> SearchQueries::GetTrial(int64_t trial_id) {
  NAS_ASSIGN_OR_RETURN(v1::Trial trial, store_->GetTrial(trial_id));
  AttachProgress(&trial);
  return trial;
}

std::vector<v1::TrialProgress> SearchQueries::RunningProgress(
    int64_t search_id) const {
  if (progress_ == nullptr) return {};
  return progress_->ForSearch(search_id, clock_->Now());
}

void SearchQueries::AttachProgress(v1::Trial* trial) const {
  if (progress_ == nullptr || trial->state() != v1::TRIAL_RUNNING) return;
  std::optional<v1::TrialProgress> progress =
      progress_->ForTrial(trial->id(), clock_->Now());
  if (progress.has_value()) *trial->mutable_progress() = *std::move(progress);
}

absl::StatusOr<std::vector<v1::Trial>> SearchQueries::ParetoFront(
    int64_t search_id, const std::string& device) {
  NAS_ASSIGN_OR_RETURN(SearchRecord record, store_->GetSearch(search_id));
  NAS_ASSIGN_OR_RETURN(
      std::vector<v1::Trial> trials,
      store_->ListTrials(search_id, v1::TRIAL_STATE_UNSPECIFIED));
  if (!device.empty()) {
    absl::StatusOr<v1::DeviceProfile> profile = FindDeviceProfile(device);
    if (!profile.ok()) {
      // The search's own custom device is known by its name too.
      if (record.search.spec().device() != device) {
        return absl::InvalidArgumentError(
            absl::StrCat("device: ", profile.status().message()));
      }
      profile = record.search.spec().custom_device();
    }
    const EffectiveLimits limits = ComputeLimits(*profile, {});
    std::vector<v1::Trial> fitting;
    for (v1::Trial& t : trials) {
      if (Fits(t, limits)) fitting.push_back(std::move(t));
    }
    trials = std::move(fitting);
  }
  return ParetoTrials(trials, FrontRulesFor(record.search.spec()));
}

absl::StatusOr<ModelExport> SearchQueries::ExportModel(
    int64_t search_id, int64_t trial_id, v1::ModelFormat format) {
  NAS_ASSIGN_OR_RETURN(SearchRecord record, store_->GetSearch(search_id));
  if (trial_id == 0) {
    trial_id = record.search.best_trial_id();
    if (trial_id == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("search ", search_id, " has no successful trial yet"));
    }
  }
  ModelExport out;
  NAS_ASSIGN_OR_RETURN(out.trial, store_->GetTrial(trial_id));
  if (out.trial.search_id() != search_id) {
    return absl::NotFoundError(
        absl::StrCat("trial ", trial_id, " is not part of search ", search_id));
  }
  if (format != v1::INT8) {
    NAS_ASSIGN_OR_RETURN(out.torchscript, store_->GetModel(trial_id));
    return out;
  }
  NAS_ASSIGN_OR_RETURN(std::string bytes, store_->GetModel(trial_id, format));
  if (!out.int8_model.ParseFromString(bytes)) {
    return absl::DataLossError(
        absl::StrCat("trial ", trial_id, ": its stored int8 model is corrupt"));
  }
  return out;
}

absl::StatusOr<v1::PolicyState> SearchQueries::GetPolicyState(
    int64_t search_id, int top) {
  NAS_ASSIGN_OR_RETURN(PolicySummary summary,
                       store_->GetPolicySummary(search_id, top));
  v1::PolicyState state;
  if (!state.ParseFromString(summary.state)) {
    return absl::DataLossError(absl::StrCat(
        "stored policy state of search ", search_id, " is corrupt"));
  }
  if (state.policy().empty()) {
    NAS_ASSIGN_OR_RETURN(SearchRecord record, store_->GetSearch(search_id));
    const std::string& policy = record.search.spec().policy();
    state.set_policy(policy.empty() ? "random" : policy);
  }
  state.set_q_entries(summary.q_entries);
  state.clear_q_top();
  for (v1::QValue& q : summary.q_top) *state.add_q_top() = std::move(q);
  return state;
}

}  // namespace nas::controller
