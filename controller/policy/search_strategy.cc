#include "controller/policy/search_strategy.h"

#include "absl/strings/str_cat.h"
#include "controller/policy/random_search.h"

namespace nas::controller {
namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t DeriveSeed(uint64_t seed, uint64_t index) {
  return SplitMix64(SplitMix64(seed) ^ index);
}

absl::StatusOr<std::unique_ptr<SearchStrategy>> CreateSearchStrategy(
    const v1::SearchSpec& completed_spec) {
  const std::string& policy = completed_spec.policy();
  if (policy == "random" || policy.empty()) {
    return std::make_unique<RandomSearch>(completed_spec);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "policy: '", policy, "' is not available (available: random)"));
}

}  // namespace nas::controller
