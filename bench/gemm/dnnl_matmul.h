// oneDNN's BF16 matmul as bench_gemm's comparison column (built only when CMake finds oneDNN):
// F32 operands reordered to BF16 (into the layout the primitive asks for), products in BF16 with
// F32 accumulation, C in F32. Bench code only: libtuna does not link oneDNN.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace tuna::bench {

// C[M, N] = op(A)[M, K] · op(B)[K, N], row-major like cpu::gemm_bf16 (lda = ac, ldb = bc dense,
// alpha 1, beta 0). The primitives are created in the constructor with the thread count then in
// force (omp_get_max_threads), as oneDNN sizes its decomposition at creation.
class DnnlMatmul {
 public:
  DnnlMatmul(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K);
  ~DnnlMatmul();
  DnnlMatmul(const DnnlMatmul&) = delete;
  DnnlMatmul& operator=(const DnnlMatmul&) = delete;

  // The F32 → BF16 reorders of both operands into the primitive's own buffers.
  void convert(const float* A, const float* B);
  // The BF16 matmul alone, from the buffers the last convert() filled.
  void multiply(float* C);
  // convert + multiply: what tuna would pay per call with F32 activations and weights.
  void run(const float* A, const float* B, float* C) {
    convert(A, B);
    multiply(C);
  }
  // The implementation oneDNN chose (e.g. "brg:avx512_core_bf16").
  std::string implementation() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tuna::bench
