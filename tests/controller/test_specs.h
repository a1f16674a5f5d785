#ifndef NAS_TESTS_CONTROLLER_TEST_SPECS_H_
#define NAS_TESTS_CONTROLLER_TEST_SPECS_H_

// Small, valid search specs on the ECG5000 data in the source tree.

#include <string>

#include "absl/strings/str_cat.h"

namespace nas::testing {

struct EcgSpecOptions {
  std::string name = "ecg-test";
  int max_trials = 4;
  int max_attempts = 2;
  int max_infeasible = 5;
  std::string constraints;  // YAML flow map, e.g. "{max_flash_bytes: 100}".
  bool seed_architecture = true;
};

// 1-D convolutions on ECG5000 for an nRF52840: small networks that fit. The
// first proposal is the seed architecture "CONV1D(4,k3,s1,p1) RELU
// LINEAR(5)" when `seed_architecture` is set.
inline std::string EcgSpecYaml(const EcgSpecOptions& o = {}) {
  return absl::StrCat(
      "name: \"", o.name, "\"\n",
      "dataset: {name: ecg5000, train_subset: 200, validation_subset: 100}\n"
      "device: nrf52840\n"
      "space:\n"
      "  layer_types: [CONV1D, MAXPOOL1D]\n"
      "  channels: [4, 8]\n"
      "  kernels: [3, 5]\n"
      "  max_layers: 3\n"
      "training: {epochs: 1, batch_size: 32}\n"
      "budget: {max_trials: ",
      o.max_trials, ", max_attempts: ", o.max_attempts,
      ", max_infeasible: ", o.max_infeasible, "}\n",
      o.constraints.empty()
          ? ""
          : absl::StrCat("constraints: ", o.constraints, "\n"),
      "seed: 7\n",
      o.seed_architecture
          ? "seed_architectures:\n  - \"CONV1D(4,k3,s1,p1) RELU LINEAR(5)\"\n"
          : "");
}

}  // namespace nas::testing

#endif  // NAS_TESTS_CONTROLLER_TEST_SPECS_H_
