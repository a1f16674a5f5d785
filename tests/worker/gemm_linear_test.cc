#include "worker/gemm_linear.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace nas::worker {
namespace {

double MaxDifference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

// Forward and all three gradients agree with torch::linear (LibTorch's
// BLAS) up to float rounding, for a classifier-sized and an odd shape.
TEST(GemmLinearTest, MatchesTorchLinearForwardAndBackward) {
  for (const auto& [batch, in, out] : {std::tuple<int64_t, int64_t, int64_t>{64, 1568, 64},
                                       {7, 13, 3}, {1, 5, 10}}) {
    torch::manual_seed(3);
    const torch::Tensor x = torch::randn({batch, in}, torch::requires_grad());
    const torch::Tensor w = torch::randn({out, in}, torch::requires_grad());
    const torch::Tensor b = torch::randn({out}, torch::requires_grad());
    const torch::Tensor upstream = torch::randn({batch, out});

    const torch::Tensor expected = torch::linear(x, w, b);
    const auto expected_grads = torch::autograd::grad({expected}, {x, w, b}, {upstream});
    const torch::Tensor got = GemmLinearFunction(x, w, b);
    const auto got_grads = torch::autograd::grad({got}, {x, w, b}, {upstream});

    SCOPED_TRACE(testing::Message() << batch << "x" << in << " -> " << out);
    // Nothing but the output is written: not the bias (a batch of one once
    // wrote its products into it), not the input or weight.
    const torch::Tensor b_before = b.clone(), w_before = w.clone(), x_before = x.clone();
    GemmLinearFunction(x, w, b);
    EXPECT_TRUE(torch::equal(b, b_before));
    EXPECT_TRUE(torch::equal(w, w_before));
    EXPECT_TRUE(torch::equal(x, x_before));
    ASSERT_EQ(got.sizes(), expected.sizes());
    EXPECT_LT(MaxDifference(got, expected), 1e-3);
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(got_grads[i].sizes(), expected_grads[i].sizes());
      EXPECT_LT(MaxDifference(got_grads[i], expected_grads[i]), 1e-3) << "gradient " << i;
    }
  }
}

// The module draws its weights as torch::nn::Linear does, and falls back to
// torch::linear when asked to.
TEST(GemmLinearTest, InitialisesAsLinearAndCanBeTurnedOff) {
  torch::manual_seed(11);
  torch::nn::Linear reference(20, 4);
  torch::manual_seed(11);
  GemmLinear gemm(20, 4);
  EXPECT_TRUE(torch::equal(gemm->weight, reference->weight));
  EXPECT_TRUE(torch::equal(gemm->bias, reference->bias));
  EXPECT_EQ(gemm->named_parameters().size(), 2u);

  const torch::Tensor x = torch::randn({6, 20});
  const torch::Tensor fast = gemm->forward(x);
  gemm->use_gemm = false;
  const torch::Tensor plain = gemm->forward(x);
  EXPECT_LT(MaxDifference(fast, plain), 1e-4);
  EXPECT_LT(MaxDifference(plain, reference->forward(x)), 1e-6);
}

}  // namespace
}  // namespace nas::worker
