// Forward-pass throughput of tuna: loads MODEL, runs `--repeat` forwards over a B×T batch of
// seeded random ids (after one warm-up), and prints one JSON line: tokens/s, seconds per
// forward, peak RSS. bench/forward/run.sh pairs it with transformers on the same model.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "core/error.h"
#include "core/memory.h"
#include "core/threads.h"
#include "model/model.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(
        stderr,
        "usage: bench_forward MODEL [batch=1] [tokens=512] [repeat=3] [threads=0] "
        "[logits=all|last]\n"
        "  logits=all: the LM head runs on every position (scoring); last: only on the last one\n"
        "  (prompt processing, as llama.cpp computes it by default)\n");
    return 2;
  }
  const std::string model_dir = argv[1];
  const int64_t B = argc > 2 ? std::atoll(argv[2]) : 1;
  const int64_t T = argc > 3 ? std::atoll(argv[3]) : 512;
  const int repeat = argc > 4 ? std::atoi(argv[4]) : 3;
  const int threads = argc > 5 ? std::atoi(argv[5]) : 0;
  const std::string logits_mode = argc > 6 ? argv[6] : "all";
  try {
    tuna::set_num_threads(threads);
    tuna::check_blas_backend();
    tuna::Model model = tuna::Model::load(model_dir);
    tuna::Batch batch;
    batch.B = B;
    batch.T = T;
    std::mt19937 rng(1234);
    std::uniform_int_distribution<int32_t> dist(1, static_cast<int32_t>(model.spec().vocab - 1));
    for (int64_t i = 0; i < B * T; ++i) batch.ids.push_back(dist(rng));
    auto run = [&] {
      tuna::Tensor hidden = model.forward_hidden(batch);
      // LM head in chunks, like scoring does (never [tokens × vocab] at once).
      double checksum = 0.0;
      const int64_t first = logits_mode == "last" ? hidden.dim(0) - 1 : 0;
      for (int64_t r = first; r < hidden.dim(0); r += 64) {
        tuna::Tensor logits = model.logits_rows(hidden, r, std::min(hidden.dim(0), r + 64));
        checksum += logits.data<float>()[0];
      }
      return checksum;
    };
    run();  // warm-up (page-in of the mmap-ed weights)
    auto t0 = std::chrono::steady_clock::now();
    double checksum = 0.0;
    for (int i = 0; i < repeat; ++i) checksum += run();
    double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / repeat;
    std::printf(
        "{\"impl\": \"tuna\", \"model\": \"%s\", \"logits\": \"%s\", \"batch\": %lld, \"tokens\": "
        "%lld, \"threads\": %d, "
        "\"seconds_per_forward\": %.6f, \"tokens_per_second\": %.2f, \"peak_rss_mb\": %.1f, "
        "\"checksum\": %.6g}\n",
        model_dir.c_str(), logits_mode.c_str(), static_cast<long long>(B),
        static_cast<long long>(T), tuna::num_threads(), secs, static_cast<double>(B * T) / secs,
        static_cast<double>(tuna::peak_rss_bytes()) / (1 << 20), checksum);
    return 0;
  } catch (const tuna::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.exit_status();
  }
}
