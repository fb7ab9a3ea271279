// One decoding step's matrix-vector products on the real model, op by op: for each distinct
// (type, shape) of the GGUF's 2-D weights, the time of linear_forward with one token (the path
// a decoding step takes), the bytes it reads and the GB/s that makes, and the count of such
// weights per step. Prints one JSON line per weight kind and a total. With TUNA_NO_AVX512=1 the
// AVX2 kernels run instead of the AVX-512 ones.
//   usage: bench_matvec MODEL.gguf [threads=0] [min_seconds=0.3]
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

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_matvec MODEL.gguf [threads=0] [min_seconds=0.3]\n");
    return 2;
  }
  try {
    tuna::set_num_threads(argc > 2 ? std::atoi(argv[2]) : 0);
    const double min_seconds = argc > 3 ? std::atof(argv[3]) : 0.3;
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
      const tuna::Tensor w = g->tensor(value.first);
      const int64_t O = w.dim(0), I = w.dim(1);
      const tuna::Tensor x = tuna::Tensor::from_f32({1, I}, std::vector<float>(I, 0.01f));
      tuna::Tensor y = tuna::Tensor::empty({1, O}, tuna::DType::F32);
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
    std::printf(
        "{\"total\": \"matvecs of one decoding step\", \"threads\": %d, \"ms\": %.3f, \"mib\": %.1f, "
        "\"gb_per_s\": %.2f, \"kernels\": \"%s\"}\n",
        tuna::num_threads(), step_ms, step_bytes / (1 << 20), step_bytes / (step_ms * 1e6),
        tuna::quant_dot_isa_name(tuna::quant_dot_isa()));
    return 0;
  } catch (const tuna::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.exit_status();
  }
}
