// Hugging Face model directories written from a loaded model's (trained) weights. See
// save_hf_model.h.
#include "export/save_hf_model.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "core/error.h"
#include "core/file_io.h"
#include "io/gguf.h"
#include "io/hf_config.h"
#include "io/safetensors.h"
#include "model/families/registry.h"
#include "model/model.h"
#include "model/rope_rows.h"
#include "model/train_step.h"
#include "ops/dequantize.h"

namespace tuna {

namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

Tensor to_owned_f32(const Tensor& t) {
  if (t.dtype() == DType::F32) return t;
  if (t.dtype() == DType::F16 || t.dtype() == DType::BF16) return t.to_f32();
  Tensor out = Tensor::empty(t.shape(), DType::F32);
  dequantize_rows(t, 0, t.dim(0), out.data_mut<float>());
  return out;
}

void write_json(const fs::path& path, const ojson& j) {
  const std::string text = j.dump(2) + "\n";
  write_file_atomic("model", path.string(),
                    [&](const WriteBytes& sink) { sink(text.data(), text.size()); });
}

}  // namespace

ojson hf_config_json(const Model& model, DType dtype) {
  const char* name = torch_dtype_name(dtype);
  if (model.gguf() != nullptr) return hf_config_from_spec(model.spec(), model.dir(), dtype);
  const fs::path path = fs::path(model.dir()) / "config.json";
  std::ifstream in(path);
  ojson c = ojson::parse(in, nullptr, false);
  if (c.is_discarded() || !c.is_object())
    throw_user_error("model", path.string() + " is not valid JSON", "fix the base's config.json");
  if (c.contains("dtype")) c["dtype"] = name;
  c["torch_dtype"] = name;
  return c;
}

std::vector<std::string> save_hf_model(const std::string& dir, const Model& model,
                                       const ModelWeights& weights, DType dtype) {
  if (!model.spec().weight_prefix.empty())
    throw_user_error("model",
                     model.dir() + " is a multimodal checkpoint (" + model.spec().architecture +
                         "); tuna saves text-only models",
                     "fine-tune the text model's own checkpoint, or train a LoRA adapter");
  fs::create_directories(dir);
  std::vector<std::string> notes;
  const ojson config = hf_config_json(model, dtype);
  std::vector<std::pair<std::string, Tensor>> tensors;
  std::map<std::string, Tensor> by_slot;
  for_each_weight_slot(weights,
                       [&](const std::string& slot, const Tensor& t) { by_slot[slot] = t; });
  for (const auto& [slot, name] : hf_slot_names(model)) {
    Tensor t = to_owned_f32(by_slot.at(slot));
    if (const int64_t heads = rope_permuted_heads(model, slot))
      t = permute_rope_rows(t, heads, true);
    tensors.emplace_back(name, t.f32_to(dtype));
  }
  std::sort(tensors.begin(), tensors.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  write_safetensors((fs::path(dir) / "model.safetensors").string(), tensors, {{"format", "pt"}});
  write_json(fs::path(dir) / "config.json", config);

  if (model.gguf() == nullptr) {
    // An HF base: its generation config and tokenizer files travel with the model.
    for (const char* f : {"generation_config.json", "tokenizer.json", "tokenizer_config.json",
                          "special_tokens_map.json", "tokenizer.model", "chat_template.jinja",
                          "vocab.json", "merges.txt", "added_tokens.json"}) {
      const fs::path src = fs::path(model.dir()) / f;
      if (fs::exists(src))
        fs::copy_file(src, fs::path(dir) / f, fs::copy_options::overwrite_existing);
    }
    if (!fs::exists(fs::path(dir) / "tokenizer.json") &&
        !fs::exists(fs::path(dir) / "tokenizer.model"))
      notes.push_back("the base " + model.dir() + " has no tokenizer files to copy");
  } else {
    const ModelSpec& s = model.spec();
    write_json(fs::path(dir) / "generation_config.json",
               ojson{{"bos_token_id", hf_id_json(s.bos_id)},
                     {"eos_token_id", hf_eos_json(s)},
                     {"pad_token_id", hf_id_json(s.pad_id)}});
    notes.push_back(
        "the GGUF base carries its tokenizer as GGUF metadata, not tokenizer.json: copy "
        "tokenizer.json, tokenizer_config.json and special_tokens_map.json from the model's "
        "Hugging Face repository (for Gemma 3 270M: google/gemma-3-270m) into " +
        dir + " before loading it with transformers' AutoTokenizer");
  }
  return notes;
}

void load_hf_model_weights(const std::string& dir, const Model& model, ModelWeights& into) {
  const std::string path = (fs::path(dir) / "model.safetensors").string();
  if (!fs::exists(path))
    throw_user_error("model", path + " is missing",
                     "the checkpoint is incomplete; resume from an older one");
  const SafetensorsFile f = SafetensorsFile::open(path);
  const std::vector<std::string> names = f.names();
  const std::set<std::string> present(names.begin(), names.end());
  std::map<std::string, Tensor*> by_slot;
  for_each_weight_slot(into, [&](const std::string& slot, Tensor& t) { by_slot[slot] = &t; });
  for (const auto& [slot, name] : hf_slot_names(model)) {
    Tensor& dst = *by_slot.at(slot);
    if (!present.count(name))
      throw_user_error("model", path + ": tensor '" + name + "' is missing",
                       "the file was not written for this base model");
    Tensor t = f.tensor(name).to_f32();
    if (t.shape() != dst.shape() || dst.dtype() != DType::F32)
      throw_user_error("model",
                       path + ": tensor '" + name + "' has shape " + t.shape().to_string() +
                           ", the model needs " + dst.shape().to_string(),
                       "the file was not written for this base model");
    if (const int64_t heads = rope_permuted_heads(model, slot))
      t = permute_rope_rows(t, heads, false);
    std::copy(t.data<float>(), t.data<float>() + t.numel(), dst.data_mut<float>());
  }
}

}  // namespace tuna
