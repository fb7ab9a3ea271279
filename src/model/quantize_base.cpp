// load_in_4bit over ModelWeights. See quantize_base.h.
#include "model/quantize_base.h"

#include "core/error.h"

namespace tuna {

namespace {

bool skipped(const std::string& path, const std::string& name,
             const std::vector<std::string>& skip) {
  for (const std::string& key : skip)  // transformers' _replace_with_bnb_linear
    if (key == name || key == path || path.find(key + ".") != std::string::npos) return true;
  return false;
}

}  // namespace

QuantizedBase quantize_base_4bit(ModelWeights& w, const Bnb4bitConfig& config) {
  if (w.linear_transposed) {
    throw_user_error("quantization", "load_in_4bit is not supported for GPT-2 (Conv1D) models yet",
                     "load the model without load_in_4bit");
  }
  struct Target {
    Tensor* weight;
    std::string path;
  };
  std::vector<Target> targets;
  auto add = [&](Tensor& t, const std::string& path, const std::string& name) {
    if (t.defined() && !skipped(path, name, config.skip_modules)) targets.push_back({&t, path});
  };
  for (size_t i = 0; i < w.layers.size(); ++i) {
    LayerWeights& l = w.layers[i];
    const std::string attn = "model.layers." + std::to_string(i) + ".self_attn.";
    const std::string mlp = "model.layers." + std::to_string(i) + ".mlp.";
    add(l.q, attn + "q_proj", "q_proj");
    add(l.k, attn + "k_proj", "k_proj");
    add(l.v, attn + "v_proj", "v_proj");
    add(l.o, attn + "o_proj", "o_proj");
    add(l.gate, mlp + "gate_proj", "gate_proj");
    add(l.up, mlp + "up_proj", "up_proj");
    add(l.down, mlp + "down_proj", "down_proj");
  }
  // A tied LM head is the embedding (nn.Embedding, never converted).
  if (w.lm_head.raw() != w.embed.raw()) add(w.lm_head, "lm_head", "lm_head");
  for (const Target& t : targets) {  // check everything before changing anything
    if (dtype_is_block(t.weight->dtype())) {
      throw_user_error("quantization",
                       "load_in_4bit needs float weights, but '" + t.path + "' is stored as " +
                           dtype_name(t.weight->dtype()),
                       "a GGUF model is already quantized: drop load_in_4bit, or use the Hugging "
                       "Face (safetensors) model");
    }
  }
  QuantizedBase report;
  for (const Target& t : targets) {
    *t.weight = quantize_weight_4bit(*t.weight, config.params);
    report.tensors += 1;
    report.parameters += t.weight->numel();
    report.packed_bytes += static_cast<int64_t>(t.weight->nbytes());
    report.stats_bytes += static_cast<int64_t>(t.weight->quant_state()->nbytes());
  }
  return report;
}

}  // namespace tuna
