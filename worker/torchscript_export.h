#ifndef NAS_WORKER_TORCHSCRIPT_EXPORT_H_
#define NAS_WORKER_TORCHSCRIPT_EXPORT_H_

#include <string>

#include "absl/status/statusor.h"
#include "worker/model_builder.h"

namespace nas::worker {

// Serialises a (trained) BuiltModel as a TorchScript archive, the bytes
// torch.jit.save would write, loadable by torch::jit::load and Python's
// torch.jit.load.
//
// LibTorch C++ can neither script nor trace a C++ module, so the archive is a
// torch::jit::Module "TinyNet" assembled here: each child's parameters and
// buffers are copied (to CPU) as "l<i>_<name>", and `forward` is compiled
// from BuiltModel::script. The module is in evaluation mode (batch-norm uses
// running statistics, dropout is the identity) and ends with softmax when the
// architecture does. Its input is a float tensor {B, input_shape...}
// normalised as the trial's InputNormalization says (SampleSet::CopySample;
// the int8 model records it as input_mean / input_std). A second method,
// `input_shape()`, returns the expected per-sample shape.
//
// Internal errors from LibTorch come back as kInternal.
absl::StatusOr<std::string> ExportTorchScript(const BuiltModel& model);

}  // namespace nas::worker

#endif  // NAS_WORKER_TORCHSCRIPT_EXPORT_H_
