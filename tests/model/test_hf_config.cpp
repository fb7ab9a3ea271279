// config.json → ModelSpec through the family registry (model/families/) for every supported
// architecture (v4 and v5 spellings), errors for unsupported or malformed configs.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "model/families/registry.h"

namespace tuna {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

json llama_config() {
  return json::parse(
      R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64,
    "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 128,
    "vocab_size": 256, "max_position_embeddings": 128, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
    "rope_scaling": {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 8192},
    "tie_word_embeddings": true, "bos_token_id": 128000, "eos_token_id": [128001, 128009]})");
}

// Runs `f`, expecting a user error whose message contains every fragment.
template <typename F>
void expect_user_error(F f, std::initializer_list<std::string> fragments) {
  try {
    f();
    FAIL() << "expected a user error";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_status(), 2);
    for (const auto& frag : fragments)
      EXPECT_NE(std::string(e.what()).find(frag), std::string::npos) << e.what();
  }
}

TEST(HfConfig, LlamaWithLlama3Rope) {
  ModelSpec s = parse_hf_config(llama_config(), "cfg.json");
  EXPECT_EQ(s.family, Family::LLAMA);
  EXPECT_EQ(s.head_dim, 16);
  EXPECT_EQ(s.n_kv_heads, 2);
  EXPECT_TRUE(s.tied_embeddings);
  EXPECT_EQ(s.layers[0].rope.scaling, RopeScalingType::LLAMA3);
  EXPECT_FLOAT_EQ(s.layers[0].rope.factor, 32.0f);
  EXPECT_EQ(s.layers[0].rope.original_max_position, 8192);
  EXPECT_FLOAT_EQ(s.layers[0].rope.theta, 500000.0f);
  EXPECT_FLOAT_EQ(s.attn_scale, 0.25f);
  EXPECT_EQ(s.eos_ids, (std::vector<int64_t>{128001, 128009}));
  EXPECT_FALSE(s.layers[0].sliding);
}

// Dropout inside the base model is recorded (tuna train says it is not applied): GPT2Config's
// *_pdrop default to 0.1, attention_dropout to 0.
TEST(HfConfig, BaseDropoutIsRecorded) {
  EXPECT_EQ(parse_hf_config(llama_config(), "cfg.json").base_dropout, "");
  json l = llama_config();
  l["attention_dropout"] = 0.05;
  EXPECT_EQ(parse_hf_config(l, "cfg.json").base_dropout, "attention_dropout 0.05");
  json g = json::parse(R"({"architectures": ["GPT2LMHeadModel"], "n_embd": 64, "n_layer": 2,
    "n_head": 4, "vocab_size": 256, "attn_pdrop": 0.0})");
  EXPECT_EQ(parse_hf_config(g, "cfg.json").base_dropout, "resid_pdrop 0.1, embd_pdrop 0.1");
}

TEST(HfConfig, V5RopeParameters) {
  json c = llama_config();
  c.erase("rope_scaling");
  c.erase("rope_theta");
  c["rope_parameters"] = {{"rope_type", "linear"}, {"factor", 4.0}, {"rope_theta", 1234.0}};
  ModelSpec s = parse_hf_config(c, "cfg.json");
  EXPECT_EQ(s.layers[1].rope.scaling, RopeScalingType::LINEAR);
  EXPECT_FLOAT_EQ(s.layers[1].rope.factor, 4.0f);
  EXPECT_FLOAT_EQ(s.layers[1].rope.theta, 1234.0f);
}

TEST(HfConfig, Gemma3V5RopeParametersPerLayerType) {
  json c = json::parse(
      R"({"architectures": ["Gemma3ForCausalLM"], "hidden_size": 640, "num_hidden_layers": 18,
    "num_attention_heads": 4, "num_key_value_heads": 1, "head_dim": 256, "intermediate_size": 2048,
    "vocab_size": 262144, "sliding_window": 512, "query_pre_attn_scalar": 256,
    "rope_parameters": {"full_attention": {"rope_type": "default", "rope_theta": 1000000.0},
                        "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}}})");
  ModelSpec s = parse_hf_config(c, "cfg.json");
  // No layer_types: sliding_window_pattern 6 → full attention at 5, 11, 17.
  for (int i = 0; i < 18; ++i)
    EXPECT_EQ(s.layers[static_cast<size_t>(i)].sliding, (i + 1) % 6 != 0) << i;
  EXPECT_FLOAT_EQ(s.layers[5].rope.theta, 1e6f);
  EXPECT_FLOAT_EQ(s.layers[0].rope.theta, 1e4f);
  EXPECT_EQ(s.layers[0].window, 512);
  EXPECT_TRUE(s.tied_embeddings);
  EXPECT_FLOAT_EQ(s.attn_scale, 0.0625f);
  EXPECT_TRUE(s.qk_norm);
  EXPECT_EQ(s.norm, NormType::RMS_GEMMA);
}

TEST(HfConfig, Gemma2DefaultsSoftcapAndAlternatingLayers) {
  json c = json::parse(
      R"({"architectures": ["Gemma2ForCausalLM"], "hidden_size": 64, "num_hidden_layers": 4,
    "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "intermediate_size": 128,
    "vocab_size": 256})");
  ModelSpec s = parse_hf_config(c, "cfg.json");
  EXPECT_FLOAT_EQ(s.attn_softcap, 50.0f);
  EXPECT_FLOAT_EQ(s.final_softcap, 30.0f);
  EXPECT_TRUE(s.layers[0].sliding);
  EXPECT_FALSE(s.layers[1].sliding);
  EXPECT_FALSE(s.qk_norm);
}

TEST(HfConfig, GemmaNullMeansOffAbsentMeansDefault) {
  json c = json::parse(
      R"({"architectures": ["Gemma2ForCausalLM"], "hidden_size": 64, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "intermediate_size": 128,
    "vocab_size": 256, "attn_logit_softcapping": null, "final_logit_softcapping": null, "sliding_window": null})");
  ModelSpec s = parse_hf_config(c, "cfg.json");
  EXPECT_EQ(s.attn_softcap, 0.0f);
  EXPECT_EQ(s.final_softcap, 0.0f);
  EXPECT_FALSE(s.layers[0].sliding);
}

TEST(HfConfig, MultimodalGemma3TextConfigDefaults) {
  // Hub multimodal configs list only a few text keys; the rest are Gemma3TextConfig defaults.
  json c =
      json::parse(R"({"architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3",
    "text_config": {"hidden_size": 2560, "intermediate_size": 10240, "model_type": "gemma3_text",
                    "num_hidden_layers": 34, "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
                    "sliding_window": 1024}})");
  ModelSpec s = parse_hf_config(c, "cfg.json");
  EXPECT_EQ(s.n_heads, 8);
  EXPECT_EQ(s.n_kv_heads, 4);
  EXPECT_EQ(s.vocab, 262208);
  EXPECT_EQ(s.head_dim, 256);
  EXPECT_EQ(s.layers[5].rope.scaling, RopeScalingType::LINEAR);
  EXPECT_EQ(s.layers[0].window, 1024);
}

TEST(HfConfig, UnsupportedOrInconsistentShapes) {
  json c = json::parse(
      R"({"architectures": ["Gemma3ForCausalLM"], "use_bidirectional_attention": true})");
  expect_user_error([&] { parse_hf_config(c, "m/config.json"); }, {"use_bidirectional_attention"});
  json g =
      json::parse(R"({"architectures": ["GPT2LMHeadModel"], "n_embd": 64, "n_layer": 2, "n_head": 3,
    "vocab_size": 256})");
  expect_user_error([&] { parse_hf_config(g, "m/config.json"); }, {"n_head", "n_embd"});
}

TEST(HfConfig, Qwen2BiasAndQwen3QkNorm) {
  json c = llama_config();
  c["architectures"] = {"Qwen2ForCausalLM"};
  EXPECT_TRUE(parse_hf_config(c, "cfg.json").qkv_bias);
  EXPECT_FALSE(parse_hf_config(c, "cfg.json").o_bias);
  c["architectures"] = {"Qwen3ForCausalLM"};
  c["head_dim"] = 32;
  ModelSpec s = parse_hf_config(c, "cfg.json");
  EXPECT_TRUE(s.qk_norm);
  EXPECT_FALSE(s.qkv_bias);
  EXPECT_EQ(s.head_dim, 32);
}

TEST(HfConfig, MistralSlidingWindowOnEveryLayer) {
  json c = llama_config();
  c["architectures"] = {"MistralForCausalLM"};
  c["sliding_window"] = 4096;
  ModelSpec s = parse_hf_config(c, "cfg.json");
  for (const auto& l : s.layers) {
    EXPECT_TRUE(l.sliding);
    EXPECT_EQ(l.window, 4096);
  }
  c["sliding_window"] = nullptr;
  EXPECT_FALSE(parse_hf_config(c, "cfg.json").layers[0].sliding);
  c.erase("sliding_window");  // absent: MistralConfig's default 4096
  EXPECT_EQ(parse_hf_config(c, "cfg.json").layers[0].window, 4096);
}

TEST(HfConfig, Gpt2AndExaone) {
  json g = json::parse(
      R"({"architectures": ["GPT2LMHeadModel"], "n_embd": 768, "n_layer": 12, "n_head": 12,
    "n_positions": 1024, "vocab_size": 50257, "activation_function": "gelu_new"})");
  ModelSpec s = parse_hf_config(g, "cfg.json");
  EXPECT_EQ(s.ffn, 3072);
  EXPECT_TRUE(s.learned_positions);
  EXPECT_TRUE(s.tied_embeddings);
  EXPECT_EQ(s.norm, NormType::LAYER);
  EXPECT_EQ(s.activation, Activation::GELU_TANH);
  json e =
      json::parse(R"({"architectures": ["ExaoneForCausalLM"], "hidden_size": 4096, "num_layers": 32,
    "num_attention_heads": 32, "num_key_value_heads": 8, "intermediate_size": 14336, "vocab_size": 102400,
    "layer_norm_epsilon": 1e-5, "rope_theta": 500000.0, "activation_function": "silu",
    "max_position_embeddings": 4096, "tie_word_embeddings": false})");
  s = parse_hf_config(e, "cfg.json");
  EXPECT_EQ(s.family, Family::EXAONE);
  EXPECT_EQ(s.n_layers, 32);
  EXPECT_EQ(s.head_dim, 128);
  EXPECT_FLOAT_EQ(s.norm_eps, 1e-5f);
}

TEST(HfConfig, UnsupportedArchitectureListsSupported) {
  json c = llama_config();
  c["architectures"] = {"FalconForCausalLM"};
  expect_user_error([&] { parse_hf_config(c, "x/config.json"); },
                    {"x/config.json", "FalconForCausalLM", "not supported", "Gemma3ForCausalLM",
                     "GPT2LMHeadModel"});
}

TEST(HfConfig, MissingOrWrongKeysNameFileAndKey) {
  json c = llama_config();
  c.erase("hidden_size");
  expect_user_error([&] { parse_hf_config(c, "m/config.json"); },
                    {"m/config.json", "hidden_size", "missing"});
  c = llama_config();
  c["num_attention_heads"] = "four";
  expect_user_error([&] { parse_hf_config(c, "m/config.json"); },
                    {"num_attention_heads", "integer"});
  c = llama_config();
  c["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  expect_user_error([&] { parse_hf_config(c, "m/config.json"); }, {"yarn", "not support"});
  c = llama_config();
  c["num_key_value_heads"] = 3;
  expect_user_error([&] { parse_hf_config(c, "m/config.json"); }, {"num_key_value_heads"});
}

TEST(HfConfig, UnreadableFiles) {
  fs::path dir = fs::path(::testing::TempDir()) / "tuna_cfg_bad";
  fs::create_directories(dir);
  std::ofstream(dir / "config.json") << "{ not json";
  expect_user_error([&] { read_hf_config((dir / "config.json").string()); },
                    {"config.json", "not valid JSON"});
  expect_user_error([&] { read_hf_config((dir / "missing.json").string()); }, {"missing.json"});
}

}  // namespace
}  // namespace tuna
