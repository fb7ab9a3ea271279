// The JSON form of training events (see training_events.h).
#include "app/training_events.h"

namespace tuna {

nlohmann::ordered_json to_json(const StepMetrics& m) {
  return nlohmann::ordered_json{{"loss", m.loss},
                                {"grad_norm", m.grad_norm},
                                {"learning_rate", m.learning_rate},
                                {"mean_token_accuracy", m.mean_token_accuracy},
                                {"num_tokens", m.num_tokens},
                                {"epoch", m.epoch},
                                {"step", m.step}};
}

nlohmann::ordered_json to_json(const EvalMetrics& m) {
  return nlohmann::ordered_json{{"eval_loss", m.loss},
                                {"eval_mean_token_accuracy", m.mean_token_accuracy},
                                {"epoch", m.epoch},
                                {"step", m.step}};
}

}  // namespace tuna
