// `tuna info MODEL [--json]`: architecture, shapes, per-layer attention kinds, tied
// embeddings, stored dtypes and the parameter count (equal to transformers' num_parameters()).
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/commands.h"
#include "cli/progress.h"
#include "io/gguf.h"
#include "model/model.h"

namespace tuna::cli {

static std::string with_commas(int64_t n) {
  std::string s = std::to_string(n), out;
  int count = 0;
  for (auto it = s.rbegin(); it != s.rend(); ++it) {
    if (count && count % 3 == 0 && *it != '-') out.insert(out.begin(), ',');
    out.insert(out.begin(), *it);
    ++count;
  }
  return out;
}

// llama.cpp's LlamaFileType names (general.file_type), for the common ones.
static std::string file_type_name(int64_t t) {
  static const std::pair<int64_t, const char*> names[] = {
      {0, "ALL_F32"},        {1, "MOSTLY_F16"},     {2, "MOSTLY_Q4_0"},    {3, "MOSTLY_Q4_1"},
      {7, "MOSTLY_Q8_0"},    {8, "MOSTLY_Q5_0"},    {9, "MOSTLY_Q5_1"},    {10, "MOSTLY_Q2_K"},
      {11, "MOSTLY_Q3_K_S"}, {12, "MOSTLY_Q3_K_M"}, {13, "MOSTLY_Q3_K_L"}, {14, "MOSTLY_Q4_K_S"},
      {15, "MOSTLY_Q4_K_M"}, {16, "MOSTLY_Q5_K_S"}, {17, "MOSTLY_Q5_K_M"}, {18, "MOSTLY_Q6_K"},
      {32, "MOSTLY_BF16"}};
  for (const auto& [id, name] : names)
    if (id == t) return std::string(name) + " (" + std::to_string(t) + ")";
  return std::to_string(t);
}

static const char* norm_name(NormType n) {
  return n == NormType::RMS         ? "RMSNorm (w·x̂)"
         : n == NormType::RMS_GEMMA ? "RMSNorm ((1+w)·x̂)"
                                    : "LayerNorm";
}
static const char* act_name(Activation a) {
  return a == Activation::SILU ? "silu" : a == Activation::GELU_TANH ? "gelu_tanh" : "gelu";
}
static const char* rope_scaling_name(RopeScalingType t) {
  return t == RopeScalingType::NONE     ? "default"
         : t == RopeScalingType::LINEAR ? "linear"
                                        : "llama3";
}

static nlohmann::json info_json(const Model& m) {
  const ModelSpec& s = m.spec();
  nlohmann::json layers = nlohmann::json::array();
  for (const LayerSpec& l : s.layers) {
    nlohmann::json j = {{"attention", l.sliding ? "sliding" : "global"}};
    if (l.sliding) j["window"] = l.window;
    if (!s.learned_positions) {
      j["rope_theta"] = l.rope.theta;
      j["rope_scaling"] = rope_scaling_name(l.rope.scaling);
      if (l.rope.scaling != RopeScalingType::NONE) j["rope_factor"] = l.rope.factor;
    }
    layers.push_back(j);
  }
  nlohmann::json j = {
      {"model", m.dir()},
      {"architecture", s.architecture},
      {"family", family_name(s.family)},
      {"layers", s.n_layers},
      {"hidden_size", s.hidden},
      {"heads", s.n_heads},
      {"kv_heads", s.n_kv_heads},
      {"head_dim", s.head_dim},
      {"ffn_size", s.ffn},
      {"vocab_size", s.vocab},
      {"context_length", s.max_positions},
      {"norm", norm_name(s.norm)},
      {"activation", act_name(s.activation)},
      {"positions", s.learned_positions ? "learned" : "rope"},
      {"attention_scale", s.attn_scale},
      {"tied_embeddings", s.tied_embeddings},
      {"weight_dtypes", m.weight_dtypes()},
      {"parameters", m.parameter_count()},
      {"layer_attention", layers},
  };
  if (s.attn_softcap > 0) j["attn_logit_softcapping"] = s.attn_softcap;
  if (s.final_softcap > 0) j["final_logit_softcapping"] = s.final_softcap;
  if (m.checkpoint_parameter_count() != m.parameter_count())
    j["checkpoint_parameters"] = m.checkpoint_parameter_count();
  nlohmann::json types = nlohmann::json::object();
  for (const auto& [type, count] : m.weight_type_counts()) types[type] = count;
  j["tensor_types"] = types;
  j["weight_bytes"] = m.weight_bytes();
  j["weight_bytes_f32"] = m.parameter_count() * 4;
  if (const GgufFile* g = m.gguf()) {
    j["format"] = "gguf";
    j["gguf_version"] = g->version();
    j["name"] = g->get_string_or("general.name", "");
    if (g->has("general.file_type")) j["file_type"] = g->get_int("general.file_type");
    j["chat_template"] = g->has("tokenizer.chat_template");
    j["tokenizer_model"] = g->get_string_or("tokenizer.ggml.model", "");
  } else {
    j["format"] = "safetensors";
  }
  return j;
}

Runner register_info(CLI::App& app) {
  auto model = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  app.add_option("model", *model, "model directory, HF repo id in the local cache, or GGUF file")
      ->required();
  app.add_flag("--json", *as_json, "print JSON");
  return [model, as_json]() {
    std::optional<Model> loaded;
    {
      SlowWorkNotice notice("loading " + *model);
      loaded.emplace(Model::load(*model));
    }
    const Model& m = *loaded;
    nlohmann::json j = info_json(m);
    if (*as_json) {
      std::printf("%s\n", j.dump(2).c_str());
      return 0;
    }
    const ModelSpec& s = m.spec();
    std::printf("model            %s\n", m.dir().c_str());
    std::printf("architecture     %s (%s)\n", s.architecture.c_str(), family_name(s.family));
    std::printf("layers           %lld\n", static_cast<long long>(s.n_layers));
    std::printf("hidden size      %lld\n", static_cast<long long>(s.hidden));
    std::printf("heads            %lld query / %lld kv, head dim %lld\n",
                static_cast<long long>(s.n_heads), static_cast<long long>(s.n_kv_heads),
                static_cast<long long>(s.head_dim));
    std::printf("ffn size         %lld (%s%s)\n", static_cast<long long>(s.ffn),
                act_name(s.activation), s.gated_mlp ? ", gated" : "");
    std::printf("vocab size       %lld\n", static_cast<long long>(s.vocab));
    std::printf("context length   %lld\n", static_cast<long long>(s.max_positions));
    std::printf("norm             %s, eps %g\n", norm_name(s.norm),
                static_cast<double>(s.norm_eps));
    std::string kinds;
    int64_t n_sliding = 0, window = 0;
    for (const LayerSpec& l : s.layers) {
      kinds += l.sliding ? "S" : "G";
      n_sliding += l.sliding;
      if (l.sliding) window = l.window;
    }
    std::printf("attention        %lld global, %lld sliding",
                static_cast<long long>(s.n_layers - n_sliding), static_cast<long long>(n_sliding));
    if (n_sliding) std::printf(" (window %lld)", static_cast<long long>(window));
    std::printf(": %s\n", kinds.c_str());
    if (!s.learned_positions) {
      std::printf("rope             ");
      std::string last;
      for (const LayerSpec& l : s.layers) {
        char buf[128];
        if (l.rope.scaling == RopeScalingType::NONE)
          std::snprintf(buf, sizeof buf, "theta %g", static_cast<double>(l.rope.theta));
        else
          std::snprintf(buf, sizeof buf, "theta %g, %s x%g", static_cast<double>(l.rope.theta),
                        rope_scaling_name(l.rope.scaling), static_cast<double>(l.rope.factor));
        std::string d = std::string(l.sliding ? "sliding: " : "global: ") + buf;
        if (last.find(d) == std::string::npos) last += (last.empty() ? "" : "; ") + d;
      }
      std::printf("%s\n", last.c_str());
    } else {
      std::printf("positions        learned\n");
    }
    if (s.attn_softcap > 0 || s.final_softcap > 0)
      std::printf("soft-capping     attention %g, final %g\n", static_cast<double>(s.attn_softcap),
                  static_cast<double>(s.final_softcap));
    std::printf("tied embeddings  %s\n", s.tied_embeddings ? "yes" : "no");
    std::string dtypes;
    for (const auto& d : m.weight_dtypes()) dtypes += (dtypes.empty() ? "" : ", ") + d;
    std::printf("weight dtypes    %s\n", dtypes.c_str());
    std::printf("parameters       %s\n", with_commas(m.parameter_count()).c_str());
    std::string types;
    for (const auto& [type, count] : m.weight_type_counts())
      types += (types.empty() ? "" : ", ") + type + " ×" + std::to_string(count);
    std::printf("tensors          %s\n", types.c_str());
    std::printf("weights memory   %.1f MiB as stored (%.1f MiB if dequantized to F32)\n",
                static_cast<double>(m.weight_bytes()) / (1 << 20),
                static_cast<double>(m.parameter_count()) * 4.0 / (1 << 20));
    if (const GgufFile* g = m.gguf()) {
      std::printf(
          "gguf             version %u, name '%s', file type %s, chat template %s, tokenizer "
          "'%s'\n",
          g->version(), g->get_string_or("general.name", "").c_str(),
          g->has("general.file_type") ? file_type_name(g->get_int("general.file_type")).c_str()
                                      : "-",
          g->has("tokenizer.chat_template") ? "present" : "absent",
          g->get_string_or("tokenizer.ggml.model", "-").c_str());
    }
    if (m.checkpoint_parameter_count() != m.parameter_count())
      std::printf("checkpoint       %s parameters in all (includes parts tuna does not load)\n",
                  with_commas(m.checkpoint_parameter_count()).c_str());
    return 0;
  };
}

}  // namespace tuna::cli
