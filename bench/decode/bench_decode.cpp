// Decoding throughput of tuna: loads MODEL, prefills `prompt` seeded random ids, then decodes
// `new` tokens greedily one at a time through the KV cache (the path `tuna generate` takes),
// `repeat` times after one warm-up, and prints one JSON line: decoded tokens/s (prefill not
// counted), seconds per token, peak RSS. bench/decode/run.sh pairs it with llama.cpp. The steps
// take the fast path (8-bit activations, as tuna generate does) unless `mode` is "exact".
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/memory.h"
#include "core/threads.h"
#include "infer/kv_decoder.h"
#include "model/model.h"
#include "ops/quant_dot.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: bench_decode MODEL [prompt=32] [new=64] [repeat=3] [threads=0] "
                 "[mode=fast|exact]\n");
    return 2;
  }
  const std::string model_path = argv[1];
  const int64_t P = argc > 2 ? std::atoll(argv[2]) : 32;
  const int64_t D = argc > 3 ? std::atoll(argv[3]) : 64;
  const int repeat = argc > 4 ? std::atoi(argv[4]) : 3;
  const int threads = argc > 5 ? std::atoi(argv[5]) : 0;
  const bool exact = argc > 6 && std::string(argv[6]) == "exact";
  try {
    tuna::set_num_threads(threads);
    tuna::check_blas_backend();
    const tuna::Model model = tuna::Model::load(model_path);
    std::mt19937 rng(1234);
    std::uniform_int_distribution<int32_t> dist(1, static_cast<int32_t>(model.spec().vocab - 1));
    std::vector<int32_t> prompt;
    for (int64_t i = 0; i < std::max<int64_t>(1, P); ++i) prompt.push_back(dist(rng));
    tuna::KvDecoder dec(model);
    // One run: prefill (untimed), then D greedy steps (timed). Returns seconds and the ids.
    auto run = [&](std::vector<int32_t>* out) {
      dec.reset();
      std::vector<float> logits = dec.next_logits(prompt);
      const auto t0 = std::chrono::steady_clock::now();
      for (int64_t s = 0; s < D; ++s) {
        const int32_t next = static_cast<int32_t>(
            std::max_element(logits.begin(), logits.end()) - logits.begin());
        out->push_back(next);
        const tuna::Int8ActivationScope scope(!exact);
        logits = dec.next_logits({next});
      }
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    std::vector<int32_t> ids;
    run(&ids);  // warm-up (page-in of the mmap-ed weights)
    double best = 1e30, total = 0.0;
    for (int i = 0; i < repeat; ++i) {
      ids.clear();
      const double s = run(&ids);
      best = std::min(best, s);
      total += s;
    }
    const double secs = total / repeat;
    unsigned long long checksum = 0;
    for (int32_t id : ids) checksum = checksum * 31 + static_cast<unsigned>(id);
    std::printf(
        "{\"impl\": \"tuna\", \"mode\": \"%s\", \"model\": \"%s\", \"prompt_tokens\": %lld, "
        "\"new_tokens\": %lld, "
        "\"threads\": %d, \"seconds_per_token\": %.6f, \"tokens_per_second\": %.2f, "
        "\"best_tokens_per_second\": %.2f, \"peak_rss_mb\": %.1f, \"ids_checksum\": %llu}\n",
        exact ? "exact" : "fast", model_path.c_str(), static_cast<long long>(P), static_cast<long long>(D),
        tuna::num_threads(), secs / static_cast<double>(D), static_cast<double>(D) / secs,
        static_cast<double>(D) / best, static_cast<double>(tuna::peak_rss_bytes()) / (1 << 20),
        checksum);
    return 0;
  } catch (const tuna::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.exit_status();
  }
}
