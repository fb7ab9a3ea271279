// The one decoder block (DESIGN.md §2.1): its forward and its hand-written backward side by side,
// serving training (activations kept, LoRA dropout), scoring (in-batch attention, one workspace
// reused from layer to layer) and KV-cached decoding (attention through a KvCache hook). Also the
// one place a family's wiring is derived from its spec, and the one adapter table. Not here: the
// LM head and loss (train_step.cpp, transformer.cpp) or the cache's storage (infer/kv_decoder).
// Dimension letters: B batch, T tokens, N = B·T, C hidden, H heads, K kv heads, D head dim,
// F ffn width, R LoRA rank.
#pragma once

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "model/forward_common.h"
#include "model/lora_adapter.h"
#include "model/weights.h"

namespace tuna {

// ---- a family's wiring --------------------------------------------------------------------------
// How a family's pieces are wired, read from its spec once: every block, embedding and norm
// decision reads this, never the family name or which weight tensors happen to be defined.
struct ModelWiring {
  NormType norm = NormType::RMS;  // every block norm and the final norm
  float norm_eps = 1e-6f;
  bool fused_qkv = false;  // one [3C, C] q | k | v linear (GPT-2's c_attn), else q, k, v
  bool qk_norm = false;    // RMSNorm over D on q and k before RoPE (Qwen3, Gemma 3)
  RmsNormKind qk_norm_kind = RmsNormKind::LLAMA;
  bool learned_positions = false;  // position embeddings added to x (GPT-2), else RoPE on q, k
  bool rope_interleaved = false;
  bool sandwich_norm = false;  // post-attention and post-MLP norms (Gemma 2/3)
  bool gated_mlp = true;       // down(act(gate) · up), else down(act(up)) (GPT-2)
  Activation activation = Activation::SILU;
  float embed_scale = 1.0f;        // embeddings · sqrt(C) for Gemma (rounded as the spec says)
  int32_t embed_padding_idx = -1;  // embedding row that gets no gradient (nn.Embedding padding_idx)
};
ModelWiring model_wiring(const ModelSpec& s);

// y = norm(x) with the family's norm (b: LayerNorm bias, else ignored). y may alias x.
void apply_norm(const ModelWiring& wr, const Tensor& x, const Tensor& w, const Tensor& b,
                Tensor& y);
// Backward of apply_norm: dx written (must not alias dy); dw/db += (nullptr: frozen).
void apply_norm_backward(const ModelWiring& wr, const Tensor& x, const Tensor& w, const Tensor& dy,
                         Tensor& dx, Tensor* dw, Tensor* db);

// ---- the adapter table --------------------------------------------------------------------------
constexpr size_t kLoraTargets = 8;  // LoraTarget values
// adapters[layer][target]: the LoRA adapter applied unmerged on that linear, or nullptr. The
// forward only reads an adapter; the backward adds into its grad_a / grad_b.
using LayerAdapters = std::vector<std::array<LoraAdapter*, kLoraTargets>>;
enum class AdapterUse {
  TRAIN,  // every adapter must fit a linear of a text block (user error otherwise); zero
          // grad_a / grad_b are allocated where undefined
  INFER,  // adapters outside the text blocks (layer −1: a vision tower) are skipped; no checks
};
// The table of `adapters` (nullptr: an empty table of L rows) for weights `w`.
LayerAdapters layer_adapter_table(const ModelSpec& s, const ModelWeights& w,
                                  std::vector<LoraAdapter>* adapters, AdapterUse use);

// The weight and bias slots of the linear `t` of a layer (LayerWeights, const or not): pointers
// to its {weight, bias} tensors.
template <typename L>
auto linear_slots(L& l, LoraTarget t) {
  using P = decltype(&l.q);
  switch (t) {
    case LoraTarget::Q:
      return std::pair<P, P>{&l.q, &l.q_bias};
    case LoraTarget::K:
      return std::pair<P, P>{&l.k, &l.k_bias};
    case LoraTarget::V:
      return std::pair<P, P>{&l.v, &l.v_bias};
    case LoraTarget::O:
      return std::pair<P, P>{&l.o, &l.o_bias};
    case LoraTarget::GATE:
      return std::pair<P, P>{&l.gate, &l.gate_bias};
    case LoraTarget::UP:
      return std::pair<P, P>{&l.up, &l.up_bias};
    case LoraTarget::DOWN:
      return std::pair<P, P>{&l.down, &l.down_bias};
    case LoraTarget::QKV:
      return std::pair<P, P>{&l.qkv, &l.qkv_bias};
  }
  return std::pair<P, P>{nullptr, nullptr};
}

// ---- the block ----------------------------------------------------------------------------------
// Decoding's attention hook: appends the keys/values of the n new tokens (the positions after
// those already cached) to the cache of `layer` and attends each new query to the cached
// positions it may see. q [n, H·D], k, v [n, K·D] (after q/k norm and RoPE) -> attn [n, H·D].
class KvCache {
 public:
  virtual ~KvCache() = default;
  virtual void attend(int64_t layer, const Tensor& q, const Tensor& k, const Tensor& v,
                      Tensor& attn) = 0;
};

// A block's activations. Training keeps one per layer for the backward (normed inputs and the
// MLP activation product are not kept: backward recomputes them; no [T×T] attention
// probabilities either). Inference passes one BlockActs to every layer as a workspace, so its
// buffers are allocated once per pass.
struct BlockActs {
  Tensor x_in;          // [N, C] block input (residual stream)
  Tensor q_pre, k_pre;  // [N, H·D], [N, K·D] projections before the q/k norm (qk_norm only)
  Tensor q, k, v;       // [N, H·D], [N, K·D], [N, K·D] attention inputs (normed, rotated)
  Tensor attn;          // [N, H·D] attention output = o-projection input
  Tensor o_out;         // [N, C] o-projection output (sandwich norm input; Gemma only)
  Tensor x_mid;         // [N, C] residual stream after the attention sub-block
  Tensor gate, up;      // [N, F] MLP projections (GPT-2: up = c_fc output, no gate)
  Tensor down_out;      // [N, C] down-projection output (sandwich norm input; Gemma only)
  std::array<Tensor, kLoraTargets> xa;  // [N, R] drop(x)·Aᵀ of each adapted linear
  // Scratch the backward does not read: a workspace keeps it, a kept block drops it.
  Tensor h;     // [N, C] normed sub-block input
  Tensor qkv;   // [N, 3C] fused projection (fused_qkv only)
  Tensor proj;  // [N, C] sub-block output before the residual add
  Tensor act;   // [N, F] down-projection input
};

// F32 values per token that one block keeps for its backward with c.keep: the BlockActs fields
// above that survive block_forward (x_in; q_pre, k_pre with a q/k norm; q, k, v; attn; o_out and
// down_out with sandwich norms; x_mid; gate and up, or up alone; xa of each adapted linear, their
// ranks summed in `adapted_rank_sum`). The one statement of those sizes: the training memory
// estimate (train/memory_estimate) counts activations with it.
int64_t block_kept_floats_per_token(const ModelSpec& s, const ModelWiring& wr,
                                    int64_t adapted_rank_sum);

// The activations a training step keeps, in F32 values per token: the embeddings (layer 0's
// input) and, over the blocks, either everything each block keeps (Σ block_kept_floats_per_token)
// or — with gradient checkpointing, and in evaluation — every block's output plus one block's
// worth being computed (or recomputed inside the backward). One plan sizes the step's
// ActivationWorkspace (train_step.cpp) and the training memory estimate (train/memory_estimate).
struct ActivationPlan {
  int64_t embed_floats = 0;  // per token
  int64_t block_floats = 0;  // per token
  // Most pieces carved at once: the embeddings, then per block at most its 16 BlockActs fields
  // and the xa of its 8 possible adapters (ActivationWorkspace pads each to 64 bytes).
  int64_t carves = 0;
  int64_t total_floats() const { return embed_floats + block_floats; }
};
// rank_sums[l]: the LoRA ranks of layer l's adapted linears, summed (size L).
ActivationPlan step_activation_plan(const ModelSpec& s, const ModelWiring& wr,
                                    const std::vector<int64_t>& rank_sums, bool checkpointing);

// The one F32 buffer a step's kept activations are carved from, in order (block_forward with
// c.keep); mark/rewind let a checkpointed step reuse one block's region. Its owner keeps it
// across steps, so it is allocated once (growing only when a step needs more). Each carve starts
// on a 64-byte boundary, like a fresh tensor.
class ActivationWorkspace {
 public:
  static constexpr int64_t kAlignFloats = 16;
  // Room for a plan of `floats` values carved in at most `carves` pieces; forgets every carve.
  void reserve(int64_t floats, int64_t carves);
  Tensor take(int64_t rows, int64_t cols);  // [rows, cols] F32; internal error when exhausted
  int64_t mark() const { return used_; }
  // Where a carve of `floats` values made at `mark` ends.
  static int64_t end_of_carve(int64_t mark, int64_t floats) { return align(mark) + floats; }
  void rewind(int64_t mark) { used_ = mark; }
  int64_t capacity() const { return buffer_.defined() ? buffer_.numel() : 0; }
  int64_t high_water() const { return high_water_; }  // most floats in use since reserve()

 private:
  static int64_t align(int64_t i) { return (i + kAlignFloats - 1) / kAlignFloats * kAlignFloats; }
  Tensor buffer_;  // [capacity] F32
  int64_t used_ = 0, high_water_ = 0;
};

// What a caller wants from the block besides its activations: the geometry, how attention is
// done (in-batch with key mask and packed-sample starts, or against a KV cache), whether
// activations are kept for the backward, dropout, weights, gradients and adapters.
// Batched decoding with an adapter choice per sequence: rows [begin, end) of the pass take the
// adapters of `table` (nullptr: the base model alone). Inference only.
struct RowAdapters {
  int64_t begin = 0, end = 0;
  const LayerAdapters* table = nullptr;
};

struct BlockContext {
  const ModelSpec* spec = nullptr;
  ModelWiring wiring;
  const ModelWeights* weights = nullptr;
  ModelWeights* grads = nullptr;            // nullable; defined slots are trainable
  const LayerAdapters* adapters = nullptr;  // nullable: no adapters
  // Set (inference only): each row group's own adapters, applied after one base pass for all
  // rows; `adapters` is then unused.
  const std::vector<RowAdapters>* row_adapters = nullptr;
  int64_t B = 0, T = 0, N = 0;              // decoding: B = 1, T = N = new tokens
  Tensor key_valid;                         // [B, T] I32 or undefined
  Tensor segment_start;  // [B, T] I32: first token of each token's sample (packed), or undefined
  KvCache* cache = nullptr;  // set: attention against this cache instead of within the batch
  // With keep: the kept activations are carved from it (else each is a fresh tensor).
  ActivationWorkspace* workspace = nullptr;
  RopeSet rope;
  // true: every activation is a fresh tensor kept for the backward; false: `acts` is a workspace
  // whose buffers are reused when their shape fits.
  bool keep = true;
  bool dropout = false;  // LoRA dropout (training only)
  uint64_t seed = 0, step = 0, micro = 0;
};

// x_out [N, C] = block(acts.x_in); fills acts. x_out may be acts.x_in when !c.keep (updated in
// place); with c.keep it is a fresh tensor.
void block_forward(const BlockContext& c, int64_t layer, BlockActs& acts, Tensor& x_out);

// d_in [N, C] (written) = ∂loss/∂x_in from d_out [N, C] = ∂loss/∂x_out; adds weight and
// adapter gradients. acts: as a kept block_forward left them.
void block_backward(const BlockContext& c, int64_t layer, const BlockActs& acts,
                    const Tensor& d_out, Tensor& d_in);

// ---- the stack around it ------------------------------------------------------------------------
// x [N, C] = embeddings of ids (· sqrt(C) for Gemma) + learned positions (GPT-2) at `positions`.
void embed_forward(const ModelWiring& wr, const ModelWeights& w, const std::vector<int32_t>& ids,
                   const std::vector<int32_t>& positions, Tensor& x);

// The inference stack (scoring and decoding): embeddings, every block with one reused workspace
// (c.keep must be false), final norm -> hidden [N, C] F32. c.rope must cover `positions` ([N]).
Tensor stack_hidden(const BlockContext& c, const std::vector<int32_t>& ids,
                    const std::vector<int32_t>& positions);

}  // namespace tuna
