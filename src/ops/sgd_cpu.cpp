// CPU multi-tensor SGD (see sgd.h): every segment is cut into fixed chunks, and all chunks of
// all segments run in one parallel loop. Updates are elementwise, so the split does not change
// any result.
#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/sgd.h"

namespace tuna::cpu {

namespace {

// Elements per work item; updates are elementwise, so this only sets granularity.
constexpr int64_t kUpdateChunk = 1 << 14;

struct WorkItem {
  int64_t begin, end;
  bool decays, momentum_fresh;
};

}  // namespace

void sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buffer,
                std::span<const SgdSegment> segments, const SgdHyper& hyper) {
  std::vector<WorkItem> items;
  int64_t offset = 0;
  for (const SgdSegment& s : segments) {
    for (int64_t b = offset; b < offset + s.numel; b += kUpdateChunk)
      items.push_back(
          {b, std::min(offset + s.numel, b + kUpdateChunk), s.decays, s.momentum_fresh});
    offset += s.numel;
  }
  const float momentum = static_cast<float>(hyper.momentum);
  const float one_minus_dampening = static_cast<float>(1 - hyper.dampening);
  const float neg_lr = static_cast<float>(-hyper.lr);
  const bool nesterov = hyper.nesterov;
  float* p = param.data_mut<float>();
  const float* g = grad.data<float>();
  float* buf = momentum_buffer.defined() ? momentum_buffer.data_mut<float>() : nullptr;
  // Threads only when there is more than one chunk's work (a lone small tensor stays serial).
  const int64_t count = static_cast<int64_t>(items.size());
#pragma omp parallel for schedule(static) if (offset > kUpdateChunk)
  for (int64_t i = 0; i < count; ++i) {
    const WorkItem& w = items[i];
    const double wd = w.decays ? hyper.weight_decay : 0.0;
    const float wd_f = static_cast<float>(wd);
    const bool first = w.momentum_fresh;
    for (int64_t j = w.begin; j < w.end; ++j) {
      float d = g[j];
      if (wd != 0) d = std::fma(p[j], wd_f, d);
      if (buf != nullptr) {
        buf[j] = first ? d : std::fma(d, one_minus_dampening, buf[j] * momentum);
        d = nesterov ? std::fma(buf[j], momentum, d) : buf[j];
      }
      p[j] = std::fma(d, neg_lr, p[j]);
    }
  }
}

}  // namespace tuna::cpu
