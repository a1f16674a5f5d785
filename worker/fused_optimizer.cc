#include "worker/fused_optimizer.h"

#include <cmath>
#include <memory>
#include <utility>

#include <ATen/Parallel.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include "common/logging.h"

namespace nas::worker {
namespace {

// Elements per parallel chunk: below this a parameter is updated on the
// calling thread (a thread hand-off costs more than the update).
constexpr int64_t kGrain = 32768;

std::unique_ptr<torch::optim::OptimizerOptions> Defaults(
    const FusedOptimizer::Options& options) {
  if (options.kind == FusedOptimizer::Kind::kSgd) {
    return std::make_unique<torch::optim::SGDOptions>(options.lr);
  }
  return std::make_unique<torch::optim::AdamOptions>(options.lr);
}

// True when walking both tensors' memory in order visits the same elements
// (strides of size-1 dimensions do not matter).
bool SameLayout(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.sizes() != b.sizes()) return false;
  for (int64_t d = 0; d < a.dim(); ++d) {
    if (a.size(d) > 1 && a.stride(d) != b.stride(d)) return false;
  }
  return true;
}

// `grad` in the memory layout of `param`, so both are walked in one order.
torch::Tensor GradLike(const torch::Tensor& param, const torch::Tensor& grad) {
  if (SameLayout(param, grad)) return grad;
  return torch::empty_like(param).copy_(grad);  // empty_like keeps the strides.
}

}  // namespace

FusedOptimizer::FusedOptimizer(std::vector<torch::Tensor> params,
                               const Options& options)
    : torch::optim::Optimizer(std::move(params), Defaults(options)),
      options_(options) {
  for (const torch::Tensor& p : param_groups_.at(0).params()) {
    CHECK(p.device().is_cpu() && p.scalar_type() == torch::kFloat32 &&
          p.is_non_overlapping_and_dense())
        << "FusedOptimizer needs dense float32 CPU parameters";
    first_.push_back(torch::zeros_like(p));
    second_.push_back(options.kind == Kind::kSgd ? torch::Tensor() : torch::zeros_like(p));
  }
}

torch::Tensor FusedOptimizer::step(LossClosure closure) {
  CHECK(closure == nullptr) << "FusedOptimizer does not take a closure";
  torch::NoGradGuard no_grad;
  ++steps_;
  const std::vector<torch::Tensor>& params = param_groups_.at(0).params();
  for (size_t i = 0; i < params.size(); ++i) {
    torch::Tensor p = params[i];
    if (!p.grad().defined()) continue;
    const torch::Tensor g = GradLike(p, p.grad());
    float* data = p.data_ptr<float>();
    const float* grad = g.data_ptr<float>();
    if (options_.kind == Kind::kSgd) {
      UpdateSgd(data, grad, first_[i].data_ptr<float>(), p.numel());
    } else {
      UpdateAdam(data, grad, first_[i].data_ptr<float>(), second_[i].data_ptr<float>(),
                 p.numel());
    }
    // Dropped, not zeroed: the next backward then stores its gradient instead
    // of adding it to zeros (zero_grad(set_to_none=True) in PyTorch terms).
    p.mutable_grad() = torch::Tensor();
  }
  return {};
}

void FusedOptimizer::UpdateAdam(float* p, const float* g, float* m, float* v,
                                int64_t n) const {
  const bool decoupled = options_.kind == Kind::kAdamW;
  const auto b1 = static_cast<float>(options_.beta1);
  const auto b2 = static_cast<float>(options_.beta2);
  const auto one_minus_b1 = static_cast<float>(1 - options_.beta1);
  const auto one_minus_b2 = static_cast<float>(1 - options_.beta2);
  const auto decay = static_cast<float>(options_.weight_decay);
  const auto shrink = static_cast<float>(1 - options_.lr * options_.weight_decay);
  const double bias1 = 1 - std::pow(options_.beta1, static_cast<double>(steps_));
  const double bias2 = 1 - std::pow(options_.beta2, static_cast<double>(steps_));
  const auto step_size = static_cast<float>(options_.lr / bias1);
  const auto bias2_sqrt = static_cast<float>(std::sqrt(bias2));
  const auto eps = static_cast<float>(options_.eps);
  at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      float grad = g[i];
      if (decoupled) {
        p[i] *= shrink;
      } else if (decay != 0) {
        grad += decay * p[i];
      }
      m[i] = m[i] * b1 + grad * one_minus_b1;
      v[i] = v[i] * b2 + one_minus_b2 * grad * grad;
      const float denom = std::sqrt(v[i]) / bias2_sqrt + eps;
      p[i] -= step_size * (m[i] / denom);
    }
  });
}

void FusedOptimizer::UpdateSgd(float* p, const float* g, float* buffer,
                               int64_t n) const {
  const auto lr = static_cast<float>(options_.lr);
  const auto decay = static_cast<float>(options_.weight_decay);
  const auto momentum = static_cast<float>(options_.momentum);
  const bool first_step = steps_ == 1;
  at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      float d = g[i] + decay * p[i];
      if (momentum != 0) {
        buffer[i] = first_step ? d : buffer[i] * momentum + d;
        d = buffer[i];
      }
      p[i] -= lr * d;
    }
  });
}

std::unique_ptr<torch::optim::Optimizer> MakeOptimizer(
    const v1::TrainingRecipe& recipe, std::vector<torch::Tensor> params, bool fused) {
  namespace optim = torch::optim;
  const double lr = recipe.learning_rate(), decay = recipe.weight_decay();
  if (fused) {
    FusedOptimizer::Options options;
    options.kind = recipe.optimizer() == "sgd"     ? FusedOptimizer::Kind::kSgd
                   : recipe.optimizer() == "adamw" ? FusedOptimizer::Kind::kAdamW
                                                   : FusedOptimizer::Kind::kAdam;
    options.lr = lr;
    options.weight_decay = decay;
    options.momentum = recipe.momentum();
    return std::make_unique<FusedOptimizer>(std::move(params), options);
  }
  if (recipe.optimizer() == "sgd") {
    return std::make_unique<optim::SGD>(
        std::move(params),
        optim::SGDOptions(lr).momentum(recipe.momentum()).weight_decay(decay));
  }
  if (recipe.optimizer() == "adamw") {
    return std::make_unique<optim::AdamW>(
        std::move(params), optim::AdamWOptions(lr).weight_decay(decay));
  }
  return std::make_unique<optim::Adam>(
      std::move(params), optim::AdamOptions(lr).weight_decay(decay));
}

}  // namespace nas::worker
