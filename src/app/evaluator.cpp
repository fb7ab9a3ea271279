// Evaluation loss over tokenised rows (see evaluator.h).
#include "app/evaluator.h"

#include <algorithm>

#include "model/block.h"
#include "model/model.h"
#include "model/train_step.h"
#include "train/trainer.h"

namespace tuna {

EvalResult evaluate_loss(const Model& model, const ModelWeights& weights,
                         std::vector<LoraAdapter>* adapters, const std::vector<TrainRow>& rows,
                         size_t batch_size, int32_t pad_id) {
  double loss = 0;
  int64_t counted = 0, correct = 0;
  ActivationWorkspace workspace;  // allocated once for every batch
  for (size_t i = 0; i < rows.size(); i += batch_size) {
    MicroBatch mb = collate(rows, i, std::min(batch_size, rows.size() - i), pad_id);
    StepOptions o;
    o.backward = false;
    o.workspace = &workspace;
    StepResult r = forward_backward(model, weights, adapters, nullptr, to_train_batch(mb), o);
    loss += r.loss_sum;
    counted += r.n_counted;
    correct += r.n_correct;
  }
  EvalResult e;
  e.loss = counted ? loss / counted : 0.0;
  e.mean_token_accuracy = counted ? static_cast<double>(correct) / counted : 0.0;
  e.tokens = counted;
  return e;
}

}  // namespace tuna
