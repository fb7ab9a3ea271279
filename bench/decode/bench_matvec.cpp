// One decoding step's matrix-vector products on the real model, op by op: for each distinct
// (type, shape) of the GGUF's 2-D weights, the time of linear_forward with one token (the path
// a decoding step takes), the bytes it reads and the GB/s that makes, and the count of such
// weights per step. Prints one JSON line per weight kind and a total with the machine's ceiling:
// the measured read bandwidth and the tokens/s a step that reads every weight once could reach
// at it. With TUNA_NO_AVX512=1 the AVX2 kernels run instead of the AVX-512 ones. `tokens` > 1
// times a step of batched decoding (that many sequences, one token each).
// `only` times just the weights whose name contains it (no bandwidth probe then).
//   usage: bench_matvec MODEL.gguf [threads=0] [min_seconds=0.3] [tokens=1] [only]
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "core/threads.h"
#include "io/gguf.h"
#include "model/model.h"
#include "ops/linear.h"
#include "ops/quant_dot.h"

namespace {

// The machine's read bandwidth: GB/s of summing a 1 GiB buffer with every thread (AVX2 loads,
// four independent sums), best of 3 — the ceiling a decoding step that must read every weight
// once can approach.
double read_bandwidth_gbs() {
  const size_t n = size_t{1} << 28;  // floats
  std::vector<float> a(n, 1.0f);
  double best = 0.0;
  for (int rep = 0; rep < 3; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    float total = 0.0f;
#pragma omp parallel for schedule(static) reduction(+ : total)
    for (size_t i = 0; i < n; i += 32) {
      __m256 s = _mm256_add_ps(_mm256_loadu_ps(&a[i]), _mm256_loadu_ps(&a[i + 8]));
      s = _mm256_add_ps(s, _mm256_add_ps(_mm256_loadu_ps(&a[i + 16]), _mm256_loadu_ps(&a[i + 24])));
      float t[8];
      _mm256_storeu_ps(t, s);
      total += ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]));
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (total != static_cast<float>(n)) std::fprintf(stderr, "bandwidth probe: bad sum\n");
    best = std::max(best, static_cast<double>(n) * 4 / secs / 1e9);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_matvec MODEL.gguf [threads=0] [min_seconds=0.3]\n");
    return 2;
  }
  try {
    tuna::set_num_threads(argc > 2 ? std::atoi(argv[2]) : 0);
    const double min_seconds = argc > 3 ? std::atof(argv[3]) : 0.3;
    const int64_t tokens = argc > 4 ? std::max(1, std::atoi(argv[4])) : 1;
    const std::string only = argc > 5 ? argv[5] : "";
    const tuna::Model model = tuna::Model::load(argv[1]);
    const tuna::GgufFile* g = model.gguf();
    if (g == nullptr) throw tuna::Error(tuna::ErrorKind::USER, "bench_matvec", "needs a GGUF model", "pass a .gguf file");
    // (type, rows, cols) → (a tensor of that kind, how many)
    std::map<std::tuple<std::string, int64_t, int64_t>, std::pair<std::string, int>> kinds;
    for (const auto& info : g->tensors()) {
      const tuna::Tensor w = g->tensor(info);
      if (w.ndim() != 2 || w.dtype() == tuna::DType::F32) continue;
      auto& k = kinds[{tuna::dtype_name(w.dtype()), w.dim(0), w.dim(1)}];
      if (k.second++ == 0) k.first = info.name;
    }
    double step_ms = 0.0, step_bytes = 0.0;
    for (const auto& [key, value] : kinds) {
      if (value.first.find(only) == std::string::npos) continue;
      const tuna::Tensor w = g->tensor(value.first);
      const int64_t O = w.dim(0), I = w.dim(1);
      std::vector<float> xv(static_cast<size_t>(tokens * I));
      for (size_t i = 0; i < xv.size(); ++i) xv[i] = 0.01f * static_cast<float>(i % 97) - 0.4f;
      const tuna::Tensor x = tuna::Tensor::from_f32({tokens, I}, std::move(xv));
      tuna::Tensor y = tuna::Tensor::empty({tokens, O}, tuna::DType::F32);
      tuna::linear_forward(x, w, tuna::Tensor(), y);  // warm-up
      int reps = 0;
      const auto t0 = std::chrono::steady_clock::now();
      double secs = 0.0;
      while (secs < min_seconds) {
        tuna::linear_forward(x, w, tuna::Tensor(), y);
        ++reps;
        secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      }
      const double ms = secs / reps * 1e3;
      // The tied embedding is also the LM head: read once per step as the head.
      const int per_step = value.first == "token_embd.weight" ? 1 : value.second;
      step_ms += ms * per_step;
      step_bytes += static_cast<double>(w.nbytes()) * per_step;
      std::printf(
          "{\"weight\": \"%s\", \"type\": \"%s\", \"rows\": %lld, \"cols\": %lld, \"per_step\": %d, "
          "\"ms\": %.4f, \"gb_per_s\": %.2f}\n",
          value.first.c_str(), std::get<0>(key).c_str(), static_cast<long long>(O),
          static_cast<long long>(I), per_step, ms, static_cast<double>(w.nbytes()) / (ms * 1e6));
    }
    if (!only.empty()) return 0;
    const double bw = read_bandwidth_gbs();
    std::printf(
        "{\"total\": \"matvecs of one decoding step\", \"threads\": %d, \"tokens\": %lld, "
        "\"ms\": %.3f, \"mib\": %.1f, "
        "\"gb_per_s\": %.2f, \"kernels\": \"%s\", \"read_bandwidth_gb_per_s\": %.2f, "
        "\"decode_limit_tokens_per_s\": %.1f, \"matvec_tokens_per_s\": %.1f}\n",
        tuna::num_threads(), static_cast<long long>(tokens), step_ms, step_bytes / (1 << 20), step_bytes / (step_ms * 1e6),
        tuna::quant_dot_isa_name(tuna::quant_dot_isa()), bw, bw * 1e9 / step_bytes,
        1e3 * static_cast<double>(tokens) / step_ms);
    return 0;
  } catch (const tuna::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.exit_status();
  }
}
