// How far the decoding fast path (8-bit activations, ops/quant_dot.h) strays from the exact F32
// path, as generation uses them: per prompt (one per line of PROMPTS), the exact path's greedy
// continuation of `new` tokens, then (a) the fast path's own greedy continuation — the tokens it
// shares with the exact one before the first difference — and (b) the fast path fed the exact
// continuation (teacher forcing) — |Δ log-prob| of each exact token against the exact path's.
// Prefill is exact on both (as in tuna generate). Prints a JSON summary; writes OUT.json with
// each prompt's ids, the exact continuation and its log-probs, which
// bench/decode/deviation_peer.py feeds to llama.cpp for the same figures.
//   usage: bench_deviation MODEL PROMPTS.txt OUT.json [new=64] [threads=0]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/model_handle.h"
#include "core/error.h"
#include "core/threads.h"
#include "infer/kv_decoder.h"
#include "ops/quant_dot.h"

namespace {

// log p(id) under logits (F64 log-softmax).
double log_prob(const std::vector<float>& logits, int32_t id) {
  const double mx = *std::max_element(logits.begin(), logits.end());
  double sum = 0.0;
  for (float v : logits) sum += std::exp(static_cast<double>(v) - mx);
  return static_cast<double>(logits[static_cast<size_t>(id)]) - mx - std::log(sum);
}

int32_t argmax(const std::vector<float>& logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

// Greedy continuation of `prompt` (prefill exact, steps fast or exact); with `forced`, feeds those
// ids instead of its own choices and returns their log-probs in *lp.
std::vector<int32_t> decode(const tuna::Model& model, const std::vector<int32_t>& prompt,
                            int64_t n, bool fast, const std::vector<int32_t>* forced,
                            std::vector<double>* lp) {
  tuna::KvDecoder dec(model);
  std::vector<float> logits = dec.next_logits(prompt);
  std::vector<int32_t> out;
  for (int64_t s = 0; s < n; ++s) {
    const int32_t id = forced ? (*forced)[static_cast<size_t>(s)] : argmax(logits);
    if (lp) lp->push_back(log_prob(logits, id));
    out.push_back(id);
    if (s + 1 < n) {
      const tuna::Int8ActivationScope scope(fast);
      logits = dec.next_logits({id});
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: bench_deviation MODEL PROMPTS.txt OUT.json [new=64] [threads=0]\n");
    return 2;
  }
  try {
    const int64_t n = argc > 4 ? std::atoll(argv[4]) : 64;
    tuna::set_num_threads(argc > 5 ? std::atoi(argv[5]) : 0);
    const auto handle = tuna::ModelHandle::load(argv[1]);
    std::ifstream in(argv[2]);
    if (!in) throw tuna::Error(tuna::ErrorKind::USER, "bench_deviation",
                               std::string("cannot read ") + argv[2], "pass a prompts file");
    nlohmann::json records = nlohmann::json::array();
    double max_d = 0.0, sum_d = 0.0, agree_frac = 0.0;
    int64_t count = 0, full = 0, prompts = 0;
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      const std::vector<int32_t> prompt = handle->tokenizer().encode(line);
      std::vector<double> lp_exact, lp_fast;
      const std::vector<int32_t> exact = decode(handle->model(), prompt, n, false, nullptr, &lp_exact);
      const std::vector<int32_t> own = decode(handle->model(), prompt, n, true, nullptr, nullptr);
      decode(handle->model(), prompt, n, true, &exact, &lp_fast);
      int64_t same = 0;
      while (same < n && own[static_cast<size_t>(same)] == exact[static_cast<size_t>(same)]) ++same;
      for (int64_t s = 0; s < n; ++s) {
        const double d = std::fabs(lp_fast[static_cast<size_t>(s)] - lp_exact[static_cast<size_t>(s)]);
        max_d = std::max(max_d, d);
        sum_d += d;
        ++count;
      }
      agree_frac += static_cast<double>(same) / static_cast<double>(n);
      full += same == n;
      ++prompts;
      records.push_back({{"prompt", line}, {"prompt_ids", prompt}, {"exact_ids", exact},
                         {"exact_logprobs", lp_exact}, {"fast_ids", own},
                         {"fast_agree_prefix", same}});
      std::fprintf(stderr, "prompt %lld: fast path agrees for %lld of %lld tokens\n",
                   static_cast<long long>(prompts), static_cast<long long>(same),
                   static_cast<long long>(n));
    }
    std::ofstream(argv[3]) << records.dump() << "\n";
    std::printf(
        "{\"impl\": \"tuna fast path vs tuna exact\", \"prompts\": %lld, \"new_tokens\": %lld, "
        "\"greedy_agree_prefix_mean\": %.4f, \"greedy_identical_prompts\": %lld, "
        "\"max_abs_dlogprob\": %.4f, \"mean_abs_dlogprob\": %.5f, \"kernels\": \"%s\"}\n",
        static_cast<long long>(prompts), static_cast<long long>(n),
        agree_frac / static_cast<double>(std::max<int64_t>(1, prompts)),
        static_cast<long long>(full), max_d, sum_d / static_cast<double>(std::max<int64_t>(1, count)),
        tuna::quant_dot_isa_name(tuna::quant_dot_isa()));
    return 0;
  } catch (const tuna::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.exit_status();
  }
}
