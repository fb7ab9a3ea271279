// Scoring: the whole-model inference forward over a right-padded batch — embeddings → L blocks
// (model/block.h, in-batch attention, one reused workspace) → final norm → LM head (+ final
// soft-capping). Computes in F32; weights stay in their stored dtype. The decoding driver is
// infer/kv_decoder.cpp, the training one train_step.cpp. Dimension letters: B batch, T tokens,
// N = B·T, C hidden, V vocab.
#include "core/error.h"
#include "model/block.h"
#include "model/model.h"
#include "ops/activation.h"
#include "ops/linear.h"

namespace tuna {

Tensor Model::forward_hidden(const Batch& batch) const {
  validate_batch(spec_, batch);
  const std::vector<int32_t> positions = batch_positions(batch);
  BlockContext c;
  c.spec = &spec_;
  c.wiring = model_wiring(spec_);
  c.weights = &weights_;
  c.B = batch.B;
  c.T = batch.T;
  c.N = batch.B * batch.T;
  c.key_valid = key_valid_mask(batch);
  c.rope = build_rope(spec_, positions);
  c.keep = false;  // one workspace for every layer
  return stack_hidden(c, batch.ids, positions);
}

Tensor head_logits(const ModelSpec& s, const ModelWeights& w, const Tensor& hidden) {
  Tensor logits = Tensor::empty({hidden.dim(0), s.vocab}, DType::F32);
  // The LM head is an nn.Linear [V, C] (GPT-2's too): never transposed.
  linear_forward(hidden, w.lm_head, Tensor(), logits, false);
  if (s.final_softcap > 0.0f) softcap_forward(logits, s.final_softcap);
  return logits;
}

Tensor Model::logits_rows(const Tensor& hidden, int64_t r0, int64_t r1) const {
  TUNA_ASSERT(hidden.ndim() == 2 && hidden.dim(1) == spec_.hidden && 0 <= r0 && r0 <= r1 &&
                  r1 <= hidden.dim(0),
              "logits_rows range");
  return head_logits(spec_, weights_, hidden.slice0(r0, r1));
}

Tensor Model::forward(const Batch& batch) const {
  Tensor hidden = forward_hidden(batch);
  return logits_rows(hidden, 0, hidden.dim(0)).reshape({batch.B, batch.T, spec_.vocab});
}

}  // namespace tuna
