#ifndef NAS_WORKER_GEMM_LINEAR_H_
#define NAS_WORKER_GEMM_LINEAR_H_

// Internal to the worker's LibTorch files: this header pulls in LibTorch.

#include <torch/torch.h>

namespace nas::worker {

// A LINEAR layer, y = x W^T + b, as torch::nn::Linear computes it, whose
// three matrix products (forward, and the input and weight gradients) run on
// the CPU in oneDNN's JIT-compiled sgemm (dnnl_sgemm) instead of the BLAS
// LibTorch was linked with: Debian's LibTorch uses the reference (netlib)
// BLAS, 10-20x slower than oneDNN on these shapes. Same function, same
// parameters ("weight" {out, in}, "bias" {out}, initialised exactly as
// torch::nn::Linear initialises them, from the same generator draws); only
// the order of the float additions differs. Elsewhere (CUDA, other dtypes)
// or with `use_gemm` false it is torch::linear.
class GemmLinearImpl : public torch::nn::Module {
 public:
  GemmLinearImpl(int64_t in_features, int64_t out_features);
  torch::Tensor forward(const torch::Tensor& x);

  torch::Tensor weight;
  torch::Tensor bias;
  bool use_gemm = true;
};
TORCH_MODULE(GemmLinear);

// y = x W^T + b through dnnl_sgemm, with its backward; x {B, in}, contiguous
// float CPU tensors. Exposed for tests.
torch::Tensor GemmLinearFunction(const torch::Tensor& x, const torch::Tensor& weight,
                                 const torch::Tensor& bias);

}  // namespace nas::worker

#endif  // NAS_WORKER_GEMM_LINEAR_H_
