#ifndef NAS_TESTS_COMMON_TEST_NETWORKS_H_
#define NAS_TESTS_COMMON_TEST_NETWORKS_H_

// Reference networks shared by the common/ tests.

#include "common/architecture.h"
#include "common/logging.h"

namespace nas::testing {

// Parses a known-good architecture in the ArchitectureToString form.
inline v1::Architecture Arch(absl::string_view text) {
  absl::StatusOr<v1::Architecture> arch = ParseArchitecture(text);
  CHECK(arch.ok()) << arch.status();
  return *arch;
}

// LeNet-5-like network for {1,28,28} inputs, 10 classes.
inline v1::Architecture LeNet() {
  return Arch(
      "CONV2D(6,k5,p2) RELU MAXPOOL2D(k2) CONV2D(16,k5) RELU MAXPOOL2D(k2) "
      "FLATTEN LINEAR(120) RELU LINEAR(84) RELU LINEAR(10)");
}

// Small 1-D network for ECG5000 ({1,140}, 5 classes).
inline v1::Architecture EcgNet() {
  return Arch(
      "CONV1D(8,k5,p2) BATCHNORM RELU MAXPOOL1D(k2) CONV1D(16,k3,p1) "
      "BATCHNORM RELU GLOBAL_AVGPOOL LINEAR(5) SOFTMAX");
}

}  // namespace nas::testing

#endif  // NAS_TESTS_COMMON_TEST_NETWORKS_H_
