#include "controller/search_contexts.h"

#include "absl/strings/str_cat.h"
#include "common/devices.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace nas::controller {

void SearchContext::Observe(const v1::Trial& trial) {
  absl::MutexLock lock(&mu);
  absl::Status status = strategy->Observe(trial);
  if (!status.ok()) {
    LOG(WARNING) << "search " << search_id << ": policy could not learn from "
                 << "trial " << trial.id() << ": " << status;
  }
}

absl::StatusOr<std::shared_ptr<SearchContext>> SearchContexts::Get(
    int64_t search_id) {
  {
    absl::MutexLock lock(&mu_);
    auto it = contexts_.find(search_id);
    if (it != contexts_.end()) return it->second;
  }
  NAS_ASSIGN_OR_RETURN(SearchRecord record, store_->GetSearch(search_id));
  auto context = std::make_shared<SearchContext>();
  context->search_id = search_id;
  context->spec = record.search.spec();
  absl::StatusOr<v1::DeviceProfile> device = ResolveDevice(context->spec);
  absl::StatusOr<std::unique_ptr<SearchStrategy>> strategy =
      CreateSearchStrategy(context->spec);
  if (!device.ok() || !strategy.ok()) {
    const absl::Status& bad = device.ok() ? strategy.status() : device.status();
    return absl::InternalError(
        absl::StrCat("stored spec of search ", search_id,
                     " no longer resolves: ", bad.message()));
  }
  context->device = *std::move(device);
  {
    absl::MutexLock strategy_lock(&context->mu);
    context->strategy = *std::move(strategy);
  }
  absl::MutexLock lock(&mu_);
  // Another thread may have loaded it meanwhile; keep the first.
  return contexts_.try_emplace(search_id, std::move(context)).first->second;
}

void SearchContexts::Forget(int64_t search_id) {
  absl::MutexLock lock(&mu_);
  contexts_.erase(search_id);
}

}  // namespace nas::controller
