// Bad-input catalogue, area "model": Model files (HF directories, safetensors, GGUF) and adapters
// checked against their base. Each case: see catalogue.h. Binary files (safetensors, GGUF) are
// built here byte by byte, small; the tiny golden llama (2 layers, hidden 64) is the base.
#include <cstdint>
#include <nlohmann/json.hpp>

#include "cli/catalogue/catalogue.h"

namespace tuna_test::catalogue {

namespace {

std::string u32(uint32_t v) {
  return std::string(reinterpret_cast<const char*>(&v), 4);
}
std::string u64(uint64_t v) {
  return std::string(reinterpret_cast<const char*>(&v), 8);
}

struct TensorSpec {
  std::string name, dtype;
  std::vector<int64_t> shape;
};

// A safetensors file of zero-filled tensors (4 bytes per element for an unknown dtype), cut
// `cut` bytes short.
std::string safetensors(const std::vector<TensorSpec>& tensors, size_t cut = 0) {
  nlohmann::ordered_json header = {{"__metadata__", {{"format", "pt"}}}};
  size_t offset = 0;
  for (const TensorSpec& t : tensors) {
    size_t n = t.dtype == "BF16" || t.dtype == "F16" ? 2 : 4;
    for (int64_t d : t.shape) n *= static_cast<size_t>(d);
    header[t.name] = {
        {"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + n}}};
    offset += n;
  }
  const std::string h = header.dump();
  std::string bytes = u64(h.size()) + h + std::string(offset, '\0');
  bytes.resize(bytes.size() - cut);
  return bytes;
}

// The tiny golden llama's config.json with `edit` applied.
std::string llama_config(const nlohmann::json& edit = nlohmann::json::object()) {
  nlohmann::json c = {{"architectures", {"LlamaForCausalLM"}},
                      {"model_type", "llama"},
                      {"hidden_size", 64},
                      {"intermediate_size", 128},
                      {"num_attention_heads", 4},
                      {"num_key_value_heads", 2},
                      {"head_dim", 16},
                      {"num_hidden_layers", 2},
                      {"vocab_size", 256},
                      {"max_position_embeddings", 128},
                      {"rms_norm_eps", 1e-5},
                      {"tie_word_embeddings", false}};
  c.merge_patch(edit);
  return c.dump();
}

// A GGUF v3 header: general.architecture = llama and one tensor of `type` (ggml type id).
std::string gguf_with_tensor_type(uint32_t type) {
  auto str = [](const std::string& s) { return u64(s.size()) + s; };
  std::string b = "GGUF" + u32(3) + u64(1) + u64(1);
  b += str("general.architecture") + u32(8) + str("llama");
  b += str("token_embd.weight") + u32(2) + u64(64) + u64(256) + u32(type) + u64(0);
  b.resize((b.size() + 31) / 32 * 32, '\0');
  return b + std::string(64 * 256 * 4, '\0');
}

// Copies the tiny llama (with a small byte-level BPE tokenizer) to m/, for `generate --adapter`.
const std::string kTinyModel =
    "mkdir -p m && cp {models}/llama/config.json {models}/llama/model.safetensors m/ && "
    "gzip -dc {models}/../tokenizer/gpt2_style/tokenizer.json.gz > m/tokenizer.json";
const std::string kGenerate = "generate --model m --prompt x --max-new-tokens 1 --adapter a";

std::string adapter_config(const nlohmann::json& edit = nlohmann::json::object()) {
  nlohmann::json c = {{"peft_type", "LORA"},
                      {"r", 4},
                      {"lora_alpha", 8},
                      {"target_modules", {"q_proj", "v_proj"}},
                      {"base_model_name_or_path", "m"},
                      {"task_type", "CAUSAL_LM"}};
  c.merge_patch(edit);
  return c.dump();
}

const std::string kPrefix = "base_model.model.model.layers.";

// lora_A [r, in] / lora_B [out, r] of q_proj (64 → 64) in `layer`.
std::vector<TensorSpec> q_lora(int layer, int64_t r = 4, int64_t in = 64, int64_t out = 64) {
  const std::string m = kPrefix + std::to_string(layer) + ".self_attn.q_proj";
  return {{m + ".lora_A.weight", "F32", {r, in}}, {m + ".lora_B.weight", "F32", {out, r}}};
}

}  // namespace

std::vector<BadInput> model_cases() {
  std::vector<BadInput> cases;
  const std::string st_llama = "cp {models}/llama/model.safetensors m/";
  // --- Hugging Face directories: config.json ---
  cases.push_back({.id = "model.dir_without_config",
                   .what = "a model directory without config.json",
                   .args = "info m",
                   .expect = {"no config.json in m", "hint: "},
                   .setup = "mkdir m && " + st_llama});
  cases.push_back({.id = "model.config_not_json",
                   .what = "config.json cut off mid-object",
                   .args = "info m",
                   .files = {{"m/config.json", "{\"architectures\": [\n"}},
                   .expect = {"m/config.json line 2, column 1", "not valid JSON"},
                   .setup = st_llama});
  cases.push_back({.id = "model.config_empty",
                   .what = "an empty config.json",
                   .args = "info m",
                   .files = {{"m/config.json", ""}},
                   .expect = {"m/config.json", "the file is empty"},
                   .setup = st_llama});
  cases.push_back({.id = "model.config_invalid_utf8",
                   .what = "config.json with an invalid UTF-8 byte",
                   .args = "info m",
                   .files = {{"m/config.json", "{\"architectures\": [\"Llama\xff\"]}"}},
                   .expect = {"m/config.json", "invalid UTF-8 byte 0xFF at line 1, column 26 (byte offset 25)"},
                   .setup = st_llama});
  cases.push_back({.id = "model.config_missing_key",
                   .what = "config.json without hidden_size",
                   .args = "info m",
                   .files = {{"m/config.json", llama_config({{"hidden_size", nullptr}})}},
                   .expect = {"m/config.json", "'hidden_size' is missing"},
                   .setup = st_llama});
  cases.push_back({.id = "model.config_wrong_type",
                   .what = "config.json with hidden_size as a string",
                   .args = "info m",
                   .files = {{"m/config.json", llama_config({{"hidden_size", "64"}})}},
                   .expect = {"m/config.json", "'hidden_size' must be an integer"},
                   .setup = st_llama});
  cases.push_back(
      {.id = "model.config_unsupported_architecture",
       .what = "config.json naming an architecture tuna does not implement",
       .args = "info m",
       .files = {{"m/config.json", llama_config({{"architectures", {"FalconForCausalLM"}},
                                                 {"model_type", "falcon"}})}},
       .expect = {"m/config.json", "FalconForCausalLM", "LlamaForCausalLM"},
       .setup = st_llama});
  cases.push_back({.id = "model.config_no_architecture",
                   .what = "config.json with neither architectures nor model_type",
                   .args = "info m",
                   .files = {{"m/config.json",
                              llama_config({{"architectures", nullptr}, {"model_type", nullptr}})}},
                   .expect = {"m/config.json", "neither \"architectures\" nor \"model_type\""},
                   .setup = st_llama});
  // --- safetensors ---
  cases.push_back({.id = "model.no_weights",
                   .what = "a model directory with config.json but no weights",
                   .args = "info m",
                   .files = {{"m/config.json", llama_config()}},
                   .expect = {"no safetensors weights in m", "save_pretrained"}});
  cases.push_back({.id = "model.safetensors_garbage_header",
                   .what = "model.safetensors that is text, not safetensors",
                   .args = "info m",
                   .files = {{"m/config.json", llama_config()},
                             {"m/model.safetensors", "this is not a safetensors file"}},
                   .expect = {"m/model.safetensors", "header length", "not a safetensors file"}});
  cases.push_back(
      {.id = "model.safetensors_header_not_json",
       .what = "a safetensors header that is not JSON",
       .args = "info m",
       .files = {{"m/config.json", llama_config()}, {"m/model.safetensors", u64(5) + "{abc}"}},
       .expect = {"m/model.safetensors", "header is not valid JSON", "column 2"}});
  cases.push_back({.id = "model.safetensors_truncated",
                   .what = "model.safetensors cut short (an interrupted download)",
                   .args = "info m",
                   .files = {{"m/config.json", llama_config()},
                             {"m/model.safetensors",
                              safetensors({{"model.embed_tokens.weight", "F32", {256, 64}}}, 100)}},
                   .expect = {"m/model.safetensors", "model.embed_tokens.weight",
                              "past the end of the file", "truncated"}});
  cases.push_back({.id = "model.safetensors_unknown_dtype",
                   .what = "a safetensors tensor of an unknown dtype",
                   .args = "info m",
                   .files = {{"m/config.json", llama_config()},
                             {"m/model.safetensors",
                              safetensors({{"model.embed_tokens.weight", "F99", {256, 64}}})}},
                   .expect = {"m/model.safetensors", "model.embed_tokens.weight", "F99"}});
  cases.push_back({.id = "model.safetensors_shape_mismatch",
                   .what = "weights whose shape disagrees with config.json (intermediate_size)",
                   .args = "info m",
                   .files = {{"m/config.json", llama_config({{"intermediate_size", 96}})}},
                   .expect = {"mlp.gate_proj.weight", "[128, 64]", "96"},
                   .setup = st_llama});
  cases.push_back({.id = "model.safetensors_missing_tensor",
                   .what = "weights without a tensor the architecture needs",
                   .args = "info m",
                   .files = {{"m/config.json", llama_config()},
                             {"m/model.safetensors",
                              safetensors({{"model.embed_tokens.weight", "F32", {256, 64}}})}},
                   .expect = {"m: tensor 'model.norm.weight' is missing"}});
  // --- GGUF ---
  cases.push_back({.id = "model.gguf_empty",
                   .what = "an empty .gguf file",
                   .args = "info m.gguf",
                   .files = {{"m.gguf", ""}},
                   .expect = {"m.gguf", "0 bytes", "truncated"}});
  cases.push_back({.id = "model.gguf_wrong_magic",
                   .what = "a .gguf file that starts with another magic (an old GGML file)",
                   .args = "info m.gguf",
                   .files = {{"m.gguf", "GGML" + u32(3) + u64(0) + u64(0)}},
                   .expect = {"m.gguf", "not a GGUF file", "'GGML'"}});
  cases.push_back({.id = "model.gguf_unsupported_version",
                   .what = "a GGUF file of a version tuna does not read",
                   .args = "info m.gguf",
                   .files = {{"m.gguf", "GGUF" + u32(9) + u64(0) + u64(0)}},
                   .expect = {"m.gguf", "GGUF version 9 is not supported"}});
  cases.push_back({.id = "model.gguf_truncated_header",
                   .what = "a GGUF file cut inside its header",
                   .args = "info m.gguf",
                   .files = {{"m.gguf", "GGUF" + u32(3) + u64(1)}},
                   .expect = {"m.gguf", "truncated", "byte 16"}});
  cases.push_back({.id = "model.gguf_truncated_real",
                   .what = "the real Gemma 3 GGUF cut after 3 MB",
                   .args = "info m.gguf",
                   .expect = {"m.gguf", "truncated", "tokenizer.ggml.tokens"},
                   .setup = "head -c 3000000 {gguf} > m.gguf"});
  cases.push_back({.id = "model.gguf_unknown_tensor_type",
                   .what = "a GGUF tensor of a ggml type id tuna does not know",
                   .args = "info m.gguf",
                   .files = {{"m.gguf", gguf_with_tensor_type(99)}},
                   .expect = {"m.gguf", "token_embd.weight", "99"}});
  // --- tokenizer.json ---
  cases.push_back(
      {.id = "model.tokenizer_json_broken",
       .what = "tokenizer.json that is not JSON",
       .args = "tokenize --model m hello",
       .files = {{"m/config.json", llama_config()}, {"m/tokenizer.json", "{\"model\": "}},
       .expect = {"m/tokenizer.json", "JSON"},
       .setup = st_llama});
  cases.push_back(
      {.id = "model.tokenizer_vocab_negative_id",
       .what = "tokenizer.json whose vocab gives a piece a negative id",
       .args = "tokenize --model m hello",
       .files = {{"m/config.json", llama_config()},
                 {"m/tokenizer.json",
                  "{\"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\", "
                  "\"vocab\": {\"[UNK]\": -5, \"a\": 1}}}"}},
       .expect = {"id -5 is outside 0..1048577", "[UNK]", "m/tokenizer.json"},
       .setup = st_llama});
  cases.push_back({.id = "model.tokenizer_json_no_model",
                   .what = "tokenizer.json without its model section",
                   .args = "tokenize --model m hello",
                   .files = {{"m/config.json", llama_config()}, {"m/tokenizer.json", "{}"}},
                   .expect = {"m/tokenizer.json", "model"},
                   .setup = st_llama});
  cases.push_back({.id = "model.tokenizer_missing",
                   .what = "a model directory without tokenizer.json, asked to tokenize",
                   .args = "tokenize --model m hello",
                   .files = {{"m/config.json", llama_config()}},
                   .expect = {"no tokenizer.json in m", "copy the model's tokenizer.json"},
                   .setup = st_llama});
  // --- the Hugging Face cache ---
  cases.push_back(
      {.id = "model.repo_not_in_cache",
       .what = "a repo id that is not in the local Hugging Face cache",
       .args = "info nosuch-org/nosuch-model",
       .expect = {"'nosuch-org/nosuch-model'", "{dir}/hub/models--nosuch-org--nosuch-model",
                  "huggingface-cli download"},
       .env = {"HF_HUB_CACHE={dir}/hub", "HF_HOME={dir}/home", "HOME={dir}"},
       .setup = "mkdir hub home"});

  // --- generation_config.json (generate's defaults) ---
  cases.push_back(
      {.id = "model.generation_config_out_of_range",
       .what = "generation_config.json with a negative temperature",
       .args = "generate --model m --prompt x",
       .files = {{"m/generation_config.json", "{\"temperature\": -1}"}},
       .expect = {"m/generation_config.json", "temperature must be a finite number >= 0",
                  "fix generation_config.json"},
       .setup = kTinyModel});
  cases.push_back({.id = "model.generation_config_not_json",
                   .what = "generation_config.json that is not JSON",
                   .args = "generate --model m --prompt x",
                   .files = {{"m/generation_config.json", "{\"top_k\": }"}},
                   .expect = {"m/generation_config.json", "not valid JSON"},
                   .setup = kTinyModel});
  cases.push_back({.id = "model.generation_config_wrong_type",
                   .what = "generation_config.json with top_k as a string",
                   .args = "generate --model m --prompt x",
                   .files = {{"m/generation_config.json", "{\"top_k\": \"50\"}"}},
                   .expect = {"m/generation_config.json", "top_k must be an integer"},
                   .setup = kTinyModel});
  // --- adapters: the files (checked before the base model loads) ---
  cases.push_back({.id = "model.adapter_dir_missing",
                   .what = "--adapter naming a directory that does not exist",
                   .args = kGenerate,
                   .expect = {"cannot read the adapter directory a: it does not exist"},
                   .setup = kTinyModel});
  cases.push_back({.id = "model.adapter_config_missing",
                   .what = "an adapter directory without adapter_config.json",
                   .args = kGenerate,
                   .files = {{"a/adapter_model.safetensors", safetensors(q_lora(0))}},
                   .expect = {"cannot read a/adapter_config.json: no such file"},
                   .setup = kTinyModel});
  cases.push_back({.id = "model.adapter_config_not_json",
                   .what = "adapter_config.json that is not JSON",
                   .args = kGenerate,
                   .files = {{"a/adapter_config.json", "{\"r\": 4,\n \"peft_type\" \"LORA\"}"},
                             {"a/adapter_model.safetensors", safetensors(q_lora(0))}},
                   .expect = {"a/adapter_config.json line 2, column", "not valid JSON"},
                   .setup = kTinyModel});
  cases.push_back({.id = "model.adapter_config_invalid_utf8",
                   .what = "adapter_config.json with an invalid UTF-8 byte",
                   .args = kGenerate,
                   .files = {{"a/adapter_config.json", "{\"base_model_name_or_path\": \"m\xc3\"}"},
                             {"a/adapter_model.safetensors", safetensors(q_lora(0))}},
                   .expect = {"a/adapter_config.json", "invalid UTF-8 byte 0xC3 at line 1, column 31 (byte offset 30)"},
                   .setup = kTinyModel});
  cases.push_back(
      {.id = "model.adapter_unknown_peft_type",
       .what = "an adapter of another PEFT method (prefix tuning)",
       .args = kGenerate,
       .files = {{"a/adapter_config.json", adapter_config({{"peft_type", "PREFIX_TUNING"}})},
                 {"a/adapter_model.safetensors", safetensors(q_lora(0))}},
       .expect = {"a/adapter_config.json", "PREFIX_TUNING", "is not LoRA"},
       .setup = kTinyModel});
  cases.push_back({.id = "model.adapter_no_peft_type",
                   .what = "adapter_config.json without peft_type",
                   .args = kGenerate,
                   .files = {{"a/adapter_config.json", adapter_config({{"peft_type", nullptr}})},
                             {"a/adapter_model.safetensors", safetensors(q_lora(0))}},
                   .expect = {"a/adapter_config.json", "no peft_type"},
                   .setup = kTinyModel});
  cases.push_back(
      {.id = "model.adapter_no_target_modules",
       .what = "adapter_config.json without target_modules",
       .args = kGenerate,
       .files = {{"a/adapter_config.json", adapter_config({{"target_modules", nullptr}})},
                 {"a/adapter_model.safetensors", safetensors(q_lora(0))}},
       .expect = {"a/adapter_config.json", "target_modules is missing or empty"},
       .setup = kTinyModel});
  cases.push_back({.id = "model.adapter_rank_zero",
                   .what = "adapter_config.json with r = 0",
                   .args = kGenerate,
                   .files = {{"a/adapter_config.json", adapter_config({{"r", 0}})},
                             {"a/adapter_model.safetensors", safetensors(q_lora(0))}},
                   .expect = {"a/adapter_config.json", "r"},
                   .setup = kTinyModel});
  cases.push_back({.id = "model.adapter_weights_missing",
                   .what = "an adapter directory without adapter_model.safetensors",
                   .args = kGenerate,
                   .files = {{"a/adapter_config.json", adapter_config()}},
                   .expect = {"a/adapter_model.safetensors is missing"},
                   .setup = kTinyModel});
  cases.push_back({.id = "model.adapter_weights_truncated",
                   .what = "adapter_model.safetensors cut short",
                   .args = kGenerate,
                   .files = {{"a/adapter_config.json", adapter_config()},
                             {"a/adapter_model.safetensors", safetensors(q_lora(0), 64)}},
                   .expect = {"a/adapter_model.safetensors", "lora_B.weight", "truncated"},
                   .setup = kTinyModel});
  // --- adapters checked against their base ---
  cases.push_back({.id = "model.adapter_deeper_base",
                   .what = "an adapter trained on a deeper model (a layer the base lacks)",
                   .args = kGenerate,
                   .files = {{"a/adapter_config.json", adapter_config()},
                             {"a/adapter_model.safetensors", safetensors(q_lora(5))}},
                   .expect = {"a/adapter_model.safetensors", "model.layers.5.self_attn.q_proj",
                              "layer 5", "has 2 layers"},
                   .setup = kTinyModel});
  cases.push_back(
      {.id = "model.adapter_module_absent",
       .what = "an adapter for a module name the base does not have (another architecture)",
       .args = kGenerate,
       .files = {{"a/adapter_config.json", adapter_config({{"target_modules", {"c_attn"}}})},
                 {"a/adapter_model.safetensors",
                  safetensors({{"base_model.model.transformer.h.0.attn.c_attn.lora_A.weight",
                                "F32",
                                {4, 64}},
                               {"base_model.model.transformer.h.0.attn.c_attn.lora_B.weight",
                                "F32",
                                {192, 4}}})}},
       .expect = {"a/adapter_model.safetensors", "'transformer.h.0.attn.c_attn'",
                  "does not exist in the base model", "different base model"},
       .setup = kTinyModel});
  cases.push_back({.id = "model.adapter_shape_mismatch",
                   .what = "an adapter whose lora_A fits a wider base (hidden 128, not 64)",
                   .args = kGenerate,
                   .files = {{"a/adapter_config.json", adapter_config()},
                             {"a/adapter_model.safetensors", safetensors(q_lora(0, 4, 128, 128))}},
                   .expect = {"a/adapter_model.safetensors", "'model.layers.0.self_attn.q_proj'",
                              "lora_A [4, 128]", "lora_B [128, 4]",
                              "do not fit the base weight [out 64, in 64]",
                              "needs lora_A [4, 64] and lora_B [64, 4]"},
                   .setup = kTinyModel});
  cases.push_back({.id = "model.adapter_rank_disagrees",
                   .what = "adapter weights of rank 8 with adapter_config.json saying r = 4",
                   .args = kGenerate,
                   .files = {{"a/adapter_config.json", adapter_config()},
                             {"a/adapter_model.safetensors", safetensors(q_lora(0, 8))}},
                   .expect = {"a/adapter_model.safetensors", "rank 8", "r = 4"},
                   .setup = kTinyModel});
  cases.push_back({.id = "model.adapter_half",
                   .what = "an adapter with lora_A but no lora_B for a module",
                   .args = kGenerate,
                   .files = {{"a/adapter_config.json", adapter_config()},
                             {"a/adapter_model.safetensors", safetensors({q_lora(0)[0]})}},
                   .expect = {"a/adapter_model.safetensors", "only one of lora_A / lora_B"},
                   .setup = kTinyModel});
  return cases;
}

}  // namespace tuna_test::catalogue
