// LD_PRELOAD profiler for the training step's GEMMs: wraps cblas_sgemm, adds up each call's wall
// time and FLOPs (2·M·N·K) by shape (M/N/K rounded down to 64/256/256 so tiles of one weight
// land together) and by whether it ran inside an OpenMP region (one single-threaded OpenBLAS
// call per block) or outside (OpenBLAS's own threads). At exit it prints, to stderr, the shapes
// over 1 % of the total, their GFLOP/s, and the total FLOPs — the step's FLOP count for the
// roofline in docs/PERFORMANCE.md.
//   LD_PRELOAD=build/bin/libsgemm_profile.so build/bin/bench_train_step MODEL 4 256 1 2
#include <cblas.h>
#include <dlfcn.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

namespace {

using Sgemm = void (*)(CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, blasint, blasint, blasint,
                       float, const float*, blasint, const float*, blasint, float, float*, blasint);
using Key = std::tuple<bool, bool, int, int, int, bool>;  // trans A, trans B, M, N, K, nested
struct Sum {
  double seconds = 0, flop = 0;
  long calls = 0;
};

std::mutex mu;
std::map<Key, Sum>* sums = nullptr;

struct Report {
  ~Report() {
    if (sums == nullptr) return;
    double seconds = 0, flop = 0;
    std::vector<std::pair<Key, Sum>> rows(sums->begin(), sums->end());
    for (const auto& [k, s] : rows) seconds += s.seconds, flop += s.flop;
    std::sort(rows.begin(), rows.end(),
              [](const auto& a, const auto& b) { return a.second.seconds > b.second.seconds; });
    for (const auto& [k, s] : rows) {
      if (s.seconds < 0.01 * seconds) break;
      std::fprintf(stderr,
                   "sgemm %s%s M≥%-5d N≥%-6d K≥%-6d %-8s %7ld calls %8.3f s %6.1f GFLOP/s\n",
                   std::get<0>(k) ? "T" : "N", std::get<1>(k) ? "T" : "N", std::get<2>(k),
                   std::get<3>(k), std::get<4>(k), std::get<5>(k) ? "blocked" : "threaded", s.calls,
                   s.seconds, s.flop / s.seconds / 1e9);
    }
    std::fprintf(stderr, "sgemm total: %.1f GFLOP, %.3f thread-seconds\n", flop / 1e9, seconds);
  }
} report;

int bin(int v, int step) {
  return v >= step ? v / step * step : v;
}

}  // namespace

extern "C" void cblas_sgemm(CBLAS_ORDER order, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, blasint M,
                            blasint N, blasint K, float alpha, const float* A, blasint lda,
                            const float* B, blasint ldb, float beta, float* C, blasint ldc) {
  static const auto real = reinterpret_cast<Sgemm>(dlsym(RTLD_NEXT, "cblas_sgemm"));
  const auto t0 = std::chrono::steady_clock::now();
  real(order, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const Key key{ta == CblasTrans, tb == CblasTrans, bin(M, 64),
                bin(N, 256),      bin(K, 256),      omp_in_parallel() != 0};
  std::lock_guard<std::mutex> lock(mu);
  if (sums == nullptr) sums = new std::map<Key, Sum>;
  Sum& sum = (*sums)[key];
  sum.seconds += s;
  sum.flop += 2.0 * M * N * K;
  sum.calls += 1;
}
