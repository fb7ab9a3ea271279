// Gemma 2 / Gemma 3 checkpoint names. Gemma blocks add sandwich norms (post_attention and
// pre/post_feedforward); Gemma 3 adds q/k norms. Multimodal Gemma 3 checkpoints keep the text
// model under a prefix: "language_model.model." (original Hub layout) or
// "model.language_model." (transformers ≥ 4.52 save layout); both are probed.
#include "model/weights.h"

namespace tuna {

WeightNames gemma_weight_names(const ModelSpec& spec,
                               const std::function<bool(const std::string&)>& has) {
  std::string model = "model.";
  std::string head = "lm_head.weight";
  if (!spec.weight_prefix.empty()) {
    for (const char* p : {"language_model.model.", "model.language_model.", "model."}) {
      if (has(std::string(p) + "embed_tokens.weight")) {
        model = p;
        break;
      }
    }
    if (has("language_model.lm_head.weight")) head = "language_model.lm_head.weight";
  }
  WeightNames n;
  n.embed = model + "embed_tokens.weight";
  n.final_norm = model + "norm.weight";
  n.lm_head = head;
  const std::string l = model + "layers.{}.";
  n.attn_norm = l + "input_layernorm.weight";
  n.q = l + "self_attn.q_proj.weight";
  n.k = l + "self_attn.k_proj.weight";
  n.v = l + "self_attn.v_proj.weight";
  n.o = l + "self_attn.o_proj.weight";
  if (spec.qk_norm) {
    n.q_norm = l + "self_attn.q_norm.weight";
    n.k_norm = l + "self_attn.k_norm.weight";
  }
  n.post_attn_norm = l + "post_attention_layernorm.weight";
  n.ffn_norm = l + "pre_feedforward_layernorm.weight";
  n.post_ffn_norm = l + "post_feedforward_layernorm.weight";
  n.gate = l + "mlp.gate_proj.weight";
  n.up = l + "mlp.up_proj.weight";
  n.down = l + "mlp.down_proj.weight";
  return n;
}

}  // namespace tuna
