// Generation: the KV-cache decoder gives the full forward's logits at every step on the tiny
// golden models of each family (Gemma 3 sliding + global layers, Gemma 2 soft-capping, Llama,
// Mistral, Qwen 2/3, GPT-2, EXAONE) and on the real Gemma 3 270M GGUF; greedy decoding follows
// the full forward's argmax; sampling is reproducible per seed; the HF processors on hand cases;
// a merged LoRA adapter gives the loss of the adapter applied on the fly.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>

#include "infer/generation.h"
#include "infer/kv_decoder.h"
#include "infer/sampling.h"
#include "lora/config.h"
#include "lora/targets.h"
#include "model/model.h"
#include "model/train_step.h"
#include "ops/quant_dot.h"
#include "tokenizer/gguf_vocab.h"

namespace tuna {
namespace {

const std::string kModels = std::string(TUNA_GOLDEN_DIR) + "/models";
const std::string kGguf = std::string(TUNA_GOLDEN_DIR) + "/../../models/gemma-3-270m-q4_k_m.gguf";

// Deterministic ids in [1, V).
std::vector<int32_t> test_ids(int64_t n, int64_t vocab) {
  std::vector<int32_t> ids;
  for (int64_t i = 0; i < n; ++i)
    ids.push_back(static_cast<int32_t>(1 + (i * 37 + 11) % (vocab - 1)));
  return ids;
}

// Max |Δ| between the full forward's logits and the KV decoder's, fed as a prefill of
// `prefill` tokens, then a chunk of 3, then one token at a time.
float kv_vs_full(const Model& model, const std::vector<int32_t>& ids, int64_t prefill) {
  const int64_t T = static_cast<int64_t>(ids.size()), V = model.spec().vocab;
  Batch batch;
  batch.T = T;
  batch.ids = ids;
  const Tensor full = model.forward(batch);  // [1, T, V]
  KvDecoder dec(model);
  float worst = 0.0f;
  int64_t t = 0;
  while (t < T) {
    const int64_t n = t == 0 ? prefill : (t == prefill ? 3 : 1);
    std::vector<int32_t> chunk(ids.begin() + t, ids.begin() + std::min(T, t + n));
    const Tensor got = dec.feed(chunk);
    for (int64_t r = 0; r < got.dim(0); ++r)
      for (int64_t v = 0; v < V; ++v) {
        const float d =
            std::fabs(got.data<float>()[r * V + v] - full.data<float>()[(t + r) * V + v]);
        if (!(d <= worst)) worst = d;
      }
    t += got.dim(0);
  }
  EXPECT_EQ(dec.length(), T);
  std::printf("KV cache vs full forward, %lld tokens: max |dlogit| = %.3g\n",
              static_cast<long long>(T), static_cast<double>(worst));
  return worst;
}

class KvCacheTiny : public ::testing::TestWithParam<std::string> {};

TEST_P(KvCacheTiny, EveryStepMatchesTheFullForward) {
  const Model model = Model::load(kModels + "/" + GetParam());
  const int64_t T = std::min<int64_t>(24, model.spec().max_positions);
  const float d = kv_vs_full(model, test_ids(T, model.spec().vocab), 5);
  EXPECT_LE(d, 1e-4f) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Families, KvCacheTiny,
                         ::testing::Values("gemma3", "gemma3_bf16", "gemma2", "llama",
                                           "llama_linear_tied", "mistral", "qwen2", "qwen3", "gpt2",
                                           "exaone"));

TEST(KvCache, GemmaWindowIsExercised) {
  // The tiny Gemma 3 has window 8: 24 tokens put most queries beyond it.
  const Model model = Model::load(kModels + "/gemma3");
  bool sliding = false;
  for (const LayerSpec& l : model.spec().layers) sliding |= l.sliding && l.window < 24;
  EXPECT_TRUE(sliding);
}

TEST(Greedy, FollowsTheFullForwardArgmax) {
  const Model model = Model::load(kModels + "/llama");
  std::vector<int32_t> seq = test_ids(6, model.spec().vocab);
  KvDecoder dec(model);
  std::vector<float> logits = dec.next_logits(seq);
  SamplingConfig greedy;
  for (int step = 0; step < 10; ++step) {
    Batch batch;
    batch.T = static_cast<int64_t>(seq.size());
    batch.ids = seq;
    const Tensor full = model.forward(batch);
    const int64_t V = model.spec().vocab;
    const float* last = full.data<float>() + (batch.T - 1) * V;
    const int32_t expected = argmax_token(std::vector<float>(last, last + V));
    const int32_t got = choose_next_token(logits, seq, greedy, step);
    ASSERT_EQ(got, expected) << "step " << step;
    seq.push_back(got);
    logits = dec.next_logits({got});
  }
}

// A prompt longer than kPrefillChunk is prefilled in chunks, each reported, and decodes to the
// tokens a one-piece prefill gives; the statistics count what was fed and time both phases.
TEST(Greedy, LongPromptPrefilledInChunksWithProgress) {
  const Model model = Model::load(kModels + "/llama");
  const int64_t n = 2 * kPrefillChunk + 88;
  const std::vector<int32_t> prompt = test_ids(n, model.spec().vocab);
  std::vector<std::pair<int64_t, int64_t>> reports;
  GenerationOptions o;
  o.max_new_tokens = 6;
  o.on_prefill = [&](int64_t done, int64_t total) { reports.emplace_back(done, total); };
  KvDecoder dec(model);
  std::vector<float> logits = dec.next_logits(prompt);  // one piece
  std::vector<int32_t> expected, context = prompt;
  for (int step = 0; step < 6; ++step) {
    const int32_t id = choose_next_token(logits, context, o.sampling, step);
    expected.push_back(id);
    context.push_back(id);
    logits = dec.next_logits({id});
  }
  nlohmann::json vocab = nlohmann::json::object();  // a token per id, for the text stream
  for (int64_t i = 0; i < model.spec().vocab; ++i) vocab["t" + std::to_string(i)] = i;
  const Tokenizer tok = Tokenizer::from_json(
      {{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", nlohmann::json::array()}}}},
      nullptr, "test");
  const Generation g = generate(model, nullptr, nullptr, tok, prompt, o);
  EXPECT_EQ(g.ids, expected);
  const std::vector<std::pair<int64_t, int64_t>> want = {
      {kPrefillChunk, n}, {2 * kPrefillChunk, n}, {n, n}};
  EXPECT_EQ(reports, want);
  EXPECT_EQ(g.prefilled_tokens, n);
  EXPECT_GT(g.prefill_seconds, 0.0);
  EXPECT_GT(g.decode_seconds, 0.0);
  // A short prompt is fed in one piece: no reports.
  reports.clear();
  (void)generate(model, nullptr, nullptr, tok, test_ids(10, model.spec().vocab), o);
  EXPECT_TRUE(reports.empty());
}

std::vector<float> hand_logits() {
  std::vector<float> l(50);
  for (size_t i = 0; i < l.size(); ++i) l[i] = std::sin(static_cast<float>(i) * 1.7f) * 3.0f;
  return l;
}

std::vector<int32_t> sample_run(const SamplingConfig& c, int steps) {
  std::vector<int32_t> out;
  for (int s = 0; s < steps; ++s) {
    std::vector<float> l = hand_logits();
    out.push_back(choose_next_token(l, {}, c, s));
  }
  return out;
}

SamplingConfig sampler(float temperature, int64_t top_k, uint64_t seed) {
  SamplingConfig c;
  c.do_sample = true;
  c.temperature = temperature;
  c.top_k = top_k;
  c.seed = seed;
  return c;
}

TEST(Sampling, ReproducibleWithASeedAndDifferentAcrossSeeds) {
  SamplingConfig c = sampler(2.0f, 0, 7);
  const std::vector<int32_t> a = sample_run(c, 40), b = sample_run(c, 40);
  EXPECT_EQ(a, b);
  c.seed = 8;
  EXPECT_NE(a, sample_run(c, 40));
  std::set<int32_t> distinct(a.begin(), a.end());
  EXPECT_GT(distinct.size(), 3u);  // it really samples
}

TEST(Sampling, TopKOneIsGreedy) {
  const SamplingConfig c = sampler(1.5f, 1, 3);
  const int32_t greedy = argmax_token(hand_logits());
  for (int32_t id : sample_run(c, 20)) EXPECT_EQ(id, greedy);
}

TEST(Sampling, RepetitionPenaltyDividesPositiveMultipliesNegative) {
  std::vector<float> l = {2.0f, -2.0f, 1.0f, -1.0f};
  apply_repetition_penalty(l, {0, 1, 1, 0}, 2.0f);  // repeats count once
  EXPECT_EQ(l, (std::vector<float>{1.0f, -4.0f, 1.0f, -1.0f}));
  // Greedy decoding applies it too: token 0 (2.0 → 0.8) loses to token 2 (1.0).
  std::vector<float> g = {2.0f, -2.0f, 1.0f};
  SamplingConfig c;
  c.repetition_penalty = 2.5f;
  EXPECT_EQ(choose_next_token(g, {0}, c, 0), 2);
}

TEST(Sampling, TopPAndMinPOnAHandCase) {
  // Probabilities 0.5, 0.3, 0.2 (log-probs as logits).
  const std::vector<float> l = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
  SamplingConfig c;
  c.top_k = 0;
  c.top_p = 0.6f;  // ascending cumulative 0.2 ≤ 0.4 is dropped; 0.5 > 0.4 kept
  std::vector<float> p = sampling_probabilities(l, c);
  EXPECT_NEAR(p[0], 0.625f, 1e-6f);
  EXPECT_NEAR(p[1], 0.375f, 1e-6f);
  EXPECT_EQ(p[2], 0.0f);
  c.top_p = 1.0f;
  c.min_p = 0.5f;  // threshold 0.25: only 0.2 is dropped
  p = sampling_probabilities(l, c);
  EXPECT_EQ(p[2], 0.0f);
  EXPECT_GT(p[1], 0.0f);
}

// r = 4 LoRA on every linear with B = amplitude · sin(…) (a trained-looking, non-zero B).
LoraSet lora_with_b(const Model& model, double alpha, float amplitude) {
  LoraSet lora = create_lora(
      model, lora_config_from_json(
                 {{"r", 4}, {"lora_alpha", alpha}, {"target_modules", "all-linear"}}, "test"));
  for (size_t i = 0; i < lora.adapters.size(); ++i) {
    Tensor& b = lora.adapters[i].b;
    for (int64_t e = 0; e < b.numel(); ++e)
      b.data_mut<float>()[e] = amplitude * std::sin(static_cast<float>(3 * e + 7 * i));
  }
  return lora;
}

// LoRA on every linear with non-zero B: merging gives the loss of applying it on the fly.
TEST(Adapter, MergedEqualsAppliedOnTheFly) {
  for (const std::string name : {"llama", "gemma3", "gpt2"}) {
    const Model model = Model::load(kModels + "/" + name);
    LoraSet lora = lora_with_b(model, 8, 0.05f);
    TrainBatch batch;
    batch.T = 16;
    batch.ids = test_ids(16, model.spec().vocab);
    batch.labels = batch.ids;
    StepOptions opt;
    opt.backward = false;
    const StepResult base = forward_backward(model, model.weights(), nullptr, nullptr, batch, opt);
    const StepResult applied =
        forward_backward(model, model.weights(), &lora.adapters, nullptr, batch, opt);
    const ModelWeights merged = merged_adapter_weights(model, lora);
    const StepResult via_merge = forward_backward(model, merged, nullptr, nullptr, batch, opt);
    EXPECT_GT(std::fabs(applied.loss_sum - base.loss_sum), 1e-3) << name << ": B had no effect";
    EXPECT_NEAR(via_merge.loss_sum, applied.loss_sum, 1e-4 * batch.T) << name;
  }
}

// Greedy decoding through a KvDecoder: the tokens and the logits each was chosen from.
struct GreedyRun {
  std::vector<int32_t> ids;
  std::vector<std::vector<float>> logits;
};
GreedyRun greedy_run(const Model& model, const ModelWeights* w,
                     const std::vector<LoraAdapter>* adapters, std::vector<int32_t> seq, int n) {
  KvDecoder dec(model, w, adapters);
  GreedyRun r;
  std::vector<float> logits = dec.next_logits(seq);
  for (int step = 0; step < n; ++step) {
    r.logits.push_back(logits);
    r.ids.push_back(argmax_token(logits));
    logits = dec.next_logits({r.ids.back()});
  }
  return r;
}

// Gap between the largest and second-largest logit.
float top2_gap(std::vector<float> l) {
  std::partial_sort(l.begin(), l.begin() + 2, l.end(), std::greater<float>());
  return l[0] - l[1];
}

// DESIGN.md §8: merged vs applied on the fly, greedily on an F32 base, may differ only where the
// top-2 logit gap is below 1e-4.
TEST(Adapter, MergedAndAppliedGiveTheSameGreedyTokens) {
  for (const std::string name : {"llama", "gemma3", "gemma2", "qwen3", "gpt2"}) {
    const Model model = Model::load(kModels + "/" + name);
    const LoraSet lora = lora_with_b(model, 16, 0.2f);
    const ModelWeights merged = merged_adapter_weights(model, lora);
    const std::vector<int32_t> prompt = test_ids(5, model.spec().vocab);
    const int n = static_cast<int>(std::min<int64_t>(16, model.spec().max_positions - 5));
    const GreedyRun base = greedy_run(model, nullptr, nullptr, prompt, n);
    const GreedyRun m = greedy_run(model, &merged, nullptr, prompt, n);
    const GreedyRun a = greedy_run(model, nullptr, &lora.adapters, prompt, n);
    float effect = 0.0f;  // the adapter must move the first step's logits
    for (size_t v = 0; v < a.logits[0].size(); ++v)
      effect = std::max(effect, std::fabs(a.logits[0][v] - base.logits[0][v]));
    EXPECT_GT(effect, 1e-2f) << name << ": the adapter changed nothing";
    float worst = 0.0f;
    for (int i = 0; i < n; ++i) {
      if (m.ids[i] != a.ids[i]) {
        EXPECT_LT(top2_gap(a.logits[i]), 1e-4f) << name << " step " << i;
        break;  // the sequences diverge from here
      }
      for (size_t v = 0; v < a.logits[i].size(); ++v)
        worst = std::max(worst, std::fabs(a.logits[i][v] - m.logits[i][v]));
    }
    EXPECT_LE(worst, 1e-4f) << name;
    std::printf("%s: merged vs applied adapter, %d greedy steps: max |dlogit| = %.3g\n",
                name.c_str(), n, static_cast<double>(worst));
  }
}

// next_logits_batch: each sequence's logits are bitwise those of feeding its decoder alone, for
// sequences of different lengths decoding together (2, 5 and 8 sequences; a pass of two ids per
// sequence while it has at most 8 rows), on F32 (Llama), transposed Conv1D (GPT-2), Gemma 3 and
// Qwen 3 weights, and the real quantized GGUF.
// `adapters`: sequence s decodes with adapters[s % size] applied on the fly (null: none).
void expect_batch_equals_alone(const Model& model, const std::string& name,
                               const std::vector<const std::vector<LoraAdapter>*>& adapters = {}) {
  const int64_t V = model.spec().vocab;
  for (int64_t n_seq : {2, 5, 8}) {
    std::vector<KvDecoder> alone, batched;
    alone.reserve(static_cast<size_t>(n_seq));
    batched.reserve(static_cast<size_t>(n_seq));
    for (int64_t s = 0; s < n_seq; ++s) {
      const std::vector<int32_t> prompt = test_ids(2 + s, V);
      const std::vector<LoraAdapter>* own =
          adapters.empty() ? nullptr : adapters[static_cast<size_t>(s) % adapters.size()];
      alone.emplace_back(model, nullptr, own);
      batched.emplace_back(model, nullptr, own);
      alone.back().next_logits(prompt);
      batched.back().next_logits(prompt);
    }
    for (int step = 0; step < 3; ++step) {
      std::vector<KvDecoder*> decoders;
      std::vector<std::vector<int32_t>> ids;
      for (int64_t s = 0; s < n_seq; ++s) {
        decoders.push_back(&batched[static_cast<size_t>(s)]);
        // Two ids each on the last step while the pass stays within 8 rows.
        if (step == 2 && n_seq <= 4)
          ids.push_back({3, 5});
        else
          ids.push_back({static_cast<int32_t>(1 + (s * 7 + step) % (V - 1))});
      }
      const Tensor got = KvDecoder::next_logits_batch(decoders, ids);
      ASSERT_EQ(got.dim(0), n_seq);
      for (int64_t s = 0; s < n_seq; ++s) {
        const std::vector<float> want =
            alone[static_cast<size_t>(s)].next_logits(ids[static_cast<size_t>(s)]);
        EXPECT_EQ(std::memcmp(want.data(), got.data<float>() + s * V, static_cast<size_t>(V) * 4),
                  0)
            << name << ": " << n_seq << " sequences, step " << step << ", sequence " << s;
      }
    }
  }
}

TEST(KvCacheBatch, EachSequenceBitwiseAsAlone) {
  for (const char* name : {"llama", "gpt2", "gemma3", "qwen3"})
    expect_batch_equals_alone(Model::load(kModels + "/" + name), name);
}

// Several adapters served from one base model in the same pass (issue 13 item 4): sequences
// with adapter A, adapter B (other targets and rank) or none, each bitwise as alone.
TEST(KvCacheBatch, EachSequenceWithItsOwnAdapterBitwiseAsAlone) {
  for (const char* name : {"llama", "gpt2", "gemma3"}) {
    const Model model = Model::load(kModels + "/" + name);
    const bool gpt2 = std::string(name) == "gpt2";
    auto make = [&](int r, std::vector<std::string> targets, float phase) {
      LoraSet set = create_lora(
          model, lora_config_from_json({{"r", r}, {"lora_alpha", 2 * r}, {"target_modules", targets}},
                                       "test"));
      for (LoraAdapter& a : set.adapters)
        for (int64_t e = 0; e < a.b.numel(); ++e)
          a.b.data_mut<float>()[e] = 0.05f * std::sin(phase + static_cast<float>(e));
      return set;
    };
    const LoraSet a = make(4, gpt2 ? std::vector<std::string>{"c_attn"}
                                   : std::vector<std::string>{"q_proj", "v_proj"}, 0.0f);
    const LoraSet b = make(2, gpt2 ? std::vector<std::string>{"c_attn", "c_fc"}
                                   : std::vector<std::string>{"o_proj", "up_proj"}, 1.0f);
    expect_batch_equals_alone(model, std::string(name) + " with adapters",
                              {&a.adapters, &b.adapters, nullptr});
  }
}

// --- the real Gemma 3 270M GGUF ----------------------------------------------------------------

TEST(KvCacheReal, Gemma3GgufTwentyTokens) {
  ASSERT_TRUE(std::filesystem::exists(kGguf)) << kGguf << " is missing: run scripts/setup.sh";
  const Model model = Model::load(kGguf);
  std::vector<int32_t> ids = {2};
  for (int32_t id : test_ids(19, 200000)) ids.push_back(id + 1000);
  // The single-token steps dot the Q8_0 / Q5_0 / Q4_K / Q6_K blocks directly (ops/quant_dot.h:
  // each block's scale factored out of its sum), the full forward dequantizes and runs SGEMM:
  // the same products, added in another order. Measured 1.7e-4
  // (5.4e-5 when both dequantized); a wrong weight or position moves logits by far more.
  const float worst = kv_vs_full(model, ids, 6);
  std::printf("real Gemma 3 GGUF: KV decode vs full forward, max |dlogit| = %.3g\n",
              static_cast<double>(worst));
  EXPECT_LE(worst, 3e-4f);
}

// Truncating the cache to a prefix and feeding a different continuation gives the full
// forward's logits of prefix + continuation (what a chat turn does with the last turn's cache).
TEST(KvCacheBatchReal, Gemma3GgufEachSequenceBitwiseAsAlone) {
  ASSERT_TRUE(std::filesystem::exists(kGguf)) << kGguf << " is missing: run scripts/setup.sh";
  expect_batch_equals_alone(Model::load(kGguf), "gemma-3-270m GGUF");
}

// The sliding-window layers keep only their window: after 100 tokens on the tiny Gemma 3
// (window 8; layers 0, 1, 3 sliding, 2 full) the cache holds 100 positions for the full layer and
// at most 2·8 + 1 for each sliding one; a truncation inside the window keeps the prefix; the
// logits still equal the full forward's (kv_vs_full, above, feeds past the window too).
TEST(KvCache, SlidingLayersKeepOnlyTheirWindow) {
  const Model model = Model::load(kModels + "/gemma3");
  const ModelSpec& s = model.spec();
  const int64_t KD = s.n_kv_heads * s.head_dim;
  KvDecoder dec(model);
  const std::vector<int32_t> ids = test_ids(100, s.vocab);
  dec.feed({ids[0], ids[1], ids[2], ids[3]});
  for (size_t t = 4; t < ids.size(); ++t) dec.feed({ids[t]});
  int64_t full_layers = 0;
  for (int64_t l = 0; l < s.n_layers; ++l) full_layers += layer_attention_params(s, l).window == 0;
  ASSERT_EQ(full_layers, 1);
  const int64_t rows_at_most = full_layers * 100 + (s.n_layers - full_layers) * (2 * 8 + 1);
  EXPECT_LE(dec.cache_bytes(), 2 * rows_at_most * KD * 4 * 2);  // keys + values, 2× for growth
  EXPECT_GE(dec.cache_bytes(), 100 * KD * 4 * 2);
  KvDecoder fresh(model);
  fresh.feed(std::vector<int32_t>(ids.begin(), ids.begin() + 12));
  EXPECT_EQ(fresh.truncate(10), 10);  // nothing dropped yet (12 − 8 + 1 = 5 dead rows < 8)
}

TEST(KvCache, TruncateThenFeedMatchesTheFullForward) {
  for (const char* name : {"gemma3", "llama"}) {
    const Model model = Model::load(kModels + "/" + name);
    const int64_t V = model.spec().vocab;
    const std::vector<int32_t> first = test_ids(20, V);
    std::vector<int32_t> second(first.begin(), first.begin() + 10);
    for (int32_t id : test_ids(9, V)) second.push_back(static_cast<int32_t>((id * 7 + 3) % V));
    KvDecoder dec(model);
    dec.feed(std::vector<int32_t>(first.begin(), first.begin() + 14));
    for (size_t t = 14; t < first.size(); ++t) dec.feed({first[t]});
    // Gemma 3's sliding layers (window 8) have dropped positions the query at 10 would see
    // after 20 tokens: the cache empties and the whole prefix is fed again.
    const int64_t kept = dec.truncate(10);
    EXPECT_EQ(kept, std::string(name) == "llama" ? 10 : 0) << name;
    EXPECT_EQ(dec.length(), kept);
    const Tensor all = dec.feed(std::vector<int32_t>(second.begin() + kept, second.end()));
    const Tensor got = all.slice0(10 - kept, all.dim(0));
    EXPECT_EQ(dec.length(), static_cast<int64_t>(second.size()));
    Batch batch;
    batch.T = static_cast<int64_t>(second.size());
    batch.ids = second;
    const Tensor full = model.forward(batch);  // [1, T, V]
    float worst = 0.0f;
    for (int64_t r = 0; r < got.dim(0); ++r)
      for (int64_t v = 0; v < V; ++v)
        worst = std::max(
            worst, std::fabs(got.data<float>()[r * V + v] - full.data<float>()[(10 + r) * V + v]));
    EXPECT_LE(worst, 1e-4f) << name;
  }
}

// A KvSession kept across calls (interactive chat): the second prompt extends the first
// exchange, only its new ids are prefilled, and the greedy reply equals a fresh generation's.
TEST(GenerateReal, SessionReusesThePreviousTurnsCache) {
  ASSERT_TRUE(std::filesystem::exists(kGguf)) << kGguf << " is missing: run scripts/setup.sh";
  const Model model = Model::load(kGguf);
  const Tokenizer tok = tokenizer_from_gguf(*model.gguf());
  GenerationOptions g;
  g.max_new_tokens = 6;
  g.eos_ids = generation_eos_ids(model, tok);
  // The exact path: on the fast path the reused cache holds the first reply's keys/values from
  // decoding steps (8-bit activations), a fresh prefill computes them exactly.
  g.exact = true;
  KvSession session{KvDecoder(model), {}};
  const std::vector<int32_t> first = tok.encode("The capital of France is", true);
  const Generation a = generate(model, nullptr, nullptr, tok, first, g, {}, &session);
  EXPECT_EQ(a.reused_prompt_tokens, 0);
  ASSERT_EQ(a.ids.size(), 6u);
  std::vector<int32_t> second = first;
  second.insert(second.end(), a.ids.begin(), a.ids.end());
  for (int32_t id : tok.encode(" The capital of Italy is", false)) second.push_back(id);
  const Generation b = generate(model, nullptr, nullptr, tok, second, g, {}, &session);
  // The last generated id was never fed (generation stopped), so it is prefilled now.
  EXPECT_EQ(b.reused_prompt_tokens, static_cast<int64_t>(first.size() + a.ids.size() - 1));
  const Generation fresh = generate(model, nullptr, nullptr, tok, second, g);
  EXPECT_EQ(b.ids, fresh.ids);
  EXPECT_EQ(b.text, fresh.text);
  // The same prompt again reuses all but its last id; a reset session reuses nothing.
  const Generation c = generate(model, nullptr, nullptr, tok, second, g, {}, &session);
  EXPECT_EQ(c.reused_prompt_tokens, static_cast<int64_t>(second.size() - 1));
  EXPECT_EQ(c.ids, fresh.ids);
  session.reset();
  EXPECT_EQ(generate(model, nullptr, nullptr, tok, first, g, {}, &session).reused_prompt_tokens, 0);
}

TEST(GenerateReal, GreedyIsDeterministicAndStopsAtStopStrings) {
  ASSERT_TRUE(std::filesystem::exists(kGguf)) << kGguf << " is missing: run scripts/setup.sh";
  const Model model = Model::load(kGguf);
  const Tokenizer tok = tokenizer_from_gguf(*model.gguf());
  const std::vector<int32_t> eos = generation_eos_ids(model, tok);
  EXPECT_NE(std::find(eos.begin(), eos.end(), 1), eos.end());    // <eos>
  EXPECT_NE(std::find(eos.begin(), eos.end(), 106), eos.end());  // <end_of_turn>
  GenerationOptions g;
  g.max_new_tokens = 8;
  g.eos_ids = eos;
  const std::vector<int32_t> prompt = tok.encode("The capital of France is", true);
  std::string streamed;
  const Generation a = generate(model, nullptr, nullptr, tok, prompt, g,
                                [&](const std::string& s) { streamed += s; });
  const Generation b = generate(model, nullptr, nullptr, tok, prompt, g);
  EXPECT_EQ(a.ids, b.ids);
  EXPECT_EQ(a.text, streamed);
  ASSERT_EQ(a.finish_reason, "length");
  ASSERT_EQ(a.ids.size(), 8u);
  EXPECT_EQ(a.text, tok.decode(a.ids, true));
  ASSERT_GE(a.text.size(), 4u);
  // A stop string from the middle of that output: same prefix, cut before it.
  const size_t at = a.text.size() / 2;
  g.stop_strings = {a.text.substr(at, 3)};
  std::string streamed_stop;
  const Generation c = generate(model, nullptr, nullptr, tok, prompt, g,
                                [&](const std::string& s) { streamed_stop += s; });
  EXPECT_EQ(c.finish_reason, "stop");
  EXPECT_EQ(c.text, a.text.substr(0, a.text.find(g.stop_strings[0])));
  EXPECT_EQ(streamed_stop, c.text);
}

// On quantized weights the default decoding steps round activations to 8 bits (the fast path)
// and a sequence alone takes other kernels than one in a batch; with `exact` each sequence of a
// batch is bitwise what it is alone (the guarantee --prompts documents for --exact).
TEST(GenerateReal, ExactBatchesEqualSequencesAloneAndTheFastPathDiffers) {
  ASSERT_TRUE(std::filesystem::exists(kGguf)) << kGguf << " is missing: run scripts/setup.sh";
  const Model model = Model::load(kGguf);
  const Tokenizer tok = tokenizer_from_gguf(*model.gguf());
  std::vector<std::vector<int32_t>> prompts;
  for (const char* p : {"The capital of France is", "def add(a, b):", "Once upon a time"})
    prompts.push_back(tok.encode(p, true));
  GenerationOptions g;
  g.max_new_tokens = 12;
  g.exact = true;
  std::vector<Generation> alone;
  for (const auto& p : prompts) alone.push_back(generate(model, nullptr, nullptr, tok, p, g));
  std::vector<Generation> batched(prompts.size());
  generate_batch(model, nullptr, nullptr, tok, prompts, g, 3,
                 [&](size_t i, Generation&& r) { batched[i] = std::move(r); });
  for (size_t i = 0; i < prompts.size(); ++i) EXPECT_EQ(batched[i].ids, alone[i].ids) << i;
  // The fast path's decoding step is a different computation: its logits are close to the exact
  // ones but not the same bits.
  KvDecoder exact(model), fast(model);
  const std::vector<float> a = exact.next_logits(prompts[0]);
  const std::vector<float> b = fast.next_logits(prompts[0]);
  ASSERT_EQ(a, b);  // the prefill is exact on both
  const int32_t next = static_cast<int32_t>(std::max_element(a.begin(), a.end()) - a.begin());
  const std::vector<float> step_exact = exact.next_logits({next});
  std::vector<float> step_fast;
  {
    const Int8ActivationScope scope(true);
    step_fast = fast.next_logits({next});
  }
  float worst = 0.0f;
  for (size_t v = 0; v < step_exact.size(); ++v)
    worst = std::max(worst, std::fabs(step_exact[v] - step_fast[v]));
  EXPECT_GT(worst, 0.0f);
  EXPECT_LT(worst, 1.0f);
}

// generation_config.json's sampling settings, as transformers' generate() takes them: the file's
// values unless the command line sets them; --greedy / temperature 0 decode greedily.
TEST(GenerationDefaults, ReadFromGenerationConfigAndOverridden) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "tuna_generation_defaults";
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const char* f : {"config.json", "model.safetensors"})
    fs::copy_file(kModels + "/gemma3/" + f, dir / f);
  auto write_config = [&](const std::string& text) {
    std::FILE* f = std::fopen((dir / "generation_config.json").c_str(), "w");
    std::fputs(text.c_str(), f);
    std::fclose(f);
  };
  // Gemma 3's own generation_config.json (google/gemma-3-270m).
  write_config(R"({"cache_implementation": "hybrid", "do_sample": true, "top_k": 64,
                   "top_p": 0.95, "bos_token_id": 2, "eos_token_id": [1, 106], "pad_token_id": 0})");
  {
    const Model model = Model::load(dir.string());
    const GenerationDefaults d = read_generation_defaults(model);
    EXPECT_EQ(d.source, (dir / "generation_config.json").string());
    ASSERT_TRUE(d.do_sample && d.top_k && d.top_p);
    EXPECT_TRUE(*d.do_sample);
    EXPECT_EQ(*d.top_k, 64);
    EXPECT_DOUBLE_EQ(*d.top_p, 0.95);
    EXPECT_FALSE(d.temperature || d.min_p || d.repetition_penalty || d.max_new_tokens);

    GenerationOptions g;
    resolve_generation_options({}, d, g);
    EXPECT_TRUE(g.sampling.do_sample);
    EXPECT_EQ(g.sampling.temperature, 1.0f);
    EXPECT_EQ(g.sampling.top_k, 64);
    EXPECT_EQ(g.sampling.top_p, 0.95f);
    EXPECT_EQ(g.max_new_tokens, 256);

    GenerationRequest greedy;
    greedy.do_sample = false;
    resolve_generation_options(greedy, d, g);
    EXPECT_FALSE(g.sampling.do_sample);
    GenerationRequest zero;
    zero.temperature = 0.0;
    resolve_generation_options(zero, d, g);
    EXPECT_FALSE(g.sampling.do_sample);
    GenerationRequest warm;
    warm.temperature = 0.5;
    warm.top_k = 5;
    warm.max_new_tokens = 7;
    resolve_generation_options(warm, d, g);
    EXPECT_TRUE(g.sampling.do_sample);
    EXPECT_EQ(g.sampling.temperature, 0.5f);
    EXPECT_EQ(g.sampling.top_k, 5);
    EXPECT_EQ(g.sampling.top_p, 0.95f);
    EXPECT_EQ(g.max_new_tokens, 7);
    GenerationRequest sample_cold;
    sample_cold.do_sample = true;
    sample_cold.temperature = 0.0;
    EXPECT_THROW(resolve_generation_options(sample_cold, d, g), Error);
  }
  // No sampling settings (the tiny models' file): HF's defaults, greedy.
  write_config(R"({"bos_token_id": 2, "eos_token_id": 1, "max_new_tokens": 12})");
  {
    const Model model = Model::load(dir.string());
    GenerationOptions g;
    resolve_generation_options({}, read_generation_defaults(model), g);
    EXPECT_FALSE(g.sampling.do_sample);
    EXPECT_EQ(g.sampling.top_k, 50);
    EXPECT_EQ(g.sampling.top_p, 1.0f);
    EXPECT_EQ(g.max_new_tokens, 12);
  }
  // A wrong type names the file and the key.
  write_config(R"({"top_k": "sixty-four"})");
  {
    const Model model = Model::load(dir.string());
    try {
      read_generation_defaults(model);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::USER);
      EXPECT_NE(std::string(e.what()).find("top_k must be an integer"), std::string::npos)
          << e.what();
    }
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tuna
