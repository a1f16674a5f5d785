#ifndef NAS_MCU_MODEL_TABLES_H_
#define NAS_MCU_MODEL_TABLES_H_

// A QuantizedModel as the int8 runtime's tables: the layer table and the
// constant arrays it indexes, exactly as the C exporter writes them into
// model.c, and an interpreter that runs them with the runtime's C kernels
// in this process (how the worker measures int8 accuracy). Torch-free.

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "mcu/runtime/tinynas_runtime.h"
#include "proto/nas.pb.h"

namespace nas::mcu {

struct ModelTables {
  std::vector<tn_layer> layers;
  std::vector<int8_t> weights;       // All ops' weights, in op order.
  std::vector<int32_t> biases;       // Per output channel, in op order.
  std::vector<int32_t> multipliers;  // Idem.
  std::vector<int8_t> shifts;        // Idem.
  int32_t arena_bytes = 0;
  int32_t input_offset = 0, input_bytes = 0;
  int32_t output_offset = 0, output_bytes = 0;

  // Bytes of the constant arrays: what the generated model.c holds in
  // flash, and what nas::Int8Plan::ConstantBytes() predicts.
  int64_t ConstantBytes() const;
  // A tn_model whose pointers point into this object (valid while it lives
  // and is not modified).
  tn_model View() const;
};

// Flattens and checks a QuantizedModel: InvalidArgument naming the layer
// and the problem (unknown op, weights or per-channel arrays of the wrong
// length, a shift outside -31..30, an offset outside the arena, ...), also
// when tn_check_model rejects the table.
absl::StatusOr<ModelTables> BuildTables(const v1::QuantizedModel& model);

// Runs a QuantizedModel with the runtime's kernels. Not thread-safe (one
// arena); create one per thread.
class Int8Interpreter {
 public:
  static absl::StatusOr<Int8Interpreter> Create(
      const v1::QuantizedModel& model);

  // input: input_bytes() values; output: output_bytes() values.
  // InvalidArgument on a size mismatch.
  absl::Status Invoke(absl::Span<const int8_t> input,
                      absl::Span<int8_t> output);

  int32_t input_bytes() const { return tables_.input_bytes; }
  int32_t output_bytes() const { return tables_.output_bytes; }
  const ModelTables& tables() const { return tables_; }

 private:
  explicit Int8Interpreter(ModelTables tables);
  ModelTables tables_;
  std::vector<int8_t> arena_;
};

}  // namespace nas::mcu

#endif  // NAS_MCU_MODEL_TABLES_H_
