// GEMM throughput on the training step's shapes (Gemma 3 270M, batch 4 × 256): OpenBLAS SGEMM as
// the F32 step calls it (gemm_cpu.h) vs tuna's BF16 kernels (gemm_bf16.h), GFLOP/s per shape; with
// oneDNN found at configure time (TUNA_BENCH_DNNL), oneDNN's BF16 matmul too (dnnl_matmul.h).
//   bench_gemm [seconds per shape = 1] [M = 1024]
// Prints one JSON object per line: shape, threads, f32_gflops, bf16_gflops, ratio; with oneDNN
// also dnnl_bf16_gflops (its kernel alone, operands already BF16), dnnl_bf16_convert_gflops (the
// F32 → BF16 reorders of A and B in the timed call, as tuna would pay), dnnl_impl, whether C is
// bit-identical with 1 and with all threads (dnnl_/tuna_threads_identical) and dnnl_vs_tuna_max_rel
// = max |C_dnnl − C_tuna| / max |C_tuna|.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ops/gemm_bf16.h"
#include "ops/gemm_cpu.h"
#ifdef TUNA_BENCH_DNNL
#include "dnnl_matmul.h"
#endif

namespace {

struct Shape {
  const char* name;
  bool ta, tb;
  int64_t M, N, K;
  bool blocked;  // the F32 step calls sgemm_blocked (else OpenBLAS-threaded sgemm)
};

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

template <typename F>
double gflops(const Shape& s, double budget, F&& fn) {
  fn();  // warm-up
  int reps = 0;
  const double t0 = seconds_now();
  double t = t0;
  while (t - t0 < budget || reps < 2) {
    fn();
    ++reps;
    t = seconds_now();
  }
  return 2.0 * static_cast<double>(s.M) * s.N * s.K * reps / (t - t0) / 1e9;
}

#ifdef TUNA_BENCH_DNNL
// C = op(A)·op(B) by tuna's gemm_bf16 or oneDNN's matmul (a fresh primitive, created with the
// thread count now in force), all elements.
std::vector<float> tuna_product(const Shape& s, const std::vector<float>& A,
                                const std::vector<float>& B) {
  std::vector<float> C(static_cast<size_t>(s.M * s.N));
  tuna::cpu::gemm_bf16(s.ta, s.tb, s.M, s.N, s.K, 1.0f, A.data(), s.ta ? s.M : s.K, B.data(),
                       s.tb ? s.K : s.N, 0.0f, C.data(), s.N);
  return C;
}
std::vector<float> dnnl_product(const Shape& s, const std::vector<float>& A,
                                const std::vector<float>& B) {
  std::vector<float> C(static_cast<size_t>(s.M * s.N));
  tuna::bench::DnnlMatmul(s.ta, s.tb, s.M, s.N, s.K).run(A.data(), B.data(), C.data());
  return C;
}
bool same_bits(const std::vector<float>& x, const std::vector<float>& y) {
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

// The oneDNN fields of one shape's line: throughput with and without the operands' conversion,
// the implementation, thread-count invariance (1 thread vs all) and the distance to tuna's C.
void print_dnnl_fields(const Shape& s, double budget, const std::vector<float>& A,
                       const std::vector<float>& B) {
  std::vector<float> C(static_cast<size_t>(s.M * s.N));
  tuna::bench::DnnlMatmul mm(s.ta, s.tb, s.M, s.N, s.K);
  const double with_convert = gflops(s, budget, [&] { mm.run(A.data(), B.data(), C.data()); });
  mm.convert(A.data(), B.data());
  const double kernel = gflops(s, budget, [&] { mm.multiply(C.data()); });

  const int threads = omp_get_max_threads();
  const std::vector<float> dnnl_all = dnnl_product(s, A, B), tuna_all = tuna_product(s, A, B);
  omp_set_num_threads(1);
  const std::vector<float> dnnl_one = dnnl_product(s, A, B), tuna_one = tuna_product(s, A, B);
  omp_set_num_threads(threads);
  double max_diff = 0.0, max_tuna = 0.0;
  for (size_t i = 0; i < tuna_all.size(); ++i) {
    max_diff = std::max(max_diff, std::fabs(static_cast<double>(dnnl_all[i]) - tuna_all[i]));
    max_tuna = std::max(max_tuna, std::fabs(static_cast<double>(tuna_all[i])));
  }
  std::printf(
      ", \"dnnl_bf16_gflops\": %.1f, \"dnnl_bf16_convert_gflops\": %.1f, "
      "\"dnnl_impl\": \"%s\", \"dnnl_threads_identical\": %s, "
      "\"tuna_threads_identical\": %s, \"dnnl_vs_tuna_max_rel\": %.3g",
      kernel, with_convert, mm.implementation().c_str(),
      same_bits(dnnl_one, dnnl_all) ? "true" : "false",
      same_bits(tuna_one, tuna_all) ? "true" : "false", max_diff / max_tuna);
}
#endif

}  // namespace

int main(int argc, char** argv) {
  const double budget = argc > 1 ? std::atof(argv[1]) : 1.0;
  const int64_t T = argc > 2 ? std::atoll(argv[2]) : 1024;
  if (!tuna::bf16_matmul_available()) {
    std::fprintf(stderr, "bench_gemm: this CPU has no AVX512-BF16\n");
    return 1;
  }
  const std::vector<Shape> shapes = {
      {"proj_fwd gate/up x·Wᵀ [T,640]x[2048,640]ᵀ", false, true, T, 2048, 640, false},
      {"proj_fwd q x·Wᵀ [T,640]x[1024,640]ᵀ", false, true, T, 1024, 640, false},
      {"proj_fwd down x·Wᵀ [T,2048]x[640,2048]ᵀ", false, true, T, 640, 2048, false},
      {"proj_dx gate/up dy·W [T,2048]x[2048,640]", false, false, T, 640, 2048, true},
      {"proj_dx down dy·W [T,640]x[640,2048]", false, false, T, 2048, 640, true},
      {"head_logits h·Eᵀ [T,640]x[1638,640]ᵀ", false, true, T, 1638, 640, false},
      {"head_dh p·E [T,1638]x[1638,640]", false, false, T, 640, 1638, true},
      {"proj_dw dyᵀ·x [T,2048]ᵀx[T,640]", true, false, 2048, 640, T, true},
  };
  for (const Shape& s : shapes) {
    const int64_t ar = s.ta ? s.K : s.M, ac = s.ta ? s.M : s.K;
    const int64_t br = s.tb ? s.N : s.K, bc = s.tb ? s.K : s.N;
    std::vector<float> A(static_cast<size_t>(ar * ac)), B(static_cast<size_t>(br * bc)),
        C(static_cast<size_t>(s.M * s.N));
    for (size_t i = 0; i < A.size(); ++i)
      A[i] = static_cast<float>((i * 7919) % 1000) / 1000.0f - 0.5f;
    for (size_t i = 0; i < B.size(); ++i)
      B[i] = static_cast<float>((i * 104729) % 1000) / 1000.0f - 0.5f;
    const double f32 = gflops(s, budget, [&] {
      if (s.blocked)
        tuna::cpu::sgemm_blocked(s.ta, s.tb, s.M, s.N, s.K, 1.0f, A.data(), ac, B.data(), bc, 0.0f,
                                 C.data(), s.N);
      else
        tuna::cpu::sgemm(s.ta, s.tb, s.M, s.N, s.K, 1.0f, A.data(), ac, B.data(), bc, 0.0f,
                         C.data(), s.N);
    });
    const double bf16 = gflops(s, budget, [&] {
      tuna::cpu::gemm_bf16(s.ta, s.tb, s.M, s.N, s.K, 1.0f, A.data(), ac, B.data(), bc, 0.0f,
                           C.data(), s.N);
    });
    std::printf(
        "{\"shape\": \"%s\", \"threads\": %d, \"f32_gflops\": %.1f, \"bf16_gflops\": %.1f, "
        "\"ratio\": %.2f",
        s.name, omp_get_max_threads(), f32, bf16, bf16 / f32);
#ifdef TUNA_BENCH_DNNL
    print_dnnl_fields(s, budget, A, B);
#endif
    std::printf("}\n");
  }
  return 0;
}
