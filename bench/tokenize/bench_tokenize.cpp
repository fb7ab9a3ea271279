// Encode throughput of tuna's tokenizer: reads a UTF-8 corpus (one text per line), encodes every
// line (add_special_tokens=False) with 1 thread and with all threads (lines split across OpenMP
// threads), and prints one JSON line with MB/s. bench/tokenize/run.sh pairs it with HF tokenizers.
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/threads.h"
#include "tokenizer/tokenizer.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: bench_tokenize TOKENIZER_JSON CORPUS_TXT [TOKENIZER_CONFIG_JSON]\n");
    return 2;
  }
  try {
    tuna::Tokenizer tok = tuna::Tokenizer::from_files(argv[1], argc > 3 ? argv[3] : "");
    std::ifstream in(argv[2]);
    std::vector<std::string> lines;
    size_t bytes = 0;
    for (std::string line; std::getline(in, line);) {
      bytes += line.size() + 1;
      lines.push_back(std::move(line));
    }
    auto run = [&](int threads) {
      size_t n_ids = 0;
      auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel for num_threads(threads) schedule(dynamic, 64) reduction(+ : n_ids)
      for (size_t i = 0; i < lines.size(); ++i) n_ids += tok.encode(lines[i], false).size();
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      return std::make_pair(secs, n_ids);
    };
    run(1);  // warm-up: fills the merge cache as a long-running process would have
    auto [s1, ids1] = run(1);
    const int all = tuna::num_threads();
    auto [sn, idsn] = run(all);
    std::printf(
        "{\"impl\": \"tuna\", \"corpus_mb\": %.2f, \"lines\": %zu, \"tokens\": %zu, "
        "\"threads_all\": %d, "
        "\"mb_per_s_1_thread\": %.2f, \"mb_per_s_all_threads\": %.2f}\n",
        static_cast<double>(bytes) / 1e6, lines.size(), ids1, all,
        static_cast<double>(bytes) / 1e6 / s1, static_cast<double>(bytes) / 1e6 / sn);
    (void)idsn;
    return 0;
  } catch (const tuna::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.exit_status();
  }
}
