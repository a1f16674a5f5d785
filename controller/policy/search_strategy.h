#ifndef NAS_CONTROLLER_POLICY_SEARCH_STRATEGY_H_
#define NAS_CONTROLLER_POLICY_SEARCH_STRATEGY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/nas.pb.h"

namespace nas::controller {

// Where a batch of proposals sits in its search.
struct ProposalContext {
  int64_t search_id = 0;
  // Position of the first proposal in the search's proposal sequence. The
  // store persists the sequence, so a restarted controller continues it.
  int64_t first_index = 0;
};

// What learning from one final trial changes in a policy. The store writes
// it in the same transaction that makes the trial final, then the policy
// applies it to itself (ApplyObservation), so the policy in memory is always
// what PostgreSQL holds.
struct PolicyWrite {
  // 1, 2, 3, ... per search: the order in which results were learnt. Stored
  // on the trial; the observed trials in this order are the replay memory.
  int64_t observed_seq = 0;
  // The policy's whole state apart from the Q-table: a serialized
  // v1::PolicyState (q_top left empty). Replaces the stored one.
  std::string state;
  // Q-table entries this observation changed, with their new values.
  std::vector<v1::QValue> q_values;
};

// A policy's state as stored, handed to Restore when a controller (re)loads
// a search.
struct StoredPolicy {
  std::string state;                 // Empty: nothing learnt yet.
  std::vector<v1::QValue> q_values;  // The whole Q-table.
  // Trials with an observed_seq, in that order (architecture, state,
  // metrics and reward filled).
  std::vector<v1::Trial> observed;
};

// A search policy: proposes candidate architectures and learns from their
// results. One instance serves one search and is built from its completed
// spec; it exists so that policies (random, Q-learning, evolution) can be
// swapped without changing the scheduler.
//
// Determinism: proposals depend only on the spec, the proposal index and the
// state learnt so far (randomness comes from DeriveSeed(spec seed, index),
// so the "RNG state" is the stored proposal counter); learning depends only
// on the state and the observed trial. A restarted controller that restores
// the stored state therefore continues the same search.
//
// Learning is two-phase so that a result and the state it changes are
// committed together: PrepareObservation (const, called inside the store's
// transaction with the trial as stored) says what would change, and after
// the commit ApplyObservation makes it so. The caller serialises all calls
// on one instance (SearchContext::mu), holding the lock from Prepare to
// Apply. Not thread-safe otherwise.
class SearchStrategy {
 public:
  virtual ~SearchStrategy() = default;

  // Proposes `count` architectures for positions first_index,
  // first_index + 1, ... They may still break the device's limits (the
  // scheduler records those as infeasible). Does not change the state.
  virtual absl::StatusOr<std::vector<v1::Architecture>> Propose(
      const ProposalContext& context, int count) = 0;

  // What learning from `trial` (final: SUCCEEDED, CACHED, INFEASIBLE, FAILED
  // or CANCELLED; id and number set) would write; nullopt when the policy
  // learns nothing from it (random search; failed and cancelled trials).
  // Must not change this object.
  virtual absl::StatusOr<std::optional<PolicyWrite>> PrepareObservation(
      const v1::Trial& trial) const = 0;

  // Applies a write that PrepareObservation returned for `trial` and the
  // store committed.
  virtual absl::Status ApplyObservation(const v1::Trial& trial,
                                        const PolicyWrite& write) = 0;

  // Replaces the state with a stored one (a fresh instance starts empty).
  // kDataLoss when the stored state cannot be read.
  virtual absl::Status Restore(const StoredPolicy& stored) = 0;

  // The state in memory, as a v1::PolicyState; q_top holds the `top_q`
  // highest entries. (GetPolicyState reads the stored state instead, so
  // that finished searches need no policy in memory.)
  virtual v1::PolicyState Describe(int top_q) const = 0;

  // The exploration rate of the next proposal, for policies that have one
  // (Q-learning's epsilon); nullopt otherwise.
  virtual std::optional<double> Epsilon() const { return std::nullopt; }
};

// The policy a completed spec names. InvalidArgument naming the policy and
// the available ones when it is unknown.
absl::StatusOr<std::unique_ptr<SearchStrategy>> CreateSearchStrategy(
    const v1::SearchSpec& completed_spec);

// The reward a learning policy learns from for a final trial: the stored
// reward for SUCCEEDED and CACHED; for INFEASIBLE the spec's scalarisation
// of its analytic costs at zero accuracy (what a network that learnt nothing
// at that cost would score; 0 when even that cannot be computed); nullopt for FAILED, CANCELLED and unfinished trials.
// `device` is the search's resolved device profile.
std::optional<double> LearningReward(const v1::Trial& trial,
                                     const v1::SearchSpec& completed_spec,
                                     const v1::DeviceProfile& device);

// What every policy's Propose does: position i of context.first_index ..
// first_index + count - 1 proposes spec.seed_architectures(i) while there
// are any (warm start), else `fresh(rng)` with rng seeded from
// DeriveSeed(spec.seed(), i). Stops at the first error.
absl::StatusOr<std::vector<v1::Architecture>> ProposeEach(
    const v1::SearchSpec& spec, const ProposalContext& context, int count,
    absl::FunctionRef<absl::StatusOr<v1::Architecture>(std::mt19937_64&)>
        fresh);

// A well-mixed 64-bit seed for position `index` of the stream `seed`
// (splitmix64 of both), identical on every platform.
uint64_t DeriveSeed(uint64_t seed, uint64_t index);

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_POLICY_SEARCH_STRATEGY_H_
