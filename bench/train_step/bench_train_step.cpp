// One LoRA training step of tuna — forward + backward + AdamW (adamw_torch_fused) — on MODEL,
// LoRA r=8 alpha=16 dropout 0 on q,k,v,o,gate,up,down of every layer, a B×T batch of seeded random
// ids (all labelled), after one warm-up step. Prints one JSON line: seconds per step, tokens/s,
// peak RSS, and the time split (forward+backward vs optimizer). bench/train_step/run.sh pairs it
// with PEFT + torch on the same model and thread count. On a GGUF base LoRA trains against the
// stored quantised blocks (dequantised tile by tile inside each matmul). qlora=1 builds what the
// peer's QLoRA run has: every weight dequantised to F32 (transformers' GGUF loader), then the
// seven projections quantised to NF4 with double quant (load_in_4bit; embedding/head stay F32).
// full=1 trains every weight instead (use_peft: false — F32 masters dequantised from the GGUF,
// AdamW over all of them, the tied LM head trained through the 256-row logit chunks).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "core/error.h"
#include "core/memory.h"
#include "core/rng.h"
#include "core/threads.h"
#include "model/block.h"
#include "model/model.h"
#include "model/train_step.h"
#include "ops/dequantize.h"
#include "ops/gemm_bf16.h"
#include "ops/quant_bnb4.h"
#include "train/config.h"
#include "train/memory_estimate.h"
#include "train/optimizer.h"
#include "train/trainable_set.h"

namespace {

// An owned F32 copy of a weight in any stored format (F32 weights are returned as they are).
tuna::Tensor dequantized(const tuna::Tensor& t) {
  if (!t.defined() || t.dtype() == tuna::DType::F32) return t;
  tuna::Tensor out = tuna::Tensor::empty(t.shape(), tuna::DType::F32);
  tuna::dequantize_rows(t, 0, t.numel() / t.dim(-1), out.data_mut<float>());
  return out;
}

// The QLoRA base: every weight F32 (transformers' GGUF loader), then load_in_4bit (nf4, double
// quant, compute float32) on the seven projections. Each projection is dequantised and quantised
// in turn, so only one F32 projection exists at a time (embedding/head stay F32, as on the peer).
tuna::ModelWeights qlora_base(const tuna::ModelWeights& stored, int threads) {
  tuna::ModelWeights w = stored;
  const bool tied = w.lm_head.raw() == w.embed.raw();
  w.embed = dequantized(w.embed);
  w.lm_head = tied ? w.embed : dequantized(w.lm_head);
  tuna::Bnb4bitParams params;
  params.type = tuna::Bnb4Type::NF4;
  params.double_quant = true;
  params.offset_threads = threads;
  for (tuna::LayerWeights& l : w.layers)
    for (tuna::Tensor* t : {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down})
      *t = tuna::quantize_weight_4bit(dequantized(*t), params);
  return w;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: bench_train_step MODEL [batch=4] [seq=256] [steps=3] [threads=0] "
                 "[checkpointing=0] [qlora=0] [full=0] [bf16=0]\n");
    return 2;
  }
  const int64_t B = argc > 2 ? std::atoll(argv[2]) : 4;
  const int64_t T = argc > 3 ? std::atoll(argv[3]) : 256;
  const int steps = argc > 4 ? std::atoi(argv[4]) : 3;
  const int threads = argc > 5 ? std::atoi(argv[5]) : 0;
  const bool checkpointing = argc > 6 && std::atoi(argv[6]) != 0;
  const bool qlora = argc > 7 && std::atoi(argv[7]) != 0;
  const bool full = argc > 8 && std::atoi(argv[8]) != 0;
  // bf16: the projections' and the LM head's GEMMs in BF16 (gemm_bf16.h), as `bf16: true` trains.
  const bool bf16 = argc > 9 && std::atoi(argv[9]) != 0;
  if (bf16 && !tuna::bf16_matmul_available()) {
    std::fprintf(stderr, "bench_train_step: bf16 needs a CPU with AVX512-BF16\n");
    return 2;
  }
  const tuna::Bf16MatmulScope bf16_scope(bf16);
  if (full && qlora) {
    std::fprintf(stderr,
                 "bench_train_step: qlora and full are exclusive (4-bit weights do not "
                 "train in full)\n");
    return 2;
  }
  try {
    tuna::set_num_threads(threads);
    tuna::check_blas_backend();
    tuna::keep_freed_memory_for_reuse();  // as tuna train does
    tuna::Model model = tuna::Model::load(argv[1]);
    const tuna::ModelWeights w =
        qlora ? qlora_base(model.weights(), tuna::num_threads()) : model.weights();
    std::vector<tuna::LoraAdapter> adapters;
    tuna::TrainableSet full_set;  // full: masters, gradients and named params, as tuna train
    if (full)
      full_set = tuna::make_trainable_set(
          tuna::parse_train_config(std::string("model: ") + argv[1] + "\nuse_peft: false\n",
                                   "bench.yaml"),
          model, argv[1]);
    const int64_t r = 8;
    for (size_t l = 0; !full && l < w.layers.size(); ++l) {
      const tuna::LayerWeights& lw = w.layers[l];
      const std::pair<tuna::LoraTarget, const tuna::Tensor*> targets[] = {
          {tuna::LoraTarget::Q, &lw.q},       {tuna::LoraTarget::K, &lw.k},
          {tuna::LoraTarget::V, &lw.v},       {tuna::LoraTarget::O, &lw.o},
          {tuna::LoraTarget::GATE, &lw.gate}, {tuna::LoraTarget::UP, &lw.up},
          {tuna::LoraTarget::DOWN, &lw.down}};
      for (const auto& [target, t] : targets) {
        tuna::LoraAdapter a;
        a.layer = static_cast<int>(l);
        a.target = target;
        a.module = "layer" + std::to_string(l) + "." + std::to_string(static_cast<int>(target));
        a.out = t->dim(0);
        a.in = t->dim(1);
        a.r = r;
        a.scale = 16.0f / static_cast<float>(r);
        a.a = tuna::Tensor::empty({r, a.in}, tuna::DType::F32);
        const float bound = 1.0f / std::sqrt(static_cast<float>(a.in));
        for (int64_t k = 0; k < r * a.in; ++k)
          a.a.data_mut<float>()[k] = (2 * tuna::philox_uniform(1, adapters.size(), k) - 1) * bound;
        a.b = tuna::Tensor::zeros({a.out, r}, tuna::DType::F32);
        a.grad_a = tuna::Tensor::zeros(a.a.shape(), tuna::DType::F32);
        a.grad_b = tuna::Tensor::zeros(a.b.shape(), tuna::DType::F32);
        adapters.push_back(std::move(a));
      }
    }
    std::vector<tuna::TrainableParam> params = full_set.params;
    int64_t trainable = full_set.trainable_parameters;
    for (tuna::LoraAdapter& a : adapters) {
      params.push_back({a.module + ".A", a.a, a.grad_a, true});
      params.push_back({a.module + ".B", a.b, a.grad_b, true});
      trainable += a.a.numel() + a.b.numel();
    }
    tuna::OptimizerOptions oo;
    auto opt = tuna::make_optimizer("adamw_torch_fused", params, oo);
    tuna::TrainBatch batch;
    batch.B = B;
    batch.T = T;
    std::mt19937 rng(1234);
    std::uniform_int_distribution<int32_t> dist(1000, 199999);
    for (int64_t i = 0; i < B * T; ++i) batch.ids.push_back(i % T == 0 ? 2 : dist(rng));
    batch.labels = batch.ids;
    double fb_secs = 0, opt_secs = 0, loss = 0;
    tuna::ActivationWorkspace workspace;  // as tuna train: allocated once, kept across steps
    auto step = [&](int64_t s, bool timed) {
      for (auto& p : params) std::fill_n(p.grad.data_mut<float>(), p.grad.numel(), 0.0f);
      tuna::StepOptions o;
      o.grad_scale = 1.0f / static_cast<float>(B * (T - 1));
      o.gradient_checkpointing = checkpointing;
      o.step = static_cast<uint64_t>(s);
      o.workspace = &workspace;
      auto t0 = std::chrono::steady_clock::now();
      tuna::StepResult res = full ? tuna::forward_backward(model, full_set.weights, &adapters,
                                                           &full_set.grads, batch, o)
                                  : tuna::forward_backward(model, w, &adapters, nullptr, batch, o);
      auto t1 = std::chrono::steady_clock::now();
      opt->step(1e-4);
      auto t2 = std::chrono::steady_clock::now();
      if (timed) {
        fb_secs += std::chrono::duration<double>(t1 - t0).count();
        opt_secs += std::chrono::duration<double>(t2 - t1).count();
      }
      loss = res.loss_sum / static_cast<double>(res.n_counted);
    };
    step(0, false);
    for (int s = 1; s <= steps; ++s) step(s, true);
    const double secs = (fb_secs + opt_secs) / steps;
    std::printf(
        "{\"impl\": \"tuna\", \"model\": \"%s\", \"batch\": %lld, \"seq\": %lld, \"threads\": %d, "
        "\"gradient_checkpointing\": %s, \"qlora\": %s, \"full\": %s, \"bf16\": %s, "
        "\"seconds_per_step\": %.4f, "
        "\"tokens_per_second\": %.2f, "
        "\"forward_backward_seconds\": %.4f, \"optimizer_seconds\": %.4f, \"loss\": %.4f, "
        "\"trainable\": %lld, \"estimated_mb\": %.1f, \"peak_rss_mb\": %.1f}\n",
        argv[1], static_cast<long long>(B), static_cast<long long>(T), tuna::num_threads(),
        checkpointing ? "true" : "false", qlora ? "true" : "false", full ? "true" : "false",
        bf16 ? "true" : "false", secs,
        static_cast<double>(B * T) / secs, fb_secs / steps, opt_secs / steps, loss,
        static_cast<long long>(trainable),
        static_cast<double>(tuna::estimate_training_memory(model, adapters, B * T, checkpointing,
                                                           8.0, full ? trainable : 0, full)
                                .total()) /
            (1024.0 * 1024.0),
        static_cast<double>(tuna::peak_rss_bytes()) / (1024.0 * 1024.0));
    return 0;
  } catch (const tuna::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.exit_status();
  }
}
