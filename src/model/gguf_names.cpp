// GGUF tensor names (llama.cpp's converter): token_embd, output_norm, output (absent when tied),
// blk.N.{attn_norm, attn_q, attn_k, attn_v, attn_output, attn_q_norm, attn_k_norm,
// post_attention_norm, ffn_norm, ffn_gate, ffn_up, ffn_down, post_ffw_norm}. Shared by every
// GGUF architecture tuna loads; shapes are [out, in] like HF's, so bind_weights checks them as is.
#include "model/weights.h"

namespace tuna {

WeightNames gguf_weight_names(const ModelSpec& spec) {
  WeightNames n;
  n.embed = "token_embd.weight";
  n.final_norm = "output_norm.weight";
  n.lm_head = "output.weight";
  const std::string l = "blk.{}.";
  n.attn_norm = l + "attn_norm.weight";
  n.q = l + "attn_q.weight";
  n.k = l + "attn_k.weight";
  n.v = l + "attn_v.weight";
  n.o = l + "attn_output.weight";
  if (spec.qk_norm) {
    n.q_norm = l + "attn_q_norm.weight";
    n.k_norm = l + "attn_k_norm.weight";
  }
  n.ffn_norm = l + "ffn_norm.weight";
  if (spec.sandwich_norm) {
    n.post_attn_norm = l + "post_attention_norm.weight";
    n.post_ffn_norm = l + "post_ffw_norm.weight";
  }
  n.gate = l + "ffn_gate.weight";
  n.up = l + "ffn_up.weight";
  n.down = l + "ffn_down.weight";
  return n;
}

}  // namespace tuna
