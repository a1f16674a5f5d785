#ifndef NAS_MCU_CODEGEN_C_LIBRARY_H_
#define NAS_MCU_CODEGEN_C_LIBRARY_H_

// The C library of a quantised model (DESIGN.md "int8 and the MCU
// runtime"): what `nasctl export --format c` writes. Torch-free and
// self-contained: the runtime sources are compiled into this library, so no
// source tree is needed at run time.
//
// Files, relative to the library's folder:
//   model.h         tinynas_invoke(), input/output scale and zero point,
//                   shapes, class count and labels, arena and flash bytes
//   model.c         the runtime's tables as `static const` arrays (flash),
//                   one static arena of the planned size (SRAM)
//   test_vectors.h  the model's test inputs, expected int8 outputs, labels
//   main.c          runs every test vector, checks the outputs bit for bit
//   CMakeLists.txt  static library tinynas_model, executable tinynas_example
//   README.md       what the files are, the API, how to build
//   runtime/...     the int8 runtime (mcu/runtime/), unchanged
// The output is deterministic: the same model gives the same bytes.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/nas.pb.h"

namespace nas::mcu {

struct GeneratedFile {
  std::string path;  // Relative, '/'-separated ("runtime/tinynas_runtime.c").
  std::string contents;
};

// The library's files, in a fixed order. InvalidArgument naming the problem
// for a model the runtime cannot run (mcu::BuildTables's checks: unknown
// op, arrays of the wrong length, offsets outside the arena, ...) or whose
// shapes, labels or test vectors do not agree; FailedPrecondition when this
// build has no runtime sources embedded.
absl::StatusOr<std::vector<GeneratedFile>> GenerateCLibrary(const v1::QuantizedModel& model);

}  // namespace nas::mcu

#endif  // NAS_MCU_CODEGEN_C_LIBRARY_H_
