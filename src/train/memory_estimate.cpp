// Training memory estimate (see memory_estimate.h). The activations are what model/block.h
// block_kept_floats_per_token says a kept block holds; bench/train_step measures the real peak
// (docs/training.md "Memory").
#include "train/memory_estimate.h"

#include <cstdio>
#include <fstream>
#include <string>

#include "core/threads.h"
#include "model/block.h"
#include "model/model.h"
#include "ops/cross_entropy.h"
#include "ops/gemm_bf16.h"
#include "train/param_buffer.h"

namespace tuna {

int64_t activation_bytes_per_token_layer(const ModelSpec& s, int64_t adapted_rank_sum) {
  return block_kept_floats_per_token(s, model_wiring(s), adapted_rank_sum) * 4;
}

MemoryEstimate estimate_training_memory(const Model& model,
                                        const std::vector<LoraAdapter>& adapters, int64_t tokens,
                                        bool checkpointing, double opt_bytes,
                                        int64_t base_trainable, bool head_trained) {
  const ModelSpec& s = model.spec();
  MemoryEstimate e;
  e.weights = model.weight_bytes();
  int64_t params = 0;
  std::vector<int64_t> rank_sum(static_cast<size_t>(s.n_layers), 0);
  for (const LoraAdapter& a : adapters) {
    params += a.a.numel() + a.b.numel();
    if (a.layer >= 0 && a.layer < s.n_layers) rank_sum[static_cast<size_t>(a.layer)] += a.r;
  }
  params += base_trainable;
  // The flat value and gradient buffers as ParamBuffer allocates them, plus the optimizer state.
  e.trainable = param_buffer_bytes(params).total() +
                static_cast<int64_t>(static_cast<double>(params) * opt_bytes);
  // The kept activations as the step's plan sizes its workspace (model/block.h); the embeddings
  // (layer 0's input) are counted with the hidden states below.
  const ActivationPlan plan = step_activation_plan(s, model_wiring(s), rank_sum, checkpointing);
  e.activations = plan.block_floats * 4 * tokens;
  // Hidden states and their gradient, the block's backward temporaries (≈ 2 × the widest
  // activation), and the LM head + loss's scratch as the op sizes it (≈ 30 MiB frozen, ≈ 260 MiB
  // trained for Gemma's 262,144 × 640 head). Plus ≈ 96 MiB of process baseline (code, OpenBLAS
  // buffers, tokenizer) measured with bench_train_step, and what the BF16 GEMM packs when the run
  // computes in BF16: the calling thread's scratch plus each thread's own for attention's nested
  // products (≈ 13 MiB on 2 threads; counted always: it is small).
  e.scratch = tokens * 4 * (3 * s.hidden + 2 * std::max(s.ffn, s.n_heads * s.head_dim)) +
              lm_head_loss_scratch_bytes(tokens, s.vocab, s.hidden, head_trained) + (96 << 20) +
              bf16_gemm_scratch_bytes(num_threads()) + num_threads() * bf16_gemm_scratch_bytes(1);
  return e;
}

std::string MemoryEstimate::describe() const {
  auto mib = [](int64_t b) {
    char buf[32];
    if (b >= (int64_t{1} << 30))
      std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(b) / (1 << 30));
    else
      std::snprintf(buf, sizeof buf, "%.0f MiB", static_cast<double>(b) / (1 << 20));
    return std::string(buf);
  };
  return mib(total()) + " (base weights " + mib(weights) + ", trainable + optimizer " +
         mib(trainable) + ", activations " + mib(activations) + ", scratch " + mib(scratch) + ")";
}

int64_t available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t kb;
  std::string unit;
  while (in >> key >> kb >> unit)
    if (key == "MemAvailable:") return kb * 1024;
  return -1;
}

}  // namespace tuna
