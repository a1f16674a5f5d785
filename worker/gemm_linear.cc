#include "worker/gemm_linear.h"

#include <oneapi/dnnl/dnnl.h>

#include <string>

namespace nas::worker {
namespace {

// C {m, n} = alpha * op(A) * op(B) + beta * C, row-major, contiguous.
void Sgemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k,
           const torch::Tensor& a, const torch::Tensor& b, float beta, torch::Tensor& c) {
  const dnnl_status_t status = dnnl_sgemm(
      transpose_a ? 'T' : 'N', transpose_b ? 'T' : 'N', m, n, k, 1.0f,
      a.data_ptr<float>(), transpose_a ? m : k, b.data_ptr<float>(), transpose_b ? k : n,
      beta, c.data_ptr<float>(), n);
  TORCH_CHECK(status == dnnl_success, "dnnl_sgemm failed with status ",
              static_cast<int>(status));
}

class LinearFunction : public torch::autograd::Function<LinearFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor x,
                               torch::Tensor weight, torch::Tensor bias) {
    x = x.contiguous();
    const int64_t batch = x.size(0), in = x.size(1), out = weight.size(0);
    // y starts as the bias in every row (a copy: with one row, contiguous()
    // would hand back the bias itself); y = x W^T + y.
    torch::Tensor y = torch::empty({batch, out}, x.options());
    y.copy_(bias.unsqueeze(0).expand({batch, out}));
    Sgemm(false, true, batch, out, in, x, weight.contiguous(), 1.0f, y);
    ctx->save_for_backward({x, weight});
    return y;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const torch::Tensor weight = saved[1].contiguous();
    const torch::Tensor dy = grads[0].contiguous();
    const int64_t batch = x.size(0), in = x.size(1), out = weight.size(0);
    torch::Tensor dx, dw, db;
    if (ctx->needs_input_grad(0)) {
      dx = torch::empty({batch, in}, x.options());
      Sgemm(false, false, batch, in, out, dy, weight, 0.0f, dx);  // dy W
    }
    if (ctx->needs_input_grad(1)) {
      dw = torch::empty({out, in}, x.options());
      Sgemm(true, false, out, in, batch, dy, x, 0.0f, dw);  // dy^T x
    }
    if (ctx->needs_input_grad(2)) db = dy.sum(0);
    return {dx, dw, db};
  }
};

bool GemmApplies(const torch::Tensor& x, const torch::Tensor& weight) {
  return x.device().is_cpu() && weight.device().is_cpu() &&
         x.scalar_type() == torch::kFloat && weight.scalar_type() == torch::kFloat &&
         x.dim() == 2;
}

}  // namespace

torch::Tensor GemmLinearFunction(const torch::Tensor& x, const torch::Tensor& weight,
                                 const torch::Tensor& bias) {
  return LinearFunction::apply(x, weight, bias);
}

GemmLinearImpl::GemmLinearImpl(int64_t in_features, int64_t out_features) {
  // torch::nn::Linear's own initialisation, so a seeded build draws the
  // same weights as before.
  torch::nn::Linear reference(in_features, out_features);
  weight = register_parameter("weight", reference->weight);
  bias = register_parameter("bias", reference->bias);
}

torch::Tensor GemmLinearImpl::forward(const torch::Tensor& x) {
  if (use_gemm && GemmApplies(x, weight)) return GemmLinearFunction(x, weight, bias);
  return torch::nn::functional::linear(x, weight, bias);
}

}  // namespace nas::worker
