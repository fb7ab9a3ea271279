// What a model family is, declared once in its own file under model/families/ (llama.cpp,
// gemma.cpp, gpt2.cpp): the architecture names it answers to, how its HF config.json is read
// and written, its GGUF metadata mapping, and one table of weight slots that loading, LoRA
// targeting, PEFT key names, weight decay, the HF writer and the RoPE row permutation all read.
// The forward pass is not here: the one block (model/block.cpp) reads the spec's flags through
// model_wiring (which asks the table whether q|k|v is one linear).
// registry.h finds a family by name; docs/adding-an-architecture.md says how to add one.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "io/gguf_config.h"
#include "io/hf_config.h"
#include "io/model_spec.h"
#include "model/lora_adapter.h"

namespace tuna {

// Rows llama.cpp's converter permutes per head (GGUF llama, spec.rope_interleaved): q rows over
// n_heads, k rows over n_kv_heads. The slot's bias follows its weight.
enum class RopeRows : uint8_t { NONE, Q_HEADS, KV_HEADS };

// One weight of the model. Names are templates: "{}" is the layer index (per-layer slots have
// one, model-wide slots none). Bias slots ("q_bias", "attn_norm_bias") are not rows: each is its
// weight's row with ".weight" → ".bias" in every name, present when the spec says so.
struct WeightSlot {
  std::string slot;  // the engine slot (model/weights.h), as for_each_weight_slot names it without
                     // "layers.<i>.": "embed", "q", "attn_norm", ...
  std::string hf;    // transformers' tensor name in the plain text model ("model.layers.{}.
                     // self_attn.q_proj.weight"); hf_name hooks rename it for other layouts
  std::string gguf;  // llama.cpp's tensor name ("blk.{}.attn_q.weight"); empty: no GGUF form
  std::string peft;  // PEFT module name of a linear LoRA can adapt ("model.layers.{}.self_attn.
                     // q_proj"; target_modules entries match its suffix); empty: not adaptable
  LoraTarget lora = LoraTarget::Q;  // the adapter slot the block applies a `peft` row's LoRA in
  bool lora_default = false;        // in PEFT's default target_modules for this family
  bool layer_norm_module = false;   // a torch.nn.LayerNorm in transformers: the HF Trainer gives
                                    // its parameters no weight decay whatever their names
  RopeRows rope_rows = RopeRows::NONE;
};

// A weight that is not a linear LoRA can adapt (embeddings, norms, the head).
inline WeightSlot weight_row(std::string slot, std::string hf, std::string gguf,
                             bool layer_norm_module = false) {
  WeightSlot w;
  w.slot = std::move(slot);
  w.hf = std::move(hf);
  w.gguf = std::move(gguf);
  w.layer_norm_module = layer_norm_module;
  return w;
}

// A linear LoRA can adapt.
inline WeightSlot linear_row(std::string slot, std::string hf, std::string gguf, std::string peft,
                             LoraTarget lora, bool lora_default = false,
                             RopeRows rope_rows = RopeRows::NONE) {
  WeightSlot w = weight_row(std::move(slot), std::move(hf), std::move(gguf));
  w.peft = std::move(peft);
  w.lora = lora;
  w.lora_default = lora_default;
  w.rope_rows = rope_rows;
  return w;
}

// One transformers class of the family (Llama, Mistral, ... share one table).
struct FamilyVariant {
  Family family = Family::LLAMA;
  std::string architecture;          // config.json architectures[0], e.g. "LlamaForCausalLM"
  std::string model_type;            // config.json model_type (used when architectures is absent);
                                     // also PEFT's key for default targets
  std::string gguf_architecture;     // GGUF general.architecture; empty: not read from GGUF
  std::string transformers_module;   // transformers.models.<m>.modeling_<m>, recorded in PEFT's
                                     // auto_mapping; empty: remote code (no auto_mapping)
  bool peft_default_targets = true;  // PEFT has default target_modules for model_type
  bool text_config = false;  // multimodal: the text model's keys under text_config, its weights
                             // under a prefix (spec.weight_prefix)
  // A multimodal checkpoint's vision tower: tuna does not run it, but PEFT adapts its linears
  // and the HF Trainer groups its parameters, so adapters and counts keep them.
  struct VisionTower {
    std::string scope;                 // in its tensor names ("vision_tower."); empty: none
    std::vector<std::string> linears;  // module-name suffixes of its linears (".q_proj", ".fc1")
    std::vector<std::string> layer_norm_modules;  // its nn.LayerNorm modules, by name
  } vision_tower;
};

inline FamilyVariant variant(Family family, std::string architecture, std::string model_type,
                             std::string gguf_architecture, std::string transformers_module) {
  FamilyVariant v;
  v.family = family;
  v.architecture = std::move(architecture);
  v.model_type = std::move(model_type);
  v.gguf_architecture = std::move(gguf_architecture);
  v.transformers_module = std::move(transformers_module);
  return v;
}

using HasTensor = std::function<bool(const std::string& name)>;
// Throws the user error for a config.json the family cannot write; `what` says why.
using RefuseConfig = std::function<void(const std::string& what)>;

struct ModelFamily {
  std::string name;  // "llama", "gemma", "gpt2", "exaone"
  std::vector<FamilyVariant> variants;
  std::vector<WeightSlot> slots;   // the table; the engine binds what the spec needs
  bool linear_transposed = false;  // linear weights stored [in, out] (GPT-2 Conv1D)
  // transformers builds the token embedding as nn.Embedding(padding_idx=pad_token_id): the pad
  // row gets no gradient (Llama/Mistral/Qwen/Gemma/EXAONE; GPT-2's wte has no padding_idx).
  bool embedding_padding_idx = true;
  // llama.cpp's converter stores every *norm.weight as 1 + w (Gemma): the GGUF loader takes the
  // 1 back out.
  bool gguf_norms_plus_one = false;
  // Dropout probabilities inside the base model (key, config class default) in config order:
  // recorded so training can say it does not apply them.
  std::vector<std::pair<std::string, double>> dropout_keys;

  // config.json (the text model's object) → spec. family, architecture, model_type, source,
  // torch_dtype and weight_prefix are set before; the registry reads special ids, dropout and
  // checks heads afterwards.
  void (*read_hf_config)(const ConfigReader& c, ModelSpec& s) = nullptr;
  // Renames a table name (`hf` or `peft`) for the loaded checkpoint's layout: `has` probes the
  // checkpoint's tensor names; null `has` asks for transformers' in-memory module names (PEFT
  // keys). Null hook: the table's names are used as they are.
  std::string (*hf_name)(const std::string& name, const ModelSpec& s,
                         const HasTensor* has) = nullptr;
  // GGUF metadata → the rest of the spec (gguf_base_spec has run; family and architecture set).
  void (*read_gguf)(const GgufKeys& k, ModelSpec& s) = nullptr;
  // Writes the family's config.json keys after the common ones (registry.h hf_config_from_spec).
  void (*write_hf_config)(const ModelSpec& s, nlohmann::ordered_json& c,
                          const RefuseConfig& refuse) = nullptr;

  const WeightSlot* find_slot(const std::string& slot) const {
    for (const WeightSlot& w : slots)
      if (w.slot == slot) return &w;
    return nullptr;
  }
};

}  // namespace tuna
