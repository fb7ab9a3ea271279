// The internal model spec: everything the engine needs to know about an architecture's shape
// and numerics, independent of where the weights came from (HF config.json now, GGUF
// metadata in the GGUF issue). One spec drives loading, forward, `tuna info` and later training.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ops/activation.h"
#include "ops/rope.h"

namespace tuna {

enum class Family { LLAMA, MISTRAL, QWEN2, QWEN3, GEMMA2, GEMMA3, GPT2, EXAONE };
const char* family_name(Family f);

enum class NormType { RMS, RMS_GEMMA, LAYER };  // RMS_GEMMA: (1 + w) · x̂

struct LayerSpec {
  bool sliding = false;  // sliding-window attention (else global/full)
  int64_t window = 0;    // window size when sliding
  RopeConfig rope;       // per layer: Gemma 3 local and global layers use different bases
};

struct ModelSpec {
  std::string architecture;  // HF class name, e.g. "Gemma3ForCausalLM"
  std::string model_type;    // config's model_type
  Family family = Family::LLAMA;
  std::string source;  // the config file it was read from

  int64_t n_layers = 0, hidden = 0, n_heads = 0, n_kv_heads = 0, head_dim = 0, ffn = 0;
  int64_t vocab = 0, max_positions = 0;
  float norm_eps = 1e-6f;
  NormType norm = NormType::RMS;
  Activation activation = Activation::SILU;
  bool gated_mlp = true;  // false: GPT-2's fc → act → proj
  bool qkv_bias = false, o_bias = false, mlp_bias = false;
  bool qk_norm = false;            // Qwen3 / Gemma 3: RMSNorm over head_dim on q and k before RoPE
  bool sandwich_norm = false;      // Gemma 2/3: post-attention and pre/post-feedforward norms
  bool learned_positions = false;  // GPT-2
  bool rope_interleaved = false;   // rotate adjacent pairs (llama.cpp's permuted llama q/k rows)
  bool tied_embeddings = false;
  float attn_scale = 1.0f;        // multiplies Q·Kᵀ
  float attn_softcap = 0.0f;      // 0: none (Gemma 2: 50)
  float final_softcap = 0.0f;     // 0: none (Gemma 2: 30)
  bool scale_embeddings = false;  // Gemma: embeddings · sqrt(hidden) in the weight dtype
  std::string weight_prefix;      // prefix before the text model's names (multimodal checkpoints)
  std::string torch_dtype;        // the checkpoint's declared dtype ("bfloat16", ...), informative
  // The config's non-zero dropout probabilities inside the base model ("resid_pdrop 0.1, ...");
  // tuna's training applies none of them (only LoRA's own dropout). Empty when there are none.
  std::string base_dropout;
  std::vector<LayerSpec> layers;

  std::vector<int64_t> eos_ids;
  int64_t bos_id = -1, pad_id = -1;
};

// Gemma's embedding scale sqrt(hidden), rounded to `dtype` (F32 compute keeps it exact in F32).
float embedding_scale(const ModelSpec& spec, DType compute_dtype);

}  // namespace tuna
