// The trainable parameters of a `tuna train` run. See trainable_set.h.
#include "train/trainable_set.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <utility>

#include "core/error.h"
#include "core/message.h"
#include "export/save_hf_model.h"
#include "io/gguf.h"
#include "lora/adapter_io.h"
#include "lora/config.h"
#include "model/model.h"
#include "model/train_step.h"
#include "train/config_rules.h"
#include "train/weight_decay.h"

namespace tuna {

namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;
const std::string kPrefix = "base_model.model.";

// The lora-section keys the config sets explicitly.
std::vector<std::string> given_lora_keys(const TrainConfig& cfg) {
  std::vector<std::string> keys;
  for (const ConfigKey& k : config_schema())
    if (std::string(k.section) == "lora" && cfg.has(k.key)) keys.push_back(k.key);
  return keys;
}

nlohmann::json lora_json(const TrainConfig& cfg) {
  nlohmann::json lj = nlohmann::json::object();
  const ojson section = cfg.section("lora");
  for (const auto& [k, v] : section.items())
    if (!v.is_null()) lj[k] = nlohmann::json::parse(v.dump());
  return lj;
}

// A JSON value with lists compared as sets (PEFT stores target_modules as a set).
nlohmann::json normalized(nlohmann::json v) {
  if (v.is_array()) std::sort(v.begin(), v.end());
  return v;
}

// `adapter: DIR`: PeftModel.from_pretrained(model, DIR, is_trainable=True) — the adapter's own
// adapter_config.json decides r, alpha, targets, ...; lora keys the config also sets must agree.
LoraSet load_start_adapter(const TrainConfig& cfg, const Model& model,
                           const std::string& model_arg) {
  const std::string dir = cfg.at("adapter").get<std::string>();
  if (!fs::is_directory(dir))
    throw_user_error("config", cfg.source + ": adapter: " + dir + " is not a directory",
                     "point adapter at a PEFT adapter directory (adapter_config.json + "
                     "adapter_model.safetensors), e.g. an earlier run's output_dir");
  LoraSet lora = load_peft_adapter(dir, model);
  const std::vector<std::string> given = given_lora_keys(cfg);
  if (!given.empty()) {
    const nlohmann::json mine =
        lora_config_to_json(lora_config_from_json(lora_json(cfg), cfg.source));
    const nlohmann::json theirs = lora_config_to_json(lora.config);
    for (const std::string& k : given) {
      if (!mine.contains(k) || !theirs.contains(k)) continue;
      if (normalized(mine[k]) != normalized(theirs[k]))
        throw_user_error("config",
                         cfg.source + ": " + k + " is " + mine[k].dump() + " but the adapter " +
                             dir + " was made with " + k + " " + theirs[k].dump(),
                         "training continues the adapter as PEFT's from_pretrained(..., "
                         "is_trainable=True) does, with its own adapter_config.json: drop " +
                             k + " from the config (or set it to the adapter's value)");
    }
  }
  lora.config.base_model_name_or_path = model_arg;
  lora.config.inference_mode = false;
  return lora;
}

std::map<std::string, std::string> slot_of_hf_name(const Model& model) {
  std::map<std::string, std::string> m;
  for (const auto& [slot, name] : hf_slot_names(model)) m[name] = slot;
  return m;
}

void refuse_tied(const Model& model, const std::string& what) {
  throw_user_error(
      "config",
      what + " on " + model.dir() +
          ", whose LM head is tied to the input embedding (tie_word_embeddings)",
      "PEFT would train an untied copy of the shared matrix (with a warning; peft issue "
      "#2777), which tuna does not reproduce: train the tied matrix in full with use_peft: "
      "false, or leave lm_head/embed_tokens out of modules_to_save");
}

// Full fine-tuning's output dtype, as save_pretrained after transformers loaded the base with
// the config's torch_dtype: float32/bfloat16/float16 as named; "auto" written in the config →
// the HF base's own torch_dtype (config.json), F32 for a GGUF base (transformers dequantizes
// GGUF to float32); not set → F32 (TRL passes dtype=None, transformers 4.57 loads float32).
DType full_save_dtype(const TrainConfig& cfg, const Model& model) {
  if (!cfg.has("torch_dtype")) return DType::F32;
  const std::string name = cfg.at("torch_dtype").get<std::string>();
  if (name != "auto") return dtype_from_torch_name(name);
  return model.gguf() != nullptr ? DType::F32 : dtype_from_torch_name(model.spec().torch_dtype);
}

// Every handle of the set that may share a trainable tensor's storage (re-pointed at its view
// when the set is flattened).
std::vector<Tensor*> tensor_handles(TrainableSet& set) {
  std::vector<Tensor*> h;
  for (std::vector<LoraAdapter>* list : {&set.lora.adapters, &set.adapters})
    for (LoraAdapter& a : *list) h.insert(h.end(), {&a.a, &a.b, &a.grad_a, &a.grad_b});
  for (SavedModule& s : set.lora.saved) h.insert(h.end(), {&s.weight, &s.bias});
  for (auto& [name, t] : set.lora.biases) h.push_back(&t);
  for (ModelWeights* w : {&set.weights, &set.grads})
    for_each_weight_slot(*w, [&](const std::string&, Tensor& t) { h.push_back(&t); });
  return h;
}

// The set, its trainable values and gradients moved into one flat buffer each.
TrainableSet flattened(TrainableSet set) {
  set.buffer = ParamBuffer::flatten(set.params, tensor_handles(set));
  return set;
}

}  // namespace

void check_trainable_config(const TrainConfig& cfg) {
  if (peft_enabled(cfg)) return;
  const std::vector<std::string> given = given_lora_keys(cfg);
  if (!given.empty())
    throw_user_error("config",
                     cfg.source + ": use_peft is false (full fine-tuning) but LoRA keys are set: " +
                         given.front() + (given.size() > 1 ? " (and more)" : ""),
                     "remove the lora keys, or set use_peft: true to train a LoRA adapter");
  if (cfg.at("load_in_4bit").get<bool>())
    throw_user_error("config", cfg.source + ": load_in_4bit with use_peft: false",
                     "4-bit base weights cannot be trained in full: drop load_in_4bit (full "
                     "fine-tuning keeps F32 master weights), or train a QLoRA adapter with "
                     "use_peft: true");
  if (cfg.at("adapter").is_string())
    throw_user_error("config", cfg.source + ": adapter with use_peft: false",
                     "an adapter start trains LoRA: set use_peft: true, or drop adapter");
}

TrainableSet make_trainable_set(const TrainConfig& cfg, const Model& model,
                                const std::string& model_arg) {
  TrainableSet set;
  const ModelSpec& spec = model.spec();
  set.full = !peft_enabled(cfg);
  const ModelWeights& w = model.weights();

  if (set.full) {
    check_trainable_config(cfg);
    if (!spec.weight_prefix.empty())
      throw_user_error("config",
                       cfg.source + ": full fine-tuning of the multimodal checkpoint " +
                           model.dir() + " (" + spec.architecture + ")",
                       "fine-tune a text-only checkpoint, or train a LoRA adapter");
    set.grads = make_weight_gradients(spec, w);
    set.weights = make_master_weights(spec, w, set.grads);
    set.base_trainable = true;
    std::map<std::string, Tensor*> grad_slot, weight_slot;
    for_each_weight_slot(set.grads, [&](const std::string& s, Tensor& t) { grad_slot[s] = &t; });
    for_each_weight_slot(set.weights,
                         [&](const std::string& s, Tensor& t) { weight_slot[s] = &t; });
    for (const auto& [slot, name] : hf_slot_names(model)) {
      set.params.push_back({name, *weight_slot.at(slot), *grad_slot.at(slot),
                            hf_weight_decay_applies(spec.model_type, name)});
      set.trainable_parameters += grad_slot.at(slot)->numel();
    }
    set.trainable_line =
        trainable_parameters_line({set.trainable_parameters, set.trainable_parameters});
    set.save_dtype = full_save_dtype(cfg, model);
    if (model.gguf() != nullptr)
      set.notes.push_back(
          "full fine-tuning a GGUF base: its quantized blocks are dequantized into F32 master "
          "weights; the saved model is " +
          std::string(dtype_name(set.save_dtype)) +
          " (quantize it again with llama.cpp after training)");
    if (set.save_dtype != DType::F32)
      set.notes.push_back(std::string("training runs on F32 master weights; the final model is "
                                      "saved as ") +
                          dtype_name(set.save_dtype) +
                          " (torch_dtype), checkpoints keep the F32 masters");
    return flattened(std::move(set));
  }

  if (cfg.at("adapter").is_string()) {
    set.lora = load_start_adapter(cfg, model, model_arg);
    set.notes.push_back("starting from the adapter " + cfg.at("adapter").get<std::string>() +
                        " (its adapter_config.json: r " + std::to_string(set.lora.config.r) + ")");
  } else {
    LoraConfig lcfg = lora_config_from_json(lora_json(cfg), cfg.source);
    lcfg.seed = static_cast<uint64_t>(cfg.at("seed").get<int64_t>());
    set.lora = create_lora(model, lcfg, model_arg);
  }
  const TrainableCount count = count_trainable_parameters(model, set.lora);
  set.trainable_parameters = count.trainable;
  set.trainable_line = trainable_parameters_line(count);
  for (LoraAdapter& a : set.lora.adapters) {
    if (a.layer < 0) continue;
    if (!a.grad_a.defined()) a.grad_a = Tensor::zeros(a.a.shape(), DType::F32);
    if (!a.grad_b.defined()) a.grad_b = Tensor::zeros(a.b.shape(), DType::F32);
    set.adapters.push_back(a);
    set.params.push_back({a.module + ".lora_A.weight", a.a, a.grad_a, true});
    set.params.push_back({a.module + ".lora_B.weight", a.b, a.grad_b, true});
  }

  // modules_to_save copies and trainable biases: F32 tensors of the LoraSet bound to slots.
  const std::map<std::string, std::string> slots = slot_of_hf_name(model);
  std::map<std::string, Tensor> bound;       // slot -> the LoraSet's tensor
  std::map<std::string, std::string> named;  // slot -> PEFT parameter name
  auto bind = [&](const std::string& hf_name, const Tensor& t, const std::string& param) {
    auto it = slots.find(hf_name);
    if (it == slots.end())
      throw_user_error(
          "config", cfg.source + ": " + hf_name + " is not a weight of the text model tuna trains",
          "modules_to_save and bias train the text model's own weights");
    if (spec.tied_embeddings && (it->second == "embed" || it->second == "lm_head"))
      refuse_tied(model, "modules_to_save names " + hf_name);
    bound[it->second] = t;
    named[it->second] = param;
  };
  for (const SavedModule& s : set.lora.saved) {
    if (spec.tied_embeddings && s.name == "lm_head") refuse_tied(model, "modules_to_save: lm_head");
    bind(s.name + ".weight", s.weight, kPrefix + s.name + ".modules_to_save.default.weight");
    if (s.bias.defined())
      bind(s.name + ".bias", s.bias, kPrefix + s.name + ".modules_to_save.default.bias");
  }
  std::set<std::string> adapted;
  for (const LoraAdapter& a : set.lora.adapters) adapted.insert(a.module);
  for (const auto& [name, t] : set.lora.biases) {
    if (set.lora.saved_module_of_bias(name) != nullptr) continue;  // the frozen original's
    const std::string module = name.substr(0, name.size() - 5);
    bind(name, t, kPrefix + (adapted.count(module) ? module + ".base_layer.bias" : name));
  }
  if (bound.empty()) {
    set.weights = w;
    return flattened(std::move(set));
  }
  set.grads =
      make_weight_gradients(spec, w, [&](const std::string& s) { return bound.count(s) > 0; });
  set.weights = make_master_weights(spec, w, set.grads);
  for_each_weight_slot(set.weights, [&](const std::string& s, Tensor& t) {
    if (bound.count(s)) t = bound.at(s);  // train the LoraSet's own copy (what save writes)
  });
  for_each_weight_slot(set.grads, [&](const std::string& s, Tensor& g) {
    const std::string& name = named.at(s);
    set.params.push_back({name, bound.at(s), g, hf_weight_decay_applies(spec.model_type, name)});
  });
  set.base_trainable = true;
  bound.clear();  // the flat buffer replaces these handles' storage
  return flattened(std::move(set));
}

std::vector<std::string> TrainableSet::save(const std::string& dir, const Model& model,
                                            bool final_output) const {
  if (full) return save_hf_model(dir, model, weights, final_output ? save_dtype : DType::F32);
  save_peft_adapter(dir, lora, model);
  return {};
}

void TrainableSet::load(const std::string& dir, const Model& model) {
  if (full) {
    load_hf_model_weights(dir, model, weights);
    return;
  }
  LoraSet saved = load_peft_adapter(dir, model);
  auto copy_into = [&](Tensor& dst, const Tensor& src, const std::string& what) {
    if (dst.shape() != src.shape())
      throw_user_error("train",
                       dir + ": " + what + " has shape " + src.shape().to_string() +
                           ", this run trains " + dst.shape().to_string(),
                       "resume with the config the checkpoint was written with");
    std::memcpy(dst.raw_mut(), src.raw(), dst.nbytes());
  };
  for (LoraAdapter& a : lora.adapters)
    for (const LoraAdapter& b : saved.adapters)
      if (a.module == b.module) {
        copy_into(a.a, b.a, a.module + ".lora_A");
        copy_into(a.b, b.b, a.module + ".lora_B");
      }
  for (SavedModule& s : lora.saved)
    for (const SavedModule& t : saved.saved)
      if (s.name == t.name) {
        copy_into(s.weight, t.weight, s.name);
        if (s.bias.defined() && t.bias.defined()) copy_into(s.bias, t.bias, s.name + ".bias");
      }
  for (auto& [name, t] : lora.biases)
    for (const auto& [n2, t2] : saved.biases)
      if (name == n2) copy_into(t, t2, name);
}

}  // namespace tuna
