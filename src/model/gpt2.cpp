// GPT-2 checkpoint names: wte, wpe, h.N.{ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc,
// mlp.c_proj}, ln_f, with or without the "transformer." prefix (Hub files lack it; newer
// save_pretrained writes it). Conv1D weights are [in, out]: linear_transposed.
#include "model/weights.h"

namespace tuna {

WeightNames gpt2_weight_names(const ModelSpec&,
                              const std::function<bool(const std::string&)>& has) {
  const std::string p = has("transformer.wte.weight") ? "transformer." : "";
  WeightNames n;
  n.embed = p + "wte.weight";
  n.pos_embed = p + "wpe.weight";
  n.final_norm = p + "ln_f.weight";
  n.lm_head = "lm_head.weight";
  const std::string l = p + "h.{}.";
  n.attn_norm = l + "ln_1.weight";
  n.qkv = l + "attn.c_attn.weight";
  n.o = l + "attn.c_proj.weight";
  n.ffn_norm = l + "ln_2.weight";
  n.up = l + "mlp.c_fc.weight";
  n.down = l + "mlp.c_proj.weight";
  n.linear_transposed = true;
  return n;
}

}  // namespace tuna
