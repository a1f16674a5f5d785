#ifndef NAS_CONTROLLER_SEARCH_CONTEXTS_H_
#define NAS_CONTROLLER_SEARCH_CONTEXTS_H_

#include <cstdint>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "controller/policy/search_strategy.h"
#include "controller/store/trial_store.h"
#include "proto/nas.pb.h"

namespace nas::controller {

// What the controller derives once from a stored search: its completed spec
// (immutable), device profile and policy instance. The strategy is not
// thread-safe: hold `mu` while calling it.
struct SearchContext {
  // Lets the policy learn from a finished trial, under `mu`; a policy error
  // is logged, not returned (the trial's result stands either way).
  void Observe(const v1::Trial& trial) ABSL_LOCKS_EXCLUDED(mu);

  int64_t search_id = 0;
  v1::SearchSpec spec;
  v1::DeviceProfile device;
  absl::Mutex mu;
  std::unique_ptr<SearchStrategy> strategy ABSL_GUARDED_BY(mu);
};

// Cache of SearchContext by search id, loaded from the store on first use.
// Thread-safe. Contexts are shared: a caller keeps its context alive while
// it uses it, even if the search is forgotten meanwhile. The store must
// outlive this object.
class SearchContexts {
 public:
  explicit SearchContexts(TrialStore* store) : store_(store) {}
  SearchContexts(const SearchContexts&) = delete;
  SearchContexts& operator=(const SearchContexts&) = delete;

  // kNotFound for an unknown search; kInternal when its stored spec no
  // longer resolves (e.g. a device profile this binary does not know).
  absl::StatusOr<std::shared_ptr<SearchContext>> Get(int64_t search_id);
  // Drops the cached context of a finished search.
  void Forget(int64_t search_id);

 private:
  TrialStore* const store_;
  absl::Mutex mu_;
  absl::flat_hash_map<int64_t, std::shared_ptr<SearchContext>> contexts_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_SEARCH_CONTEXTS_H_
