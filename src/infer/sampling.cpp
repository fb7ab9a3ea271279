// Sampling (see sampling.h), following transformers' generation/logits_process.py for each
// processor and warper.
#include "infer/sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_set>

#include "core/rng.h"

namespace tuna {

namespace {
// Philox stream of the sampling draws (distinct from dropout/shuffle streams by construction:
// those mix step/layer into their stream ids; this constant is "samp").
constexpr uint64_t kSamplingStream = 0x73616d70ULL << 32;
}  // namespace

void apply_repetition_penalty(std::vector<float>& logits, const std::vector<int32_t>& context,
                              float penalty) {
  if (penalty == 1.0f) return;
  std::unordered_set<int32_t> seen;
  for (int32_t id : context) {
    if (id < 0 || static_cast<size_t>(id) >= logits.size() || !seen.insert(id).second) continue;
    float& l = logits[static_cast<size_t>(id)];
    l = l < 0.0f ? l * penalty : l / penalty;
  }
}

std::vector<float> sampling_probabilities(const std::vector<float>& logits,
                                          const SamplingConfig& config) {
  const float neg_inf = -std::numeric_limits<float>::infinity();
  const size_t V = logits.size();
  std::vector<float> s(logits);
  if (config.temperature != 1.0f)
    for (float& x : s) x /= config.temperature;
  if (config.top_k > 0 && static_cast<size_t>(config.top_k) < V) {
    std::vector<float> sorted(s);
    std::nth_element(sorted.begin(), sorted.begin() + (config.top_k - 1), sorted.end(),
                     std::greater<float>());
    const float kth = sorted[static_cast<size_t>(config.top_k - 1)];
    for (float& x : s)
      if (x < kth) x = neg_inf;
  }
  auto softmax = [&](const std::vector<float>& in) {
    const float max = *std::max_element(in.begin(), in.end());
    std::vector<float> p(V);
    double sum = 0.0;
    for (size_t i = 0; i < V; ++i) {
      p[i] = in[i] == neg_inf ? 0.0f : std::exp(in[i] - max);
      sum += p[i];
    }
    for (float& x : p) x = static_cast<float>(x / sum);
    return p;
  };
  if (config.top_p < 1.0f) {
    std::vector<float> p = softmax(s);
    std::vector<size_t> order(V);
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return s[a] < s[b]; });
    float cum = 0.0f;
    for (size_t r = 0; r + 1 < V; ++r) {  // the most likely token is always kept
      cum += p[order[r]];
      if (cum <= 1.0f - config.top_p) s[order[r]] = neg_inf;
    }
  }
  if (config.min_p > 0.0f) {
    std::vector<float> p = softmax(s);
    const float threshold = config.min_p * *std::max_element(p.begin(), p.end());
    for (size_t i = 0; i < V; ++i)
      if (p[i] < threshold) s[i] = neg_inf;
  }
  return softmax(s);
}

int32_t argmax_token(const std::vector<float>& logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

int32_t choose_next_token(std::vector<float>& logits, const std::vector<int32_t>& context,
                          const SamplingConfig& config, int64_t step) {
  apply_repetition_penalty(logits, context, config.repetition_penalty);
  if (!config.do_sample) return argmax_token(logits);
  const std::vector<float> p = sampling_probabilities(logits, config);
  const float u = philox_uniform(config.seed, kSamplingStream, static_cast<uint64_t>(step));
  float cum = 0.0f;
  int32_t last = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] <= 0.0f) continue;
    last = static_cast<int32_t>(i);
    cum += p[i];
    if (u < cum) return last;
  }
  return last;  // rounding left u above the total: the last token with mass
}

}  // namespace tuna
