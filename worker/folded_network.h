#ifndef NAS_WORKER_FOLDED_NETWORK_H_
#define NAS_WORKER_FOLDED_NETWORK_H_

// Internal to the worker's LibTorch files: this header pulls in LibTorch.

#include <cstdint>
#include <functional>
#include <vector>

#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "common/int8_plan.h"
#include "mcu/quantizer/model_quantizer.h"
#include "proto/nas.pb.h"
#include "worker/model_builder.h"

namespace nas::worker {

// A trained network as the int8 runtime computes it, in float: one step per
// Int8Plan op, every BATCHNORM folded (into the convolution or LINEAR before
// it, or a lone one as a depthwise 1x1 convolution), activations fused, and
// every tensor in the runtime's {C, H, W} view (1-D layers as height-1 2-D
// ones). In float it computes what the BuiltModel computes in evaluation
// mode (up to float rounding); it is what calibration runs, what
// quantisation-aware training fine-tunes and what the quantiser converts.
//
// Owns its weight tensors (copies: the BuiltModel is left as it was). Not
// thread-safe; one trial owns one.
class FoldedNetwork {
 public:
  // Folds `model` (built from `arch` for `input` and `num_classes`, read in
  // evaluation mode: the BATCHNORMs' running statistics) along `plan`
  // (PlanInt8 of the same). Internal when the model does not match.
  static absl::StatusOr<FoldedNetwork> Create(const BuiltModel& model,
                                              const v1::Architecture& arch,
                                              const v1::TensorShape& input,
                                              int num_classes, const Int8Plan& plan);

  // Fake quantisation for the forward pass: the input and every op's output
  // per tensor with these parameters (mcu::ChoosePlanActivations), the
  // weights symmetric per output channel (-127..127).
  using FakeQuant = mcu::PlanActivations;
  // Sees the network input (op -1) and every op's output (after its fused
  // activation), before any fake quantisation of it.
  using Observer = std::function<void(int op, const torch::Tensor& value)>;

  // x: {B, input...} float on device(); returns logits {B, num_classes}.
  torch::Tensor Forward(const torch::Tensor& x, const FakeQuant* fake_quant = nullptr,
                        const Observer& observe = nullptr) const;

  // Weights and biases of the weighted ops (for an optimizer).
  std::vector<torch::Tensor> Parameters() const;
  // Copies of the parameters, and putting such copies back.
  std::vector<torch::Tensor> Snapshot() const;
  void Restore(const std::vector<torch::Tensor>& snapshot);

  // The float parameters per op, in the quantiser's layout.
  std::vector<mcu::OpFloatParams> FloatParams() const;

  void To(const torch::Device& device);
  const Int8Plan& plan() const { return plan_; }

 private:
  struct Step {
    torch::Tensor weight;  // Conv: {out, in/groups, kh, kw}; LINEAR: {out, in}.
    torch::Tensor bias;    // {out}.
  };
  FoldedNetwork(Int8Plan plan, std::vector<Step> steps, int num_classes)
      : plan_(std::move(plan)), steps_(std::move(steps)), num_classes_(num_classes) {}
  torch::Tensor RunOp(size_t i, const torch::Tensor& x, bool fake_weights) const;

  Int8Plan plan_;
  std::vector<Step> steps_;  // One per op; undefined tensors for unweighted ones.
  int num_classes_;
};

}  // namespace nas::worker

#endif  // NAS_WORKER_FOLDED_NETWORK_H_
