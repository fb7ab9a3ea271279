// The weights of a loaded model, bound to the engine's slots: one LayerWeights per block, plus
// embeddings, final norm and LM head. Tensors are zero-copy views into the mmap-ed checkpoint
// in their stored dtype. Each family's file (llama.cpp, gemma.cpp, gpt2.cpp) says how its
// checkpoint names map to these slots; bind_weights() checks every shape against the spec.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/model_spec.h"

namespace tuna {

struct LayerWeights {
  Tensor attn_norm, attn_norm_bias;  // input_layernorm / ln_1                      [C]
  Tensor q, k, v, o;                 // [H·D, C] [K·D, C] [K·D, C] [C, H·D] (nn.Linear layout)
  Tensor q_bias, k_bias, v_bias, o_bias;
  Tensor qkv, qkv_bias;            // GPT-2 fused c_attn, Conv1D layout [C, 3C]
  Tensor q_norm, k_norm;           // [D]
  Tensor post_attn_norm;           // Gemma sandwich norm                         [C]
  Tensor ffn_norm, ffn_norm_bias;  // post_attention_layernorm / pre_feedforward / ln_2 [C]
  Tensor post_ffn_norm;            // Gemma                                        [C]
  Tensor gate, up, down;  // [F, C] [F, C] [C, F]  (GPT-2: up = c_fc [C, F], down = c_proj [F, C])
  Tensor gate_bias, up_bias, down_bias;
};

struct ModelWeights {
  Tensor embed;                        // [V, C]
  Tensor pos_embed;                    // GPT-2 [P, C]
  Tensor final_norm, final_norm_bias;  // [C]
  Tensor lm_head;                      // [V, C]; the embedding itself when tied
  bool linear_transposed = false;      // GPT-2 Conv1D weights are [in, out]
  std::vector<LayerWeights> layers;
  std::vector<std::string> names;  // every checkpoint tensor bound (for counts and info)
};

// Looks a tensor up by checkpoint name; returns an undefined Tensor when absent.
using TensorSource = std::function<Tensor(const std::string& name)>;

// Checkpoint names of one family (per-layer names contain "{}" for the layer index).
struct WeightNames {
  std::string embed, pos_embed, final_norm, lm_head;
  std::string attn_norm, q, k, v, o, qkv, q_norm, k_norm, post_attn_norm, ffn_norm, post_ffn_norm;
  std::string gate, up, down;
  bool linear_transposed = false;
};

// Family name tables. `has` tells whether a name exists in the checkpoint (for prefix probing).
WeightNames llama_weight_names(const ModelSpec& spec,
                               const std::function<bool(const std::string&)>& has);
WeightNames gemma_weight_names(const ModelSpec& spec,
                               const std::function<bool(const std::string&)>& has);
WeightNames gguf_weight_names(const ModelSpec& spec);
// The Hugging Face checkpoint names of the spec's family (the one of the four above that
// transformers' class uses; `has` probes prefixes of multimodal checkpoints).
WeightNames hf_weight_names(const ModelSpec& spec,
                            const std::function<bool(const std::string&)>& has);
WeightNames gpt2_weight_names(const ModelSpec& spec,
                              const std::function<bool(const std::string&)>& has);

// Binds and shape-checks every slot the spec needs. `where` names the checkpoint in errors.
ModelWeights bind_weights(const ModelSpec& spec, const WeightNames& names, const TensorSource& get,
                          const std::string& where);

}  // namespace tuna
