// The generation loop of infer/generation.h through its public API, on the tiny golden Llama
// (tests/golden/models/llama, vocab 256) with a tokenizer that spells id i as two characters:
// greedy ids are the full forward's argmax step by step, generation ends at max_new_tokens, at
// the first EOS id (not printed) or before a stop string (also one spanning two tokens, never
// streamed), and the streamed text is the returned text. The real-model cases (Gemma 3 GGUF,
// KV sessions) are in the model tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "infer/generation.h"
#include "lora/config.h"
#include "lora/targets.h"
#include "model/model.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace tuna {
namespace {

const std::string kLlama = std::string(TUNA_GOLDEN_DIR) + "/models/llama";

// A BPE without merges whose id i is the piece letter(i % 26) + digit(i / 26) ("a0", "b0", ...,
// "v9"), fused on decode: every id of the tiny models prints as two ASCII characters.
Tokenizer two_char_tokenizer(int64_t vocab) {
  nlohmann::json pieces = nlohmann::json::object();
  for (int64_t i = 0; i < vocab; ++i)
    pieces[std::string{static_cast<char>('a' + i % 26), static_cast<char>('0' + i / 26)}] = i;
  const nlohmann::json j = {
      {"version", "1.0"},
      {"added_tokens", nlohmann::json::array()},
      {"normalizer", nullptr},
      {"pre_tokenizer", nullptr},
      {"post_processor", nullptr},
      {"decoder", {{"type", "Fuse"}}},
      {"model", {{"type", "BPE"}, {"vocab", pieces}, {"merges", nlohmann::json::array()}}}};
  return Tokenizer::from_json(j, nullptr, "two-character test tokenizer");
}

// Greedy continuation by the full forward (no KV cache, no generate()): argmax of the last
// position's logits, appended, `n` times.
std::vector<int32_t> full_forward_greedy(const Model& model, std::vector<int32_t> seq, int n) {
  const int64_t V = model.spec().vocab;
  std::vector<int32_t> out;
  for (int step = 0; step < n; ++step) {
    Batch batch;
    batch.T = static_cast<int64_t>(seq.size());
    batch.ids = seq;
    const Tensor logits = model.forward(batch);  // [1, T, V]
    const float* last = logits.data<float>() + (batch.T - 1) * V;
    const int32_t id = static_cast<int32_t>(std::max_element(last, last + V) - last);
    out.push_back(id);
    seq.push_back(id);
  }
  return out;
}

class Generate : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = new Model(Model::load(kLlama));
    tok_ = new Tokenizer(two_char_tokenizer(model_->spec().vocab));
  }
  static void TearDownTestSuite() {
    delete tok_;
    delete model_;
  }
  // Greedy generation after kPrompt; `streamed` gets what the sink received.
  Generation run(const GenerationOptions& g, std::string* streamed = nullptr) const {
    return generate(*model_, nullptr, nullptr, *tok_, kPrompt, g, [streamed](const std::string& s) {
      if (streamed) *streamed += s;
    });
  }
  static inline const std::vector<int32_t> kPrompt = {5, 77, 130, 9, 201, 64};
  static inline Model* model_ = nullptr;
  static inline Tokenizer* tok_ = nullptr;
};

TEST_F(Generate, GreedyFollowsTheFullForwardUntilMaxNewTokens) {
  ASSERT_EQ(model_->spec().vocab, 256);
  GenerationOptions g;
  g.max_new_tokens = 12;
  std::string streamed;
  const Generation out = run(g, &streamed);
  EXPECT_EQ(out.ids, full_forward_greedy(*model_, kPrompt, 12));
  EXPECT_EQ(out.finish_reason, "length");
  EXPECT_EQ(out.text, tok_->decode(out.ids, true));
  EXPECT_EQ(out.text.size(), 24u);
  EXPECT_EQ(streamed, out.text);
  EXPECT_EQ(out.reused_prompt_tokens, 0);

  g.max_new_tokens = 0;
  const Generation none = run(g);
  EXPECT_TRUE(none.ids.empty());
  EXPECT_EQ(none.text, "");
  EXPECT_EQ(none.finish_reason, "length");
}

TEST_F(Generate, StopsAtTheFirstEosIdWithoutPrintingIt) {
  GenerationOptions g;
  g.max_new_tokens = 12;
  const std::vector<int32_t> full = run(g).ids;
  // The id generated fifth (its first occurrence may be earlier) and one never generated.
  const int32_t eos = full[4];
  const size_t first = static_cast<size_t>(std::find(full.begin(), full.end(), eos) - full.begin());
  int32_t unused = 0;
  while (std::find(full.begin(), full.end(), unused) != full.end()) ++unused;
  g.eos_ids = {unused, eos};
  std::string streamed;
  const Generation out = run(g, &streamed);
  EXPECT_EQ(out.finish_reason, "eos");
  ASSERT_EQ(out.ids.size(), first + 1);
  EXPECT_TRUE(std::equal(out.ids.begin(), out.ids.end(), full.begin()));
  const std::vector<int32_t> printed(out.ids.begin(), out.ids.end() - 1);
  EXPECT_EQ(out.text, tok_->decode(printed, true));
  EXPECT_EQ(streamed, out.text);
}

TEST_F(Generate, StopStringsCutTheTextAndAreNeverStreamed) {
  GenerationOptions g;
  g.max_new_tokens = 12;
  const Generation full = run(g);
  ASSERT_EQ(full.text.size(), 24u);
  // The second character of the 7th token and the first of the 8th: the stop string spans a
  // token boundary, so the 7th token's tail must be held back until the 8th arrives.
  const std::string spanning = full.text.substr(13, 2);
  // A stop string that never appears is ignored; the earliest cut among several wins.
  g.stop_strings = {"#never#", spanning, full.text.substr(20, 3)};
  std::string streamed;
  const Generation out = run(g, &streamed);
  // Generation stops at the first token whose text completes a stop string, cut before it.
  size_t tokens = 0, cut = std::string::npos;
  while (cut == std::string::npos && tokens < full.ids.size()) {
    const std::string so_far = full.text.substr(0, 2 * ++tokens);
    for (const std::string& s : g.stop_strings) cut = std::min(cut, so_far.find(s));
  }
  ASSERT_LE(cut, 13u);
  EXPECT_EQ(out.finish_reason, "stop");
  EXPECT_EQ(out.text, full.text.substr(0, cut));
  EXPECT_EQ(streamed, out.text);
  ASSERT_EQ(out.ids.size(), tokens);
  EXPECT_TRUE(std::equal(out.ids.begin(), out.ids.end(), full.ids.begin()));
}

TEST_F(Generate, RefusesAnEmptyPromptAndColdSampling) {
  GenerationOptions g;
  tuna_test::expect_user_error([&] { generate(*model_, nullptr, nullptr, *tok_, {}, g); },
                               {"prompt"});
  g.sampling.do_sample = true;
  g.sampling.temperature = 0.0f;
  tuna_test::expect_user_error([&] { run(g); }, {"temperature"});
}

// generate_batch: each prompt's ids, text and finish reason equal generate() on it alone, for
// any batch size (more prompts than the batch: sequences join as others finish), with an EOS id
// and a stop string ending some early — on F32 weights (Llama), GPT-2's transposed Conv1D
// weights and Gemma 3 (sliding window, soft-capping), greedy and sampled with a seed.
TEST(GenerateBatch, EachSequenceEqualsItsRunAlone) {
  for (const char* name : {"llama", "gpt2", "gemma3_bf16"}) {
    const Model model = Model::load(std::string(TUNA_GOLDEN_DIR) + "/models/" + name);
    const int64_t V = model.spec().vocab;
    const Tokenizer tok = two_char_tokenizer(V);
    std::vector<std::vector<int32_t>> prompts;
    for (int64_t p = 0; p < 7; ++p) {
      std::vector<int32_t> ids;
      for (int64_t i = 0; i <= p + (p % 3); ++i)
        ids.push_back(static_cast<int32_t>(1 + (p * 53 + i * 29) % (V - 1)));
      prompts.push_back(ids);
    }
    for (bool sample : {false, true}) {
      GenerationOptions g;
      g.max_new_tokens = 10;
      g.sampling.do_sample = sample;
      g.sampling.seed = 7;
      // An EOS id and a stop string taken from two of the sequences' own outputs.
      const Generation first = generate(model, nullptr, nullptr, tok, prompts[1], g);
      const Generation second = generate(model, nullptr, nullptr, tok, prompts[4], g);
      g.eos_ids = {first.ids[3]};
      g.stop_strings = {second.text.substr(9, 3)};
      std::vector<Generation> alone;
      for (const auto& p : prompts) alone.push_back(generate(model, nullptr, nullptr, tok, p, g));
      std::set<std::string> reasons;
      for (const Generation& a : alone) reasons.insert(a.finish_reason);
      EXPECT_GE(reasons.count("eos") + reasons.count("stop"), 1u) << name << ": none ends early";
      for (int64_t batch : {1, 3, 8}) {
        std::vector<Generation> got(prompts.size());
        std::vector<size_t> order;
        generate_batch(model, nullptr, nullptr, tok, prompts, g, batch,
                       [&](size_t i, Generation&& r) {
                         order.push_back(i);
                         got[i] = std::move(r);
                       });
        ASSERT_EQ(order.size(), prompts.size()) << name << " batch " << batch;
        for (size_t i = 0; i < prompts.size(); ++i) {
          const std::string where = std::string(name) + (sample ? " sampled" : " greedy") +
                                    " batch " + std::to_string(batch) + " prompt " +
                                    std::to_string(i);
          EXPECT_EQ(got[i].ids, alone[i].ids) << where;
          EXPECT_EQ(got[i].text, alone[i].text) << where;
          EXPECT_EQ(got[i].finish_reason, alone[i].finish_reason) << where;
          EXPECT_EQ(got[i].prefilled_tokens, static_cast<int64_t>(prompts[i].size())) << where;
        }
      }
    }
  }
}

// The engine's continuous batching for a server: each prompt with its own adapter (two adapters
// and the base model served from one set of base weights in the same batch), each result equal
// to generate() alone with that adapter; one sequence cancelled mid-way ends "cancelled" after
// the tokens it had, the others are untouched.
TEST(GenerateBatch, PerPromptAdaptersAndCancellingOneSequence) {
  const Model model = Model::load(kLlama);
  const int64_t V = model.spec().vocab;
  const Tokenizer tok = two_char_tokenizer(V);
  auto make = [&](int r, const std::vector<std::string>& targets, float phase) {
    LoraSet set = create_lora(
        model, lora_config_from_json(
                   {{"r", r}, {"lora_alpha", 2 * r}, {"target_modules", targets}}, "test"));
    for (LoraAdapter& a : set.adapters)
      for (int64_t e = 0; e < a.b.numel(); ++e)
        a.b.data_mut<float>()[e] = 0.5f * std::sin(phase + static_cast<float>(e));
    return set;
  };
  const LoraSet a = make(4, {"q_proj", "v_proj"}, 0.0f);
  const LoraSet b = make(2, {"o_proj", "up_proj", "down_proj"}, 1.0f);
  std::vector<std::vector<int32_t>> prompts;
  for (int64_t p = 0; p < 6; ++p)
    prompts.push_back({static_cast<int32_t>(1 + p * 37 % (V - 1)), static_cast<int32_t>(5 + p)});
  const std::vector<const std::vector<LoraAdapter>*> own = {&a.adapters, &b.adapters, nullptr,
                                                            &a.adapters, &b.adapters, nullptr};
  GenerationOptions g;
  g.max_new_tokens = 8;
  std::vector<Generation> alone;
  for (size_t i = 0; i < prompts.size(); ++i)
    alone.push_back(generate(model, nullptr, own[i], tok, prompts[i], g));
  // The adapters matter: the same prompt with and without one decodes differently.
  EXPECT_NE(generate(model, nullptr, nullptr, tok, prompts[0], g).ids, alone[0].ids);
  EXPECT_NE(generate(model, nullptr, nullptr, tok, prompts[1], g).ids, alone[1].ids);
  std::vector<int> asked(prompts.size(), 0);
  g.should_cancel = [&](size_t i) { return i == 2 && asked[i]++ >= 3; };
  std::vector<Generation> got(prompts.size());
  generate_batch(model, nullptr, nullptr, tok, prompts, g, 4,
                 [&](size_t i, Generation&& r) { got[i] = std::move(r); }, &own);
  for (size_t i = 0; i < prompts.size(); ++i) {
    if (i == 2) continue;
    EXPECT_EQ(got[i].ids, alone[i].ids) << "prompt " << i;
    EXPECT_EQ(got[i].text, alone[i].text) << "prompt " << i;
    EXPECT_EQ(got[i].finish_reason, alone[i].finish_reason) << "prompt " << i;
  }
  EXPECT_EQ(got[2].finish_reason, "cancelled");
  ASSERT_EQ(got[2].ids.size(), 3u);
  EXPECT_EQ(got[2].ids, std::vector<int32_t>(alone[2].ids.begin(), alone[2].ids.begin() + 3));
}

}  // namespace
}  // namespace tuna
