#include "controller/search_contexts.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/devices.h"
#include "common/logging.h"

namespace nas::controller {

SearchContext::SearchContext(int64_t search_id, v1::SearchSpec spec,
                             v1::DeviceProfile device,
                             std::unique_ptr<SearchStrategy> strategy,
                             SearchContexts* owner)
    : search_id_(search_id),
      spec_(std::move(spec)),
      device_(std::move(device)),
      owner_(owner),
      strategy_(std::move(strategy)) {}

absl::StatusOr<std::vector<v1::Architecture>> SearchContext::Propose(
    const ProposalContext& context, int count) {
  absl::MutexLock lock(&mu_);
  NAS_RETURN_IF_ERROR(CheckUsable());
  return strategy_->Propose(context, count);
}

std::optional<double> SearchContext::Epsilon() {
  absl::MutexLock lock(&mu_);
  return strategy_->Epsilon();
}

absl::Status SearchContext::CheckUsable() const {
  if (!dropped_) return absl::OkStatus();
  return absl::AbortedError(
      absl::StrCat("the policy of search ", search_id_,
                   " is being reloaded from the store; try again"));
}

absl::Status SearchContext::CheckAllUsable(
    const std::vector<SearchContext*>& contexts)
    ABSL_NO_THREAD_SAFETY_ANALYSIS {
  for (const SearchContext* context : contexts) {
    NAS_RETURN_IF_ERROR(context->CheckUsable());
  }
  return absl::OkStatus();
}

PolicyObserver SearchContext::ObserverOfAll(
    const std::vector<SearchContext*>& contexts,
    std::vector<Capture>* captures) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  if (contexts.size() == 1) return contexts[0]->ObserverInto(&(*captures)[0]);
  absl::flat_hash_map<int64_t, PolicyObserver> observers;
  for (size_t i = 0; i < contexts.size(); ++i) {
    observers[contexts[i]->search_id_] =
        contexts[i]->ObserverInto(&(*captures)[i]);
  }
  return [observers = std::move(observers)](const v1::Trial& trial)
             -> absl::StatusOr<std::optional<PolicyWrite>> {
    auto it = observers.find(trial.search_id());
    if (it == observers.end()) {
      return absl::InternalError(absl::StrCat(
          "trial ", trial.id(), " of search ", trial.search_id(),
          " is not one of the searches observing this operation"));
    }
    return it->second(trial);
  };
}

PolicyObserver SearchContext::ObserverInto(Capture* capture) {
  return [this, capture](const v1::Trial& trial)
             -> absl::StatusOr<std::optional<PolicyWrite>> {
    mu_.AssertHeld();
    absl::StatusOr<std::optional<PolicyWrite>> write =
        strategy_->PrepareObservation(trial);
    // A retried transaction asks again; the last answer is the one that
    // may commit.
    capture->trial = trial;
    capture->write = write.ok() ? *write : std::nullopt;
    return write;
  };
}

void SearchContext::Settle(const absl::Status& operation,
                           const Capture& capture) {
  if (!capture.write.has_value()) return;
  if (!operation.ok()) {
    // Nothing was stored. A refused (stale) write or a conflict may mean
    // another copy of this policy wrote meanwhile: reload to be sure.
    if (absl::IsAborted(operation) || absl::IsAlreadyExists(operation)) {
      Drop(operation.message());
    }
    return;
  }
  absl::Status applied =
      strategy_->ApplyObservation(capture.trial, *capture.write);
  if (!applied.ok()) {
    LOG(ERROR) << "search " << search_id_ << ": policy could not apply the "
               << "committed observation of trial " << capture.trial.id()
               << ": " << applied;
    Drop(applied.message());
  }
}

void SearchContext::Drop(absl::string_view why) {
  LOG(WARNING) << "search " << search_id_ << ": policy dropped from memory, "
               << "reloading from the store (" << why << ")";
  dropped_ = true;
  if (owner_ != nullptr) owner_->Drop(this);
}

absl::StatusOr<std::shared_ptr<SearchContext>> SearchContexts::Get(
    int64_t search_id) {
  {
    absl::MutexLock lock(&mu_);
    auto it = contexts_.find(search_id);
    if (it != contexts_.end()) return it->second;
  }
  NAS_ASSIGN_OR_RETURN(std::shared_ptr<SearchContext> context, Load(search_id));
  absl::MutexLock lock(&mu_);
  // Another thread may have loaded it meanwhile; keep the first.
  return contexts_.try_emplace(search_id, std::move(context)).first->second;
}

absl::StatusOr<std::shared_ptr<SearchContext>> SearchContexts::Load(
    int64_t search_id) {
  NAS_ASSIGN_OR_RETURN(SearchRecord record, store_->GetSearch(search_id));
  const v1::SearchSpec& spec = record.search.spec();
  absl::StatusOr<v1::DeviceProfile> device = ResolveDevice(spec);
  absl::StatusOr<std::unique_ptr<SearchStrategy>> strategy =
      CreateSearchStrategy(spec);
  if (!device.ok() || !strategy.ok()) {
    const absl::Status& bad = device.ok() ? strategy.status() : device.status();
    return absl::InternalError(
        absl::StrCat("stored spec of search ", search_id,
                     " no longer resolves: ", bad.message()));
  }
  NAS_ASSIGN_OR_RETURN(StoredPolicy stored, store_->LoadPolicy(search_id));
  if (absl::Status restored = (*strategy)->Restore(stored); !restored.ok()) {
    return absl::InternalError(
        absl::StrCat("stored policy of search ", search_id,
                     " cannot be restored: ", restored.message()));
  }
  return std::make_shared<SearchContext>(search_id, spec, *std::move(device),
                                         *std::move(strategy), this);
}

void SearchContexts::Forget(int64_t search_id) {
  absl::MutexLock lock(&mu_);
  contexts_.erase(search_id);
}

void SearchContexts::Drop(const SearchContext* context) {
  absl::MutexLock lock(&mu_);
  auto it = contexts_.find(context->search_id());
  if (it != contexts_.end() && it->second.get() == context) contexts_.erase(it);
}

}  // namespace nas::controller
