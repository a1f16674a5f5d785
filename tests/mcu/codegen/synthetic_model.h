#ifndef NAS_TESTS_MCU_CODEGEN_SYNTHETIC_MODEL_H_
#define NAS_TESTS_MCU_CODEGEN_SYNTHETIC_MODEL_H_

// Synthetic but valid int8 models for the exporter's tests: the layout of a
// real architecture (nas::PlanInt8: ops, shapes, arena offsets) with
// deterministic pseudo-random int8 weights, int32 biases, multipliers,
// shifts and zero points, and test vectors whose expected outputs are what
// mcu::Int8Interpreter computes. Labels agree with the output's argmax on
// three vectors of four (so the accuracy on them is known and not 100 %).

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/nas.pb.h"

namespace nas::testing {

struct SyntheticOptions {
  uint32_t seed = 1;
  int test_vectors = 8;
  std::vector<std::string> labels;  // Empty: "class N" in the library.
  std::vector<float> input_mean, input_std;
  std::string dataset;
};

// InvalidArgument for an architecture PlanInt8 rejects; whatever
// Int8Interpreter reports if the runtime rejects the result.
absl::StatusOr<v1::QuantizedModel> SyntheticQuantizedModel(const v1::Architecture& arch,
                                                           const v1::TensorShape& input,
                                                           int num_classes,
                                                           const SyntheticOptions& options = {});

// The index of the largest value, the first on a tie (as main.c does).
int Argmax(const int8_t* values, int n);

// How many test vectors' labels equal the argmax of their expected output.
int CorrectTestVectors(const v1::QuantizedModel& model);

}  // namespace nas::testing

#endif  // NAS_TESTS_MCU_CODEGEN_SYNTHETIC_MODEL_H_
