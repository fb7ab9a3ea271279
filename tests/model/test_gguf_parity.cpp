// Parity on the real model (issue 3 item 6; DESIGN.md §8 "Numerics references"): tuna's forward
// on models/gemma-3-270m-q4_k_m.gguf against the gating reference — transformers in F32, eager
// attention, on the same GGUF weights dequantized to F32 — over ≥ 1,100 tokens of English and
// Korean text (the 512-token sliding window is crossed). Golden: tests/golden/gguf_parity/
// (tools/reference/make_gguf_parity.py; README.md there). Gate: max |Δ log-prob of the actual next
// token| ≤ 1e-3 and the same argmax wherever the reference's top-2 gap exceeds 1e-3. llama.cpp's
// figures are recorded in the golden's manifest, not gated here.
//
// The real model comes from scripts/setup.sh; without it these tests fail (never skip).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "infer/kv_decoder.h"
#include "model/model.h"
#include "ops/quant_dot.h"

namespace tuna {
namespace {

const std::string kGolden = std::string(TUNA_GOLDEN_DIR) + "/gguf_parity";
constexpr double kMaxAbsDelta = 1e-3;  // |Δ log-prob| of the actual next token
constexpr double kGapForArgmax =
    1e-3;                        // argmax must agree where the reference top-2 gap exceeds this
constexpr int64_t kChunk = 256;  // logits rows held at once ([256, 262144] F32 = 256 MiB)
double g_logits_rows_s = 0.0;    // time spent in Model::logits_rows

std::string model_path() {
  return (std::filesystem::path(TUNA_GOLDEN_DIR) / ".." / ".." / "models" /
          "gemma-3-270m-q4_k_m.gguf")
      .lexically_normal()
      .string();
}

std::string read_gz(const std::string& path) {
  // Through `gzip -dc`, as the tokenizer tests do, so the tests need no zlib.
  const std::string cmd = "gzip -dc '" + path + "'";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) throw std::runtime_error("cannot run " + cmd);
  std::string out;
  char buf[1 << 16];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  if (pclose(p) != 0) throw std::runtime_error("failed: " + cmd);
  return out;
}

struct Golden {
  std::vector<int32_t> ids;
  std::vector<double> next_logprob;               // [T-1]
  std::vector<std::vector<int32_t>> top_ids;      // [T][5]
  std::vector<std::vector<double>> top_logprobs;  // [T][5]
  std::vector<double> gap;                        // [T]
};

Golden load_golden() {
  const nlohmann::json j = nlohmann::json::parse(read_gz(kGolden + "/reference.json.gz"));
  Golden g;
  g.ids = j.at("ids").get<std::vector<int32_t>>();
  g.next_logprob = j.at("next_logprob").get<std::vector<double>>();
  g.top_ids = j.at("top_ids").get<std::vector<std::vector<int32_t>>>();
  g.top_logprobs = j.at("top_logprobs").get<std::vector<std::vector<double>>>();
  g.gap = j.at("top2_gap").get<std::vector<double>>();
  return g;
}

// What tuna says at each position: log-prob (F64 log-softmax of the F32 logits) of the actual next
// token, the argmax, and its log-probs of the reference's top-5 ids.
struct Observed {
  std::vector<double> next_logprob;         // [T-1]
  std::vector<int32_t> argmax;              // [T]
  std::vector<std::vector<double>> top_lp;  // [T][5], at the reference's top-5 ids
};

// Position r's figures from its logits x[V].
void observe_row(const float* x, int64_t V, const Golden& g, int64_t r, Observed& o) {
  const int64_t T = static_cast<int64_t>(g.ids.size());
  int64_t best = 0;
  for (int64_t v = 1; v < V; ++v)
    if (x[v] > x[best]) best = v;
  double sum = 0.0;
  const double mx = x[best];
  for (int64_t v = 0; v < V; ++v) sum += std::exp(static_cast<double>(x[v]) - mx);
  const double log_z = mx + std::log(sum);
  const auto i = static_cast<size_t>(r);
  o.argmax[i] = static_cast<int32_t>(best);
  for (size_t k = 0; k < g.top_ids[i].size(); ++k)
    o.top_lp[i][k] = static_cast<double>(x[g.top_ids[i][k]]) - log_z;
  if (r + 1 < T) o.next_logprob[i] = static_cast<double>(x[g.ids[i + 1]]) - log_z;
}

void observe_rows(const Model& model, const Tensor& hidden, const Golden& g, int64_t r0, int64_t r1,
                  Observed& o) {
  const int64_t V = model.spec().vocab;
  for (int64_t c0 = r0; c0 < r1; c0 += kChunk) {
    const int64_t c1 = std::min(r1, c0 + kChunk);
    auto ta = std::chrono::steady_clock::now();
    Tensor logits = model.logits_rows(hidden, c0, c1);
    g_logits_rows_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - ta).count();
    for (int64_t r = c0; r < c1; ++r) observe_row(logits.data<float>() + (r - c0) * V, V, g, r, o);
  }
}

Observed make_observed(int64_t T) {
  Observed o;
  o.next_logprob.assign(static_cast<size_t>(T - 1), std::nan(""));
  o.argmax.assign(static_cast<size_t>(T), -1);
  o.top_lp.assign(static_cast<size_t>(T), std::vector<double>(5, std::nan("")));
  return o;
}

struct Figures {
  double max_abs = 0.0, mean_abs = 0.0, max_top5 = 0.0;
  int64_t worst_pos = -1, scored = 0;
  int64_t argmax_checked = 0, argmax_agree = 0, argmax_agree_all = 0, positions = 0;
  std::vector<int64_t> argmax_failures;  // positions with gap > 1e-3 and a different argmax
  bool pass() const { return max_abs <= kMaxAbsDelta && argmax_failures.empty(); }
};

// The gate, over positions [r0, r1) (next-token figures over r < T-1).
Figures compare(const Golden& g, const std::vector<double>& ref_next, const Observed& o, int64_t r0,
                int64_t r1) {
  Figures f;
  const int64_t T = static_cast<int64_t>(g.ids.size());
  double sum = 0.0;
  for (int64_t r = r0; r < r1; ++r) {
    const size_t i = static_cast<size_t>(r);
    if (r + 1 < T) {
      const double d = std::fabs(o.next_logprob[i] - ref_next[i]);
      if (!(d <= f.max_abs)) {  // NaN propagates as a failure
        f.max_abs = d;
        f.worst_pos = r;
      }
      sum += d;
      ++f.scored;
    }
    for (size_t k = 0; k < o.top_lp[i].size(); ++k) {
      const double d = std::fabs(o.top_lp[i][k] - g.top_logprobs[i][k]);
      if (!(d <= f.max_top5)) f.max_top5 = d;
    }
    ++f.positions;
    const bool same = o.argmax[i] == g.top_ids[i][0];
    f.argmax_agree_all += same;
    if (g.gap[i] > kGapForArgmax) {
      ++f.argmax_checked;
      f.argmax_agree += same;
      if (!same) f.argmax_failures.push_back(r);
    }
  }
  f.mean_abs = f.scored > 0 ? sum / static_cast<double>(f.scored) : 0.0;
  return f;
}

void print(const char* what, const Figures& f) {
  std::printf(
      "  %s: max|dlogprob| %.3g (position %lld), mean %.3g over %lld positions; max|dlogprob| of "
      "reference top-5 %.3g; argmax agrees at %lld/%lld positions with top-2 gap > 1e-3, %lld/%lld "
      "overall\n",
      what, f.max_abs, static_cast<long long>(f.worst_pos), f.mean_abs,
      static_cast<long long>(f.scored), f.max_top5, static_cast<long long>(f.argmax_agree),
      static_cast<long long>(f.argmax_checked), static_cast<long long>(f.argmax_agree_all),
      static_cast<long long>(f.positions));
}

const Golden& golden() {
  static const Golden g = load_golden();
  return g;
}

// The real model, loaded once per process (mmap; ~0.1 s). Null with `error` set when it is
// missing or not the file the golden was made from.
const Model* real_model(std::string& error) {
  static std::unique_ptr<Model> model;
  static std::string why;
  static std::once_flag once;
  std::call_once(once, [] {
    const std::string path = model_path();
    if (!std::filesystem::is_regular_file(path)) {
      why = path + " is missing: run scripts/setup.sh (it fetches the real Gemma 3 270M GGUF)";
      return;
    }
    std::ifstream mf(kGolden + "/manifest.json");
    const nlohmann::json model_info = nlohmann::json::parse(mf).at("inputs").at("model");
    const auto want = model_info.at("bytes").get<std::uintmax_t>();
    const auto have = std::filesystem::file_size(path);
    if (have != want) {
      why = path + " is not the GGUF the golden was made from (" + std::to_string(have) +
            " bytes, expected " + std::to_string(want) + ", sha256 " +
            model_info.at("sha256").get<std::string>() + "): run scripts/setup.sh";
      return;
    }
    model = std::make_unique<Model>(Model::load(path));
  });
  error = why;
  return model.get();
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// tuna's forward over the first `n` golden ids (positions: empty = 0..n-1), observed at rows
// [r0, r1). `scale_from` ≥ 0 multiplies hidden rows from that one on by `scale` before the LM head.
Observed run_tuna(const Model& model, int64_t n, const std::vector<int32_t>& positions, int64_t r0,
                  int64_t r1, int64_t scale_from = -1, float scale = 1.0f) {
  const Golden& g = golden();
  Batch batch;
  batch.B = 1;
  batch.T = n;
  batch.ids.assign(g.ids.begin(), g.ids.begin() + n);
  batch.positions = positions;
  const auto t0 = std::chrono::steady_clock::now();
  Tensor hidden = model.forward_hidden(batch);
  const double forward_s = seconds_since(t0);
  if (scale_from >= 0) {
    float* p = hidden.data_mut<float>();
    for (int64_t i = scale_from * hidden.dim(1); i < hidden.numel(); ++i) p[i] *= scale;
  }
  Observed o = make_observed(static_cast<int64_t>(g.ids.size()));
  g_logits_rows_s = 0.0;
  const auto t1 = std::chrono::steady_clock::now();
  observe_rows(model, hidden, g, r0, r1, o);
  std::printf(
      "  %lld tokens: forward_hidden %.2f s; %lld rows of logits + log-softmax %.2f s (logits_rows "
      "%.2f s)\n",
      static_cast<long long>(n), forward_s, static_cast<long long>(r1 - r0), seconds_since(t1),
      g_logits_rows_s);
  return o;
}

TEST(GgufParity, GoldenIsComplete) {
  const Golden& g = golden();
  const size_t T = g.ids.size();
  ASSERT_GE(T, 1100u) << "the text must cross the 512-token sliding window twice";
  EXPECT_EQ(g.ids[0], 2) << "BOS first";
  EXPECT_EQ(g.next_logprob.size(), T - 1);
  EXPECT_EQ(g.top_ids.size(), T);
  EXPECT_EQ(g.top_logprobs.size(), T);
  EXPECT_EQ(g.gap.size(), T);
  for (size_t t = 0; t < T; ++t) {
    ASSERT_EQ(g.top_ids[t].size(), 5u);
    ASSERT_EQ(g.top_logprobs[t].size(), 5u);
  }
}

// The gate: one forward over all golden ids.
TEST(GgufParity, Gemma3_270mMatchesTransformersF32) {
  std::string error;
  const Model* model = real_model(error);
  if (model == nullptr) FAIL() << error;
  const Golden& g = golden();
  const int64_t T = static_cast<int64_t>(g.ids.size());
  const Observed o = run_tuna(*model, T, {}, 0, T);
  const Figures all = compare(g, g.next_logprob, o, 0, T);
  print("all positions", all);
  print("positions >= 512 (window crossed)", compare(g, g.next_logprob, o, 512, T));
  EXPECT_LE(all.max_abs, kMaxAbsDelta) << "worst at position " << all.worst_pos << " (next id "
                                       << g.ids[static_cast<size_t>(all.worst_pos + 1)] << ")";
  EXPECT_TRUE(all.argmax_failures.empty())
      << all.argmax_failures.size()
      << " positions with a top-2 gap > 1e-3 have a different argmax, first "
      << all.argmax_failures.front();
}

// The decoding fast path (8-bit activations, ops/quant_dot.h) against the same reference, fed
// as generation feeds it: BOS as the prefill (exact), then every later token through the KV
// cache under Int8ActivationScope — one token per step (the batch-1 kernels) and eight per pass
// (the lane kernels that batched decoding uses). Issue 13 item 2: its deviation from F32 must be
// no worse than llama.cpp's own on the same inputs, recorded in the golden's manifest
// (llama-cpp-python, which rounds activations to 8 bits the same way).
TEST(GgufParity, FastDecodingDeviatesNoMoreThanLlamaCpp) {
  std::string error;
  const Model* model = real_model(error);
  if (model == nullptr) FAIL() << error;
  const Golden& g = golden();
  const int64_t T = static_cast<int64_t>(g.ids.size()), V = model->spec().vocab;
  std::ifstream mf(kGolden + "/manifest.json");
  const nlohmann::json peer = nlohmann::json::parse(mf).at("llama_cpp");
  const double peer_max = peer.at("max_abs_dlogprob_next").get<double>();
  const double peer_mean = peer.at("mean_abs_dlogprob_next").get<double>();
  const double peer_top1 = peer.at("top1_agreement").get<double>();
  std::printf("  llama.cpp: max|dlogprob| %.3g, mean %.3g, argmax agrees at %.4f of positions\n",
              peer_max, peer_mean, peer_top1);
  for (int64_t per_pass : {int64_t{1}, int64_t{8}}) {
    KvDecoder dec(*model);
    Observed o = make_observed(T);
    observe_row(dec.feed({g.ids[0]}).data<float>(), V, g, 0, o);
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t t = 1; t < T; t += per_pass) {
      const int64_t end = std::min(T, t + per_pass);
      const Int8ActivationScope fast(true);
      const Tensor logits = dec.feed(std::vector<int32_t>(g.ids.begin() + t, g.ids.begin() + end));
      for (int64_t r = t; r < end; ++r) observe_row(logits.data<float>() + (r - t) * V, V, g, r, o);
    }
    const Figures f = compare(g, g.next_logprob, o, 0, T);
    const std::string what = "fast path, " + std::to_string(per_pass) + " token(s) per pass";
    print(what.c_str(), f);
    std::printf("  (%.1f s)\n", seconds_since(t0));
    const double top1 = static_cast<double>(f.argmax_agree_all) / static_cast<double>(f.positions);
    EXPECT_LE(f.max_abs, peer_max) << what;
    EXPECT_LE(f.mean_abs, peer_mean) << what;
    EXPECT_GE(top1, peer_top1) << what;
    // And it is the fast path: not the exact path's figures (≤ 1e-3, the gate above).
    EXPECT_GT(f.max_abs, kMaxAbsDelta) << what;
  }
}

// --- the comparison can fail -----------------------------------------------------------------
// (Each test runs in its own process under ctest, so the model-level ones below run their own,
// shorter forwards: 640 tokens, past the first window boundary.)

// The gate itself: the reference against itself passes; shifted by 2e-3 at a single position
// (the last one, past every window boundary) it fails — an error twice the tolerance at one token
// in 1,294 is seen.
TEST(GgufParityBroken, ReferenceShiftedAtOnePosition) {
  const Golden& g = golden();
  const int64_t T = static_cast<int64_t>(g.ids.size());
  Observed self = make_observed(T);
  self.next_logprob = g.next_logprob;
  self.top_lp = g.top_logprobs;
  for (int64_t t = 0; t < T; ++t)
    self.argmax[static_cast<size_t>(t)] = g.top_ids[static_cast<size_t>(t)][0];
  EXPECT_TRUE(compare(g, g.next_logprob, self, 0, T).pass());
  std::vector<double> shifted = g.next_logprob;
  shifted.back() += 2e-3;
  const Figures f = compare(g, shifted, self, 0, T);
  print("reference + 2e-3 at the last position", f);
  EXPECT_FALSE(f.pass());
  EXPECT_EQ(f.worst_pos, T - 2);
}

// tuna's own logits from a hidden state that is off by 1% (as a wrong final-norm scale would
// make it) on positions 512..639 must fail the gate.
TEST(GgufParityBroken, HiddenStateScaledByOnePercent) {
  std::string error;
  const Model* model = real_model(error);
  if (model == nullptr) FAIL() << error;
  const Observed o = run_tuna(*model, 640, {}, 512, 640, 512, 1.01f);
  const Figures f = compare(golden(), golden().next_logprob, o, 512, 640);
  print("hidden x 1.01 (positions 512..639)", f);
  EXPECT_FALSE(f.pass());
  EXPECT_GT(f.max_abs, 10 * kMaxAbsDelta);
}

// A model-level fault through tuna's real forward: RoPE fed positions 2·t (as a wrong rope scale
// would); positions 384..639 must fail the gate.
TEST(GgufParityBroken, RopePositionsDoubled) {
  std::string error;
  const Model* model = real_model(error);
  if (model == nullptr) FAIL() << error;
  const int64_t n = 640;
  std::vector<int32_t> positions(static_cast<size_t>(n));
  for (int64_t t = 0; t < n; ++t) positions[static_cast<size_t>(t)] = static_cast<int32_t>(2 * t);
  const Observed o = run_tuna(*model, n, positions, 384, n);
  const Figures f = compare(golden(), golden().next_logprob, o, 384, n);
  print("RoPE positions 2t (positions 384..639)", f);
  EXPECT_FALSE(f.pass());
  EXPECT_GT(f.max_abs, 10 * kMaxAbsDelta);
}

}  // namespace
}  // namespace tuna
