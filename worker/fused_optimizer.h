#ifndef NAS_WORKER_FUSED_OPTIMIZER_H_
#define NAS_WORKER_FUSED_OPTIMIZER_H_

// Internal to the worker's LibTorch files: pulls in LibTorch's optimizer API.

#include <cstdint>
#include <memory>
#include <vector>

#include <torch/optim/optimizer.h>

#include "proto/nas.pb.h"

namespace nas::worker {

// Adam, AdamW and SGD (with momentum) for float32 CPU parameters, each
// update done in one pass over a parameter's memory instead of the chain of
// tensor kernels torch::optim runs (Adam: mul_, add_, mul_, addcmul_, sqrt,
// div, add_, addcdiv_ - eight kernel launches and passes per parameter per
// step). The arithmetic is torch::optim's (LibTorch 1.13): Adam adds
// weight_decay * p to the gradient; AdamW first scales p by
// (1 - lr * weight_decay); bias corrections 1 - beta^t; SGD keeps a momentum
// buffer initialised to the first gradient (dampening 0, no Nesterov).
// Results match torch::optim up to float rounding.
//
// step() consumes the gradients: it resets them to undefined, as PyTorch's
// zero_grad(set_to_none=True) would, so the next backward stores fresh ones
// instead of adding into zeroed tensors (zero_grad() is then a no-op).
// Parameters may use any dense memory format (channels-last included);
// gradients in another layout are converted. A parameter without a gradient
// is skipped. Not thread-safe; owned by one trial. Large tensors are updated
// with at::parallel_for (the intra-op threads).
class FusedOptimizer : public torch::optim::Optimizer {
 public:
  enum class Kind { kAdam, kAdamW, kSgd };
  struct Options {
    Kind kind = Kind::kAdam;
    double lr = 1e-3;
    double weight_decay = 0;
    double momentum = 0;  // SGD only.
    double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // Adam(W) only.
  };

  FusedOptimizer(std::vector<torch::Tensor> params, const Options& options);

  // One update of every parameter. `closure` is not supported (must be
  // null); returns an undefined tensor.
  torch::Tensor step(LossClosure closure = nullptr) override;

 private:
  void UpdateAdam(float* p, const float* g, float* m, float* v, int64_t n) const;
  void UpdateSgd(float* p, const float* g, float* buffer, int64_t n) const;

  const Options options_;
  int64_t steps_ = 0;
  std::vector<torch::Tensor> first_;   // Adam: exp_avg; SGD: momentum buffer.
  std::vector<torch::Tensor> second_;  // Adam: exp_avg_sq.
};

// The optimizer a trial trains with: a FusedOptimizer when `fused` (CPU
// parameters only), else torch::optim's Adam, AdamW or SGD. The recipe's
// optimizer name must be "adam", "adamw" or "sgd" (checked by the caller).
std::unique_ptr<torch::optim::Optimizer> MakeOptimizer(
    const v1::TrainingRecipe& recipe, std::vector<torch::Tensor> params, bool fused);

}  // namespace nas::worker

#endif  // NAS_WORKER_FUSED_OPTIMIZER_H_
