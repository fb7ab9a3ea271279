// Llama-family checkpoint names: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM,
// Qwen3ForCausalLM (model.layers.N.self_attn.*, mlp.{gate,up,down}_proj) and EXAONE 3.0, a
// Llama with GPT-style names (transformer.h.N.attn.attention.*, mlp.c_fc_0 = gate,
// c_fc_1 = up, c_proj = down). Wiring is the shared pre-norm block in transformer.cpp.
#include "model/weights.h"

namespace tuna {

WeightNames llama_weight_names(const ModelSpec& spec,
                               const std::function<bool(const std::string&)>&) {
  WeightNames n;
  if (spec.family == Family::EXAONE) {
    n.embed = "transformer.wte.weight";
    n.final_norm = "transformer.ln_f.weight";
    n.lm_head = "lm_head.weight";
    const std::string l = "transformer.h.{}.";
    n.attn_norm = l + "ln_1.weight";
    n.q = l + "attn.attention.q_proj.weight";
    n.k = l + "attn.attention.k_proj.weight";
    n.v = l + "attn.attention.v_proj.weight";
    n.o = l + "attn.attention.out_proj.weight";
    n.ffn_norm = l + "ln_2.weight";
    n.gate = l + "mlp.c_fc_0.weight";
    n.up = l + "mlp.c_fc_1.weight";
    n.down = l + "mlp.c_proj.weight";
    return n;
  }
  n.embed = "model.embed_tokens.weight";
  n.final_norm = "model.norm.weight";
  n.lm_head = "lm_head.weight";
  const std::string l = "model.layers.{}.";
  n.attn_norm = l + "input_layernorm.weight";
  n.q = l + "self_attn.q_proj.weight";
  n.k = l + "self_attn.k_proj.weight";
  n.v = l + "self_attn.v_proj.weight";
  n.o = l + "self_attn.o_proj.weight";
  if (spec.qk_norm) {
    n.q_norm = l + "self_attn.q_norm.weight";
    n.k_norm = l + "self_attn.k_norm.weight";
  }
  n.ffn_norm = l + "post_attention_layernorm.weight";
  n.gate = l + "mlp.gate_proj.weight";
  n.up = l + "mlp.up_proj.weight";
  n.down = l + "mlp.down_proj.weight";
  return n;
}

}  // namespace tuna
