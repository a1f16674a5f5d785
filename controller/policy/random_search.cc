#include "controller/policy/random_search.h"

#include <random>

#include "common/search_space.h"
#include "common/status_macros.h"

namespace nas::controller {

RandomSearch::RandomSearch(const v1::SearchSpec& completed_spec)
    : spec_(completed_spec) {}

absl::StatusOr<std::vector<v1::Architecture>> RandomSearch::Propose(
    const ProposalContext& context, int count) {
  std::vector<v1::Architecture> out;
  out.reserve(count > 0 ? count : 0);
  for (int i = 0; i < count; ++i) {
    NAS_ASSIGN_OR_RETURN(v1::Architecture arch,
                         ProposeAt(context.first_index + i));
    out.push_back(std::move(arch));
  }
  return out;
}

absl::Status RandomSearch::Observe(const v1::Trial& /*trial*/) {
  return absl::OkStatus();  // Random search does not learn.
}

absl::StatusOr<v1::Architecture> RandomSearch::ProposeAt(int64_t index) const {
  if (index < spec_.seed_architectures_size()) {
    return spec_.seed_architectures(static_cast<int>(index));
  }
  std::mt19937_64 rng(DeriveSeed(spec_.seed(), static_cast<uint64_t>(index)));
  return SampleArchitecture(spec_.space(), spec_.dataset().input_shape(),
                            spec_.dataset().num_classes(), rng);
}

}  // namespace nas::controller
