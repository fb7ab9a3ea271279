// BF16 matrix products with F32 accumulation — what `bf16: true` means on a CPU (torch's CPU
// autocast runs linear/matmul in bfloat16 the same way, through oneDNN): the operands are rounded
// to BF16 (to nearest even) as they are packed, products of BF16 pairs are summed in F32 by
// AVX512-BF16's `vdpbf16ps`, and C stays F32. Our own kernels (gemm_bf16_avx512.cpp): a 12 × 32
// micro-kernel over packed pairs; the K reduction always runs in the same passes of 256, so every
// element of C is the same whatever the thread count or the blocking of C.
//
// Which products take it: while a Bf16MatmulScope that turns it on is alive on the calling thread
// (the trainer's steps when the config asks for BF16 compute — docs/training.md), the projections'
// forward and input/weight gradients and the LM head's products (gemm_cpu.h: gemm, gemm_blocked,
// gemm_column_blocked), and attention's QKᵀ / PV products and their gradients (attention_cpu.cpp
// reads the flag before its parallel region: it is the calling thread's). Norms, softmax, RoPE,
// the loss, LoRA's rank-r products and the optimizer stay F32.
#pragma once

#include <cstdint>

namespace tuna {

// True when this build has the kernels and the CPU has AVX-512 F/BW/VL and BF16.
bool bf16_matmul_available();

// True while a Bf16MatmulScope(true) is alive on this thread (and the kernels are available).
bool bf16_matmuls();
class Bf16MatmulScope {
 public:
  explicit Bf16MatmulScope(bool on);  // on is ignored (stays off) where !bf16_matmul_available()
  ~Bf16MatmulScope();
  Bf16MatmulScope(const Bf16MatmulScope&) = delete;
  Bf16MatmulScope& operator=(const Bf16MatmulScope&) = delete;

 private:
  bool previous_;
};

// The most scratch one gemm_bf16 call holds with `threads` threads, bytes: the packed chunk of
// op(B) (4 MiB) plus one packed block of op(A) per thread (96 KiB), whatever the shapes. The
// calling thread keeps it for its next call (grow-only, up to this bound).
int64_t bf16_gemm_scratch_bytes(int threads);

// Before a parallel region of `threads` threads whose threads each call gemm_bf16 (nested, so
// single-threaded on the caller's kept scratch, as attention does per head): gives every thread
// of the team its scratch (bf16_gemm_scratch_bytes(1)) now, so nothing allocates inside the
// caller's region, where a failed allocation could not be reported. Throws here, outside it.
void reserve_bf16_gemm_scratch_per_thread(int threads);
// The calling thread's kept scratch, bytes (0 before its first call; for tests).
int64_t bf16_gemm_scratch_held_bytes();

namespace cpu {

// C[M, N] = alpha · op(A)[M, K] · op(B)[K, N] + beta · C, row-major like cpu::sgemm, the operands
// rounded to BF16 and the products summed in F32 (K in passes of 256, each pass's sum added to C).
// beta = 0: C is not read. Threads split C (none inside an active parallel region). Requires
// bf16_matmul_available().
void gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
               int64_t ldc);

// The same product computed one element at a time in double from the operands rounded to BF16
// the way the packing rounds them (nearest even; denormals to zero): the tests' reference.
void gemm_bf16_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                         const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
                         float* C, int64_t ldc);

}  // namespace cpu

}  // namespace tuna
