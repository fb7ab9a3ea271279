// The weights of a loaded model, bound to the engine's slots: one LayerWeights per block, plus
// embeddings, final norm and LM head. Tensors are zero-copy views into the mmap-ed checkpoint
// in their stored dtype. Each family's table (model/families/) says how its checkpoint names map
// to these slots; bind_weights() checks every shape against the spec.
#pragma once

#include <functional>
#include <map>
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

// Checkpoint name templates of one model, by engine slot ("q" → "model.layers.{}.self_attn.
// q_proj.weight"; "{}" is the layer index), derived from its family's table
// (families/registry.h hf_weight_names / gguf_weight_names). Bias slots are their weight's name
// with ".bias".
struct WeightNames {
  std::map<std::string, std::string> by_slot;
  bool linear_transposed = false;
  // The template of `slot`; empty when the family has no such slot.
  const std::string& at(const std::string& slot) const;
};

// Binds and shape-checks every slot the spec needs. `where` names the checkpoint in errors.
ModelWeights bind_weights(const ModelSpec& spec, const WeightNames& names, const TensorSource& get,
                          const std::string& where);

}  // namespace tuna
