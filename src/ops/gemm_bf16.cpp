// The BF16 GEMM driver (see gemm_bf16.h): op(B) packed in panels of 32 columns and op(A) in
// groups of 12 rows (BF16 pairs), chunk by chunk of op(B); threads take blocks of 24 rows, each in
// passes of 128 k pairs in which every 32-column panel (16 KiB, in L1) meets every 12-row group of
// the block (in L2). The K passes run in the same order for every element whatever the threads.
#include "ops/gemm_bf16.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>

#include "core/error.h"
#include "core/memory.h"
#include "ops/gemm_bf16_avx512.h"

namespace tuna {

namespace {

thread_local bool t_bf16_matmuls = false;

bool cpu_has_avx512_bf16() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
#else
  return false;
#endif
}

// C is computed in chunks of op(B): kChunkPairs k pairs (2,048 k) × kChunkColumns columns, packed
// once (≤ 4 MiB) and shared by the threads; each task packs a block of kBlockRows rows of op(A)
// for the chunk (≤ 96 KiB, in L2) and multiplies it by its columns of the chunk. The buffers are
// bounded whatever the operands' size (the 262,144-row LM head included).
constexpr int64_t kChunkPairs = 1024;
constexpr int64_t kChunkColumns = 1024;
// 24-row blocks: 1,024 rows make 43 tasks, so the last one leaves a thread idle for little time
// (96-row blocks measured 250–345 GFLOP/s on the training shapes, 24-row ones 340–390, 2 threads).
constexpr int64_t kBlockRows = 2 * kBf16MR;  // 24

}  // namespace

bool bf16_matmul_available() {
  static const bool available = gemm_bf16_avx512_built() && cpu_has_avx512_bf16();
  return available;
}

bool bf16_matmuls() {
  return t_bf16_matmuls;
}

Bf16MatmulScope::Bf16MatmulScope(bool on) : previous_(t_bf16_matmuls) {
  t_bf16_matmuls = on && bf16_matmul_available();
}

Bf16MatmulScope::~Bf16MatmulScope() {
  t_bf16_matmuls = previous_;
}

namespace {

// The calling thread's scratch, kept between calls and grown when a call needs more (≤ the bound
// of bf16_gemm_scratch_bytes): a training step makes thousands of calls, and fresh buffers cost
// allocator work and page faults each time.
thread_local int64_t t_scratch_words = 0;  // what the thread's kept scratch holds

uint32_t* thread_scratch(int64_t words) {
  thread_local AlignedBuffer buf;
  int64_t& have = t_scratch_words;
  if (have < words) {
    buf.reset();
    have = 0;
    buf = make_aligned_buffer(static_cast<size_t>(words) * sizeof(uint32_t));
    have = words;
  }
  return static_cast<uint32_t*>(buf.get());
}

}  // namespace

int64_t bf16_gemm_scratch_bytes(int threads) {
  const int64_t b = (kChunkColumns + kBf16NR - 1) / kBf16NR * kChunkPairs * kBf16NR;
  const int64_t a = kBlockRows * kChunkPairs;
  return (b + a * std::max(1, threads)) * static_cast<int64_t>(sizeof(uint32_t));
}

int64_t bf16_gemm_scratch_held_bytes() {
  return t_scratch_words * static_cast<int64_t>(sizeof(uint32_t));
}

void reserve_bf16_gemm_scratch_per_thread(int threads) {
  const int64_t words = bf16_gemm_scratch_bytes(1) / static_cast<int64_t>(sizeof(uint32_t));
  std::exception_ptr failure;
#pragma omp parallel num_threads(threads)
  {
    try {
      thread_scratch(words);
    } catch (...) {
#pragma omp critical(tuna_bf16_reserve)
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
}

namespace cpu {

void gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
               int64_t ldc) {
  TUNA_ASSERT(bf16_matmul_available(), "gemm_bf16 without AVX512-BF16");
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
    return;
  }
  // op(A)[i, k] = A[i·lda + k] or A[k·lda + i]; op(B)[k, j] = B[k·ldb + j] or B[j·ldb + k].
  const int64_t a_sw = trans_a ? 1 : lda, a_sk = trans_a ? lda : 1;
  const int64_t b_sw = trans_b ? ldb : 1, b_sk = trans_b ? 1 : ldb;
  const int64_t KP = (K + 1) / 2;
  const int64_t kpc = std::min(KP, kChunkPairs), npc = std::min(N, kChunkColumns);
  const int64_t chunk_panels = (npc + kBf16NR - 1) / kBf16NR;
  const int64_t row_blocks = (M + kBlockRows - 1) / kBlockRows;
  const bool nested = omp_in_parallel();
  const int64_t threads = nested ? 1 : omp_get_max_threads();
  // The B chunk (shared, on a cache line) and one A block per thread, all allocated here, before
  // the parallel region (nothing inside it can throw), in the calling thread's kept scratch.
  const int64_t b_words = chunk_panels * kpc * kBf16NR, a_words = kBlockRows * kpc;
  uint32_t* pb = thread_scratch(b_words + threads * a_words);
#pragma omp parallel if (!nested)
  {
    uint32_t* pa = pb + b_words + omp_get_thread_num() * a_words;
    for (int64_t k0 = 0; k0 < K; k0 += 2 * kChunkPairs) {
      const int64_t kc = std::min(K - k0, 2 * kChunkPairs), kcp = (kc + 1) / 2;
      for (int64_t j0 = 0; j0 < N; j0 += kChunkColumns) {
        const int64_t nc = std::min(N - j0, kChunkColumns);
        const int64_t panels = (nc + kBf16NR - 1) / kBf16NR;
#pragma omp for schedule(static)
        for (int64_t p = 0; p < panels; ++p) {
          const int64_t j = j0 + p * kBf16NR;
          bf16_pack(B + j * b_sw + k0 * b_sk, b_sw, b_sk, kBf16NR, std::min(kBf16NR, N - j), kc,
                    pb + p * kcp * kBf16NR);
        }
        // Tasks: row blocks, each cut into column ranges when there are too few of them to keep
        // the threads busy (each range packs its A block again).
        const int64_t splits = std::min(
            panels, row_blocks >= 2 * threads ? 1 : (2 * threads + row_blocks - 1) / row_blocks);
        const int64_t per_split = (panels + splits - 1) / splits;
#pragma omp for schedule(dynamic)
        for (int64_t t = 0; t < row_blocks * splits; ++t) {
          const int64_t i0 = (t / splits) * kBlockRows, rows = std::min(kBlockRows, M - i0);
          const int64_t groups = (rows + kBf16MR - 1) / kBf16MR;
          const int64_t p0 = (t % splits) * per_split, p1 = std::min(panels, p0 + per_split);
          if (p0 >= p1) continue;
          for (int64_t g = 0; g < groups; ++g) {
            const int64_t i = i0 + g * kBf16MR;
            bf16_pack(A + i * a_sw + k0 * a_sk, a_sw, a_sk, kBf16MR, std::min(kBf16MR, M - i), kc,
                      pa + g * kcp * kBf16MR);
          }
          // Passes of kBf16KC pairs: each 32-column micro-panel (16 KiB) meets every group.
          for (int64_t q0 = 0; q0 < kcp; q0 += kBf16KC) {
            const int64_t q1 = std::min(kcp, q0 + kBf16KC);
            const bool first = k0 == 0 && q0 == 0;
            for (int64_t p = p0; p < p1; ++p) {
              const int64_t j = j0 + p * kBf16NR;
              for (int64_t g = 0; g < groups; ++g) {
                const int64_t i = i0 + g * kBf16MR;
                bf16_micro(pa + g * kcp * kBf16MR, pb + p * kcp * kBf16NR, q0, q1, C + i * ldc + j,
                           ldc, std::min(kBf16MR, M - i), std::min(kBf16NR, N - j), alpha, beta,
                           first);
              }
            }
          }
        }
      }
    }
  }
}

namespace {

// F32 → BF16 → F32 as vcvtne(2)ps2bf16 rounds: nearest even, denormals to (signed) zero, NaN kept.
double to_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7F800000u) == 0) u &= 0x80000000u;  // denormal (or zero) → signed zero
  if (std::isnan(x)) return x;
  u += 0x7FFFu + ((u >> 16) & 1u);
  u &= 0xFFFF0000u;
  float r;
  std::memcpy(&r, &u, 4);
  return r;
}

}  // namespace

void gemm_bf16_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                         const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
                         float* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double s = 0.0;
      for (int64_t k = 0; k < K; ++k) {
        const float a = trans_a ? A[k * lda + i] : A[i * lda + k];
        const float b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
        s += to_bf16(a) * to_bf16(b);
      }
      const double c = beta == 0.0f ? 0.0 : static_cast<double>(beta) * C[i * ldc + j];
      C[i * ldc + j] = static_cast<float>(alpha * s + c);
    }
}

}  // namespace cpu

}  // namespace tuna
