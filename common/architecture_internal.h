#ifndef NAS_COMMON_ARCHITECTURE_INTERNAL_H_
#define NAS_COMMON_ARCHITECTURE_INTERNAL_H_

// Internal to common/: shape inference without the classifier rules (used by
// EncodeIntegers, which knows no class count).

#include <vector>

#include "absl/status/statusor.h"
#include "common/architecture.h"

namespace nas::internal {

// InferShapes; the class count and the classifier/SOFTMAX placement rules
// are checked only when `check_classifier` is set.
absl::StatusOr<std::vector<LayerShape>> InferShapesImpl(
    const v1::Architecture& arch, const v1::TensorShape& input, int num_classes,
    bool check_classifier);

}  // namespace nas::internal

#endif  // NAS_COMMON_ARCHITECTURE_INTERNAL_H_
