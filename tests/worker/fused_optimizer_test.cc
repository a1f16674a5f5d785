#include "worker/fused_optimizer.h"

#include <string>
#include <vector>

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace nas::worker {
namespace {

torch::Tensor ChannelsLast(const torch::Tensor& t) {
  return t.to(t.options(), false, /*copy=*/true, torch::MemoryFormat::ChannelsLast);
}

// Parameters of a few shapes and layouts: channels-last ones (one with a
// single input channel, whose gradient LibTorch may return with other
// strides), a bias, a matrix and one big enough to be updated in parallel.
std::vector<torch::Tensor> MakeParams() {
  torch::manual_seed(5);
  std::vector<torch::Tensor> params = {
      ChannelsLast(torch::randn({8, 3, 3, 3})), ChannelsLast(torch::randn({8, 1, 3, 3})),
      torch::randn({8}), torch::randn({10, 300}), torch::randn({70000})};
  for (torch::Tensor& p : params) p.set_requires_grad(true);
  return params;
}

std::vector<torch::Tensor> Clone(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> copies;
  for (const torch::Tensor& p : params) {
    copies.push_back(p.detach().clone().set_requires_grad(true));
  }
  return copies;
}

// Runs `steps` updates with the same gradients on both optimizers (a fixed
// quadratic loss, so gradients depend on the parameters, as in training)
// and returns the largest difference between their parameters.
double MaxDifferenceAfterSteps(const std::string& name, double weight_decay, int steps) {
  v1::TrainingRecipe recipe;
  recipe.set_optimizer(name);
  recipe.set_learning_rate(name == "sgd" ? 0.05 : 0.01);
  recipe.set_momentum(0.9);
  recipe.set_weight_decay(weight_decay);
  std::vector<torch::Tensor> a = MakeParams(), b = Clone(a);
  auto fused = MakeOptimizer(recipe, a, /*fused=*/true);
  auto stock = MakeOptimizer(recipe, b, /*fused=*/false);
  for (int step = 0; step < steps; ++step) {
    for (auto* pair : {&a, &b}) {
      torch::Tensor loss = torch::zeros({});
      for (const torch::Tensor& p : *pair) loss = loss + (p * p * 0.5 + p.sin()).sum();
      loss.backward();
    }
    fused->step();
    stock->step();
    fused->zero_grad();
    stock->zero_grad();
  }
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].strides(), b[i].strides());
    worst = std::max(worst, (a[i] - b[i]).abs().max().item<double>());
  }
  return worst;
}

TEST(FusedOptimizerTest, MatchesTorchOptimUpToRounding) {
  for (const char* name : {"adam", "adamw", "sgd"}) {
    for (double decay : {0.0, 0.01}) {
      EXPECT_LT(MaxDifferenceAfterSteps(name, decay, 20), 2e-5)
          << name << " weight_decay " << decay;
    }
  }
}

TEST(FusedOptimizerTest, ParametersActuallyMove) {
  std::vector<torch::Tensor> params = MakeParams();
  const torch::Tensor before = params[3].detach().clone();
  v1::TrainingRecipe recipe;
  recipe.set_optimizer("adam");
  recipe.set_learning_rate(0.1);
  auto fused = MakeOptimizer(recipe, params, true);
  params[3].sum().backward();
  fused->step();
  // Adam's first step moves every element by lr against the gradient's sign.
  EXPECT_NEAR((before - params[3]).mean().item<double>(), 0.1, 1e-4);
}

}  // namespace
}  // namespace nas::worker
