#ifndef NAS_WORKER_MODEL_BUILDER_H_
#define NAS_WORKER_MODEL_BUILDER_H_

// Internal to the worker's LibTorch files (model_builder.cc, trainer.cc,
// torchscript_export.cc and their tests): this header pulls in LibTorch.

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "proto/nas.pb.h"

namespace nas::worker {

// A LibTorch network built from a v1::Architecture, plus what is needed to
// export it as TorchScript.
//
// `net` maps a float batch {B, input_shape...} to logits {B, num_classes}:
// a trailing SOFTMAX of the architecture is left out for training (cross
// entropy takes logits) and recorded in `softmax_output` so that the export
// adds it back. `script` holds, for each child of `net` in order, one
// TorchScript expression of `x` computing the same function in evaluation
// mode, in which "$" stands for that child's parameter prefix (e.g.
// "torch.conv2d(x, self.$weight, self.$bias, [1, 1], [1, 1], [1, 1], 1)");
// an empty entry is the identity in evaluation mode (DROPOUT).
//
// Not thread-safe (LibTorch modules are not); one trial owns one model.
struct BuiltModel {
  torch::nn::Sequential net;
  std::vector<std::string> script;
  bool softmax_output = false;
  std::vector<int64_t> input_shape;  // Without the batch dimension.
};

// Builds the network: CONV2D (bias on), DEPTHWISE_CONV2D (groups = C),
// POINTWISE_CONV2D (1x1), CONV1D, DEPTHWISE_CONV1D, MAX/AVG pooling 1-D and
// 2-D, GLOBAL_AVGPOOL (adaptive average pool to 1, then flatten), BATCHNORM
// (1-D or 2-D by input rank), RELU, RELU6, DROPOUT, FLATTEN, LINEAR (a
// flatten first when its input has rank > 1) and a final SOFTMAX (see above).
// Shapes come from nas::InferShapes, whose InvalidArgument is returned for an
// invalid architecture. Weights use LibTorch's default initialisation from the
// global generator: seed it (torch::manual_seed) before calling for a
// reproducible network.
absl::StatusOr<BuiltModel> BuildModel(const v1::Architecture& arch,
                                      const v1::TensorShape& input,
                                      int num_classes);

// Number of scalars in module.parameters() (what nas::AnalyzeCost().params
// predicts for a built network).
int64_t CountParameters(const torch::nn::Module& module);

}  // namespace nas::worker

#endif  // NAS_WORKER_MODEL_BUILDER_H_
