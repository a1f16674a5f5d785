#ifndef NAS_CONTROLLER_SEARCH_CONTEXTS_H_
#define NAS_CONTROLLER_SEARCH_CONTEXTS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"
#include "controller/policy/search_strategy.h"
#include "controller/store/trial_store.h"
#include "proto/nas.pb.h"

namespace nas::controller {

class SearchContexts;

// What the controller derives once from a stored search: its completed spec
// (immutable), device profile and policy instance, restored from the store.
// Thread-safe: the policy is only reached through the methods below, which
// hold `mu`.
//
// The policy in memory always equals what the store committed: it learns
// only through RunObserved, which applies a write after the store committed
// it. When that cannot hold (applying a committed write failed, or the store
// refused a write as stale), the context is dropped from its SearchContexts
// (the next Get() reloads the search from the store) and refuses further
// work with kAborted; holders of the old context then fetch a new one.
class SearchContext {
 public:
  // A store operation given the observer to pass to the store.
  template <typename T>
  using Operation = absl::FunctionRef<absl::StatusOr<T>(const PolicyObserver&)>;

  SearchContext(int64_t search_id, v1::SearchSpec spec,
                v1::DeviceProfile device,
                std::unique_ptr<SearchStrategy> strategy,
                SearchContexts* owner);
  SearchContext(const SearchContext&) = delete;
  SearchContext& operator=(const SearchContext&) = delete;

  int64_t search_id() const { return search_id_; }
  const v1::SearchSpec& spec() const { return spec_; }
  const v1::DeviceProfile& device() const { return device_; }
  // Whether its policy learns from results. The random policy does not (its
  // PrepareObservation is always nullopt), so any number of its results may
  // commit in one transaction; see RunObservedTogether.
  bool learns_from_results() const { return spec_.policy() != "random"; }

  // The policy's proposals for positions first_index, ... (see
  // SearchStrategy::Propose). kAborted once the context was dropped.
  absl::StatusOr<std::vector<v1::Architecture>> Propose(
      const ProposalContext& context, int count) ABSL_LOCKS_EXCLUDED(mu_);
  // The policy's exploration rate (SearchStrategy::Epsilon).
  std::optional<double> Epsilon() ABSL_LOCKS_EXCLUDED(mu_);

  // Runs `operation` (one store transaction, e.g. InsertTrial or
  // CompleteTrial) with an observer bound to the policy, and returns its
  // result. Holds the lock from the policy's PrepareObservation (called by
  // the store inside the transaction) until ApplyObservation of the write
  // the store committed, so results of one search are learnt one at a time.
  // A policy that fails to apply a committed write does not fail the
  // operation (its result stands): the error is logged and the context
  // dropped. kAborted without running `operation` once the context was
  // dropped.
  template <typename T>
  absl::StatusOr<T> RunObserved(Operation<T> operation)
      ABSL_LOCKS_EXCLUDED(mu_) {
    return RunObservedTogether<T>({this}, operation);
  }

  // RunObserved for an operation that makes trials of several searches
  // final in one transaction (a batch of reports): the observer passes each
  // trial to its search's context. `contexts` (one per search, in ascending
  // search id: the order their locks are taken in) are held for the whole
  // operation. The operation must let each context observe at most one
  // trial that its policy learns from (a policy prepares its next write
  // from what it has applied, and applies only after the commit). kAborted
  // without running `operation` once one of them was dropped.
  template <typename T>
  static absl::StatusOr<T> RunObservedTogether(
      const std::vector<SearchContext*>& contexts, Operation<T> operation)
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    for (SearchContext* context : contexts) context->mu_.Lock();
    std::vector<Capture> captures(contexts.size());
    absl::StatusOr<T> result = absl::AbortedError("not run");
    absl::Status usable = CheckAllUsable(contexts);
    if (usable.ok()) {
      result = operation(ObserverOfAll(contexts, &captures));
      for (size_t i = 0; i < contexts.size(); ++i) {
        contexts[i]->Settle(result.status(), captures[i]);
      }
    } else {
      result = usable;
    }
    for (auto it = contexts.rbegin(); it != contexts.rend(); ++it) {
      (*it)->mu_.Unlock();
    }
    return result;
  }

 private:
  // The write of the last PrepareObservation the store asked for, with its
  // trial.
  struct Capture {
    v1::Trial trial;
    std::optional<PolicyWrite> write;
  };

  absl::Status CheckUsable() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Callers hold every context's lock.
  static absl::Status CheckAllUsable(const std::vector<SearchContext*>& contexts);
  static PolicyObserver ObserverOfAll(const std::vector<SearchContext*>& contexts,
                                      std::vector<Capture>* captures);
  // An observer that asks the policy and records its answer in `capture`.
  // Only valid while the caller holds `mu_` (the store calls it on the
  // caller's thread, inside the operation).
  PolicyObserver ObserverInto(Capture* capture)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After the operation: applies a committed write, or drops the context
  // when memory and store may differ.
  void Settle(const absl::Status& operation, const Capture& capture)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Drop(absl::string_view why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int64_t search_id_;
  const v1::SearchSpec spec_;
  const v1::DeviceProfile device_;
  SearchContexts* const owner_;  // May be null (then nothing to drop from).
  absl::Mutex mu_;
  std::unique_ptr<SearchStrategy> strategy_ ABSL_GUARDED_BY(mu_);
  bool dropped_ ABSL_GUARDED_BY(mu_) = false;
};

// Cache of SearchContext by search id, loaded from the store on first use.
// Thread-safe. Contexts are shared: a caller keeps its context alive while
// it uses it, even if the search is forgotten meanwhile. The store must
// outlive this object. Lock order: a context's lock before this object's.
class SearchContexts {
 public:
  explicit SearchContexts(TrialStore* store) : store_(store) {}
  SearchContexts(const SearchContexts&) = delete;
  SearchContexts& operator=(const SearchContexts&) = delete;

  // The search's context; a new one restores its policy from the store
  // (LoadPolicy). kNotFound for an unknown search; kInternal naming the
  // search when its stored spec no longer resolves (e.g. a device profile
  // this binary does not know) or its stored policy cannot be restored.
  absl::StatusOr<std::shared_ptr<SearchContext>> Get(int64_t search_id);
  // Drops the cached context of a finished search.
  void Forget(int64_t search_id);
  // Drops `context` if it is the cached one of its search (a newer one
  // stays).
  void Drop(const SearchContext* context);

 private:
  absl::StatusOr<std::shared_ptr<SearchContext>> Load(int64_t search_id);

  TrialStore* const store_;
  absl::Mutex mu_;
  absl::flat_hash_map<int64_t, std::shared_ptr<SearchContext>> contexts_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_SEARCH_CONTEXTS_H_
