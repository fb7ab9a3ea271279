// The machine's F32 multiply-add ceiling: every thread runs 12 independent chains of fused
// multiply-adds on the widest vectors the CPU has (AVX-512 zmm where present, else AVX2 ymm),
// and, where AVX512-BF16 is present, of BF16 pair dot products (vdpbf16ps) for comparison. Prints
// one JSON line: GFLOP/s per thread and for all threads together (1 FMA = 2 FLOP). A training
// step's FLOP count divided by this rate is the fastest any F32 implementation can run it on
// this machine — the roofline docs/PERFORMANCE.md compares tuna and PEFT against.
//   usage: bench_cpu_peak [threads=0 (all)] [seconds=1]
#include <immintrin.h>
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace {

constexpr int kChains = 12;  // ≥ latency × pipes (4 × 2) independent accumulators

// Σ of every lane of the chains (keeps the work observable; GCC 12's reduce intrinsics warn).
__attribute__((target("avx512f"))) float sum_zmm(const __m512* acc) {
  alignas(64) float lanes[16];
  float s = 0.0f;
  for (int i = 0; i < kChains; ++i) {
    _mm512_store_ps(lanes, acc[i]);
    for (float v : lanes) s += v;
  }
  return s;
}

__attribute__((target("avx512f"))) float fma_zmm(long iters) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(1.0f + static_cast<float>(i) * 1e-7f);
  const __m512 b = _mm512_set1_ps(0.9999999f), c = _mm512_set1_ps(1e-8f);
  for (long n = 0; n < iters; ++n)
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], b, c);
  return sum_zmm(acc);
}

__attribute__((target("avx2,fma"))) float fma_ymm(long iters) {
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(1.0f + static_cast<float>(i) * 1e-7f);
  const __m256 b = _mm256_set1_ps(0.9999999f), c = _mm256_set1_ps(1e-8f);
  for (long n = 0; n < iters; ++n)
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], b, c);
  alignas(32) float lanes[8];
  float s = 0.0f;
  for (int i = 0; i < kChains; ++i) {
    _mm256_store_ps(lanes, acc[i]);
    for (float v : lanes) s += v;
  }
  return s;
}

__attribute__((target("avx512f,avx512bf16"))) float dp_bf16_zmm(long iters) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_setzero_ps();
  const __m512bh one = (__m512bh)_mm512_set1_epi32(0x3f803f80);  // bf16 1.0 in both halves
  for (long n = 0; n < iters; ++n)
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], one, one);
  return sum_zmm(acc);
}

// GFLOP/s of each thread running fn for about `seconds`, all threads at once (the minimum).
template <typename Fn>
double rate_per_thread(Fn fn, double flop_per_iter, double seconds, int threads) {
  long iters = 1 << 20;
  for (;;) {  // calibrate on one thread
    const auto t0 = std::chrono::steady_clock::now();
    volatile float sink = fn(iters);
    (void)sink;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s > 0.05) {
      iters = static_cast<long>(static_cast<double>(iters) * seconds / s);
      break;
    }
    iters *= 4;
  }
  double slowest = 1e300;
#pragma omp parallel num_threads(threads) reduction(min : slowest)
  {
    const auto t0 = std::chrono::steady_clock::now();
    volatile float sink = fn(iters);
    (void)sink;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    slowest = static_cast<double>(iters) * flop_per_iter / s / 1e9;
  }
  return slowest;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads =
      argc > 1 && std::atoi(argv[1]) > 0 ? std::atoi(argv[1]) : omp_get_max_threads();
  const double seconds = argc > 2 ? std::atof(argv[2]) : 1.0;
  const bool zmm = __builtin_cpu_supports("avx512f");
  const double f32 = zmm ? rate_per_thread(fma_zmm, kChains * 16 * 2.0, seconds, threads)
                         : rate_per_thread(fma_ymm, kChains * 8 * 2.0, seconds, threads);
  std::printf(
      "{\"bench\": \"cpu_peak\", \"threads\": %d, \"f32_vector\": \"%s\", "
      "\"f32_gflops_per_thread\": %.1f, \"f32_gflops\": %.1f",
      threads, zmm ? "avx512" : "avx2", f32, f32 * threads);
  if (zmm && __builtin_cpu_supports("avx512bf16")) {
    const double bf16 = rate_per_thread(dp_bf16_zmm, kChains * 32 * 2.0, seconds, threads);
    std::printf(", \"bf16_dot_gflops_per_thread\": %.1f, \"bf16_dot_gflops\": %.1f", bf16,
                bf16 * threads);
  }
  std::printf("}\n");
  return 0;
}
