#ifndef NAS_CONTROLLER_POLICY_SEARCH_STRATEGY_H_
#define NAS_CONTROLLER_POLICY_SEARCH_STRATEGY_H_

#include <cstdint>
#include <memory>
#include <vector>

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

// A search policy: proposes candidate architectures and learns from their
// results. One instance serves one search and is built from its completed
// spec; it exists so that policies (random, Q-learning, evolution) can be
// swapped without changing the scheduler. A policy must propose the same
// architectures for the same positions and observed history, so that a
// restarted controller continues the same search; policies that learn keep
// their state in PostgreSQL, handed to them by CreateSearchStrategy.
// Not thread-safe: the scheduler serialises calls on one instance.
class SearchStrategy {
 public:
  virtual ~SearchStrategy() = default;

  // Proposes `count` architectures for positions first_index,
  // first_index + 1, ... They may still break the device's limits (the
  // scheduler records those as infeasible).
  virtual absl::StatusOr<std::vector<v1::Architecture>> Propose(
      const ProposalContext& context, int count) = 0;

  // Learns from a finished trial (succeeded, cached, failed or infeasible).
  virtual absl::Status Observe(const v1::Trial& trial) = 0;
};

// The policy a completed spec names. InvalidArgument naming the policy and
// the available ones when it is unknown or not available yet.
absl::StatusOr<std::unique_ptr<SearchStrategy>> CreateSearchStrategy(
    const v1::SearchSpec& completed_spec);

// A well-mixed 64-bit seed for position `index` of the stream `seed`
// (splitmix64 of both), identical on every platform.
uint64_t DeriveSeed(uint64_t seed, uint64_t index);

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_POLICY_SEARCH_STRATEGY_H_
