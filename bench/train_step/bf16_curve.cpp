// tuna side of the recorded BF16 check on the real Gemma 3 270M (bench/train_step/bf16_curve.sh;
// a script, not a CI test). From the peer's output directory (tools/reference/
// bf16_real_model_check.py: PEFT's init adapter, the rows in consumed order, HF's bf16 and F32
// curves and final adapters) it replays HF's 20 Trainer steps on the GGUF's own blocks, once with
// BF16 products (Bf16MatmulScope, what `bf16: true` does) and once in F32, as
// tests/train/trainer_golden_util.h does for the tiny goldens, and prints per step and at worst:
//   (a) HF bf16 vs HF F32, (b) tuna bf16 vs HF bf16, (c) tuna F32 vs HF bf16,
// plus tuna F32 vs HF F32 (F32 parity on the real model). Then it greedy-decodes the held-out
// prompts through tuna's generation (exact mode, adapters applied on the fly) with tuna's and HF's
// bf16 final adapters (and the F32 pair, and HF's bf16 against HF's F32, for reference) and
// counts identical answers. Writes tuna_result.json into the directory. No gate: the figures are
// recorded (docs/training.md).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/model_handle.h"
#include "core/mmap_file.h"
#include "core/threads.h"
#include "infer/generation.h"
#include "lora/adapter_io.h"
#include "model/model.h"
#include "model/train_step.h"
#include "ops/gemm_bf16.h"
#include "train/trainer.h"

namespace {

using nlohmann::json;
using namespace tuna;

struct TrainRun {
  std::vector<StepLog> logs;
  std::vector<LoraAdapter> adapters;
};

// HF's run replayed: the init adapter, the rows in consumed order, the TrainingArguments of
// curve.json; bf16: every forward/backward under Bf16MatmulScope (made inside the gradient
// function: the scope belongs to the thread that runs forward_backward).
TrainRun train_like_hf(const Model& model, const std::string& dir, const json& args,
                       const std::vector<TrainRow>& rows, bool bf16) {
  TrainRun run;
  run.adapters = load_peft_adapter(dir + "/init", model).adapters;
  TrainerArgs t;
  t.per_device_train_batch_size = args["per_device_train_batch_size"];
  t.gradient_accumulation_steps = args["gradient_accumulation_steps"];
  t.max_steps = args["max_steps"];
  t.learning_rate = args["learning_rate"];
  t.lr_scheduler_type = args["lr_scheduler_type"];
  t.warmup_steps = args["warmup_steps"];
  t.max_grad_norm = args["max_grad_norm"];
  t.optim = args["optim"];
  t.optimizer.weight_decay = args["weight_decay"];
  std::vector<TrainableParam> params;
  for (LoraAdapter& ad : run.adapters) {  // PEFT's parameter order: per module, A then B
    params.push_back({ad.module + ".lora_A.weight", ad.a, ad.grad_a, true});
    params.push_back({ad.module + ".lora_B.weight", ad.b, ad.grad_b, true});
  }
  Trainer trainer(t, params, [&](const MicroBatch& mb, float grad_scale, int64_t step, int micro) {
    const Bf16MatmulScope precision(bf16);
    StepOptions o;
    o.grad_scale = grad_scale;
    o.step = static_cast<uint64_t>(step);
    o.micro = static_cast<uint64_t>(micro);
    StepResult r =
        forward_backward(model, model.weights(), &run.adapters, nullptr, to_train_batch(mb), o);
    return MicroStats{r.loss_sum, r.n_counted, r.n_correct};
  });
  run.logs = trainer.train(rows, [&](const StepLog& s) {
    std::fprintf(stderr, "  %s step %lld loss %.6f grad_norm %.5f\n", bf16 ? "bf16" : "f32",
                 static_cast<long long>(s.step), s.loss, s.grad_norm);
  });
  return run;
}

// The worst over the adapters' A and B tensors of max|got − ref| / max|ref|.
double worst_adapter_difference(const std::vector<LoraAdapter>& got,
                                const std::vector<LoraAdapter>& ref) {
  if (got.size() != ref.size()) {
    std::fprintf(stderr, "bf16_curve: %zu adapters vs %zu\n", got.size(), ref.size());
    std::exit(70);
  }
  double worst = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (got[i].module != ref[i].module) {
      std::fprintf(stderr, "bf16_curve: module %s vs %s\n", got[i].module.c_str(),
                   ref[i].module.c_str());
      std::exit(70);
    }
    for (int which = 0; which < 2; ++which) {
      const Tensor& r = which == 0 ? ref[i].a : ref[i].b;
      const Tensor& g = which == 0 ? got[i].a : got[i].b;
      double md = 0, mr = 0;
      for (int64_t k = 0; k < r.numel(); ++k) {
        md = std::max(md, static_cast<double>(std::abs(g.data<float>()[k] - r.data<float>()[k])));
        mr = std::max(mr, static_cast<double>(std::abs(r.data<float>()[k])));
      }
      worst = std::max(worst, md / mr);
    }
  }
  return worst;
}

struct Worst {
  double loss = 0, grad_norm = 0;
};

double rel(double got, double ref) {
  return std::abs(got - ref) / std::abs(ref);
}

// Worst over the first `count` steps (all when count is 0).
Worst worst_of(const std::vector<double>& gl, const std::vector<double>& gn,
               const std::vector<double>& rl, const std::vector<double>& rn, size_t count = 0) {
  Worst w;
  for (size_t i = 0; i < (count ? count : rl.size()); ++i) {
    w.loss = std::max(w.loss, rel(gl[i], rl[i]));
    w.grad_norm = std::max(w.grad_norm, rel(gn[i], rn[i]));
  }
  return w;
}

struct Agreement {
  int same = 0;
  json per_prompt = json::array();
};

// Greedy answers of adapters x and y on every prompt (exact generation, F32 activations); the
// number of identical id sequences and, where they differ, the first differing position.
Agreement compare_answers(const Model& model, const Tokenizer& tok, const json& heldout,
                          const std::vector<LoraAdapter>& x, const std::vector<LoraAdapter>& y,
                          const char* xname, const char* yname, int64_t max_new_tokens) {
  GenerationOptions o;
  o.sampling.do_sample = false;
  o.max_new_tokens = max_new_tokens;
  o.eos_ids = generation_eos_ids(model, tok);
  o.exact = true;
  Agreement agree;
  for (const json& h : heldout) {
    const std::vector<int32_t> prompt = h["prompt_ids"].get<std::vector<int32_t>>();
    const Generation gx = generate(model, nullptr, &x, tok, prompt, o);
    const Generation gy = generate(model, nullptr, &y, tok, prompt, o);
    json p = {{"instruction", h["instruction"]},
              {xname, gx.text},
              {yname, gy.text},
              {"identical", gx.ids == gy.ids}};
    if (gx.ids == gy.ids) {
      ++agree.same;
    } else {
      size_t k = 0;
      while (k < gx.ids.size() && k < gy.ids.size() && gx.ids[k] == gy.ids[k]) ++k;
      p["first_difference"] = k;
      p[std::string(xname) + "_token"] = k < gx.ids.size() ? tok.id_to_piece(gx.ids[k]) : "(end)";
      p[std::string(yname) + "_token"] = k < gy.ids.size() ? tok.id_to_piece(gy.ids[k]) : "(end)";
    }
    std::printf("  [%s] %-40s %s: %s | %s: %s\n", gx.ids == gy.ids ? "same" : "DIFF",
                h["instruction"].get<std::string>().c_str(), xname, json(gx.text).dump().c_str(),
                yname, json(gy.text).dump().c_str());
    agree.per_prompt.push_back(p);
  }
  return agree;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: bf16_curve PEER_DIR MODEL.gguf [threads=2] [max_new_tokens=32]\n"
                 "  PEER_DIR: the output of tools/reference/bf16_real_model_check.py\n");
    return 2;
  }
  const std::string dir = argv[1], model_path = argv[2];
  const int threads = argc > 3 ? std::atoi(argv[3]) : 2;
  const int64_t max_new_tokens = argc > 4 ? std::atoll(argv[4]) : 32;
  if (!bf16_matmul_available()) {
    std::fprintf(stderr,
                 "bf16_curve: needs a CPU with AVX512-BF16 (and a build with its kernels)\n");
    return 2;
  }
  set_num_threads(threads);
  const json curve = json::parse(read_file_bytes(dir + "/curve.json"));
  const json data = json::parse(read_file_bytes(dir + "/data.json"));
  const json heldout = json::parse(read_file_bytes(dir + "/heldout.json"));
  const Model model = Model::load(model_path);
  const Tokenizer tok = load_model_tokenizer(model_path);
  std::vector<TrainRow> rows;
  for (const json& r : data)
    rows.push_back(
        {r["input_ids"].get<std::vector<int32_t>>(), r["labels"].get<std::vector<int32_t>>()});

  const TrainRun b16 = train_like_hf(model, dir, curve["args"], rows, true);
  const TrainRun f32 = train_like_hf(model, dir, curve["args"], rows, false);
  const json& hs = curve["steps"];
  const json& hs32 = curve["steps_f32"];
  const size_t n = hs.size();
  if (b16.logs.size() != n || f32.logs.size() != n || hs32.size() != n) {
    std::fprintf(stderr, "bf16_curve: %zu tuna steps, %zu HF steps\n", b16.logs.size(), n);
    return 70;
  }
  std::vector<double> hl, hn, hl32, hn32, tl, tn, tl32, tn32;
  for (size_t i = 0; i < n; ++i) {
    // The same schedule and batches as HF's: otherwise the comparison means nothing.
    if (b16.logs[i].num_items_in_batch != hs[i]["num_items_in_batch"].get<int64_t>() ||
        rel(b16.logs[i].lr_used, hs[i]["lr"].get<double>()) > 1e-9) {
      std::fprintf(stderr, "bf16_curve: step %zu: batch or lr differs from HF's\n", i + 1);
      return 70;
    }
    hl.push_back(hs[i]["loss"]), hn.push_back(hs[i]["grad_norm"]);
    hl32.push_back(hs32[i]["loss"]), hn32.push_back(hs32[i]["grad_norm"]);
    tl.push_back(b16.logs[i].loss), tn.push_back(b16.logs[i].grad_norm);
    tl32.push_back(f32.logs[i].loss), tn32.push_back(f32.logs[i].grad_norm);
  }
  std::printf(
      "per step: loss (HF bf16, HF F32, tuna bf16, tuna F32) and relative differences "
      "(a) HF F32 vs HF bf16, (b) tuna bf16 vs HF bf16, (c) tuna F32 vs HF bf16; then the "
      "same for the grad norm\n");
  json steps = json::array();
  for (size_t i = 0; i < n; ++i) {
    std::printf(
        "%2zu loss %.5f %.5f %.5f %.5f  a %.1e b %.1e c %.1e | gn %.4f %.4f %.4f %.4f  a %.1e b "
        "%.1e c %.1e\n",
        i + 1, hl[i], hl32[i], tl[i], tl32[i], rel(hl32[i], hl[i]), rel(tl[i], hl[i]),
        rel(tl32[i], hl[i]), hn[i], hn32[i], tn[i], tn32[i], rel(hn32[i], hn[i]), rel(tn[i], hn[i]),
        rel(tn32[i], hn[i]));
    steps.push_back({{"step", i + 1},
                     {"tuna_bf16", {{"loss", tl[i]}, {"grad_norm", tn[i]}}},
                     {"tuna_f32", {{"loss", tl32[i]}, {"grad_norm", tn32[i]}}}});
  }
  const std::vector<LoraAdapter> hf16 = load_peft_adapter(dir + "/final", model).adapters;
  const std::vector<LoraAdapter> hf32 = load_peft_adapter(dir + "/final_f32", model).adapters;
  const Worst a = worst_of(hl32, hn32, hl, hn), b = worst_of(tl, tn, hl, hn),
              c = worst_of(tl32, tn32, hl, hn), p = worst_of(tl32, tn32, hl32, hn32),
              d = worst_of(tl, tn, tl32, tn32);
  const double a_w = worst_adapter_difference(hf32, hf16),
               b_w = worst_adapter_difference(b16.adapters, hf16),
               c_w = worst_adapter_difference(f32.adapters, hf16),
               p_w = worst_adapter_difference(f32.adapters, hf32),
               d_w = worst_adapter_difference(b16.adapters, f32.adapters);
  std::printf(
      "worst relative loss / grad_norm / final adapter (per tensor max|d|/max|ref|):\n"
      "  (a) HF bf16 vs HF F32     %.2e / %.2e / %.2e\n"
      "  (b) tuna bf16 vs HF bf16  %.2e / %.2e / %.2e\n"
      "  (c) tuna F32 vs HF bf16   %.2e / %.2e / %.2e\n"
      "  tuna F32 vs HF F32        %.2e / %.2e / %.2e\n"
      "  tuna bf16 vs tuna F32     %.2e / %.2e / %.2e (first loss %.2e)\n",
      a.loss, a.grad_norm, a_w, b.loss, b.grad_norm, b_w, c.loss, c.grad_norm, c_w, p.loss,
      p.grad_norm, p_w, d.loss, d.grad_norm, d_w, rel(tl[0], tl32[0]));
  // The steps before the first update (the warmup's lr 0 at step 1: the adapter is still PEFT's
  // init) measure the precision of one forward/backward alone; later steps add the divergence of
  // the trajectories, which AdamW's normalised updates amplify.
  size_t pre = 1;
  while (pre < n && b16.logs[pre - 1].lr_used == 0) ++pre;
  const Worst a0 = worst_of(hl32, hn32, hl, hn, pre), b0 = worst_of(tl, tn, hl, hn, pre),
              c0 = worst_of(tl32, tn32, hl, hn, pre), p0 = worst_of(tl32, tn32, hl32, hn32, pre);
  std::printf(
      "the same over steps 1..%zu (before the first update: one forward/backward's precision):\n"
      "  (a) %.2e / %.2e  (b) %.2e / %.2e  (c) %.2e / %.2e  tuna F32 vs HF F32 %.2e / %.2e\n",
      pre, a0.loss, a0.grad_norm, b0.loss, b0.grad_norm, c0.loss, c0.grad_norm, p0.loss,
      p0.grad_norm);

  std::printf("greedy answers (%zu held-out prompts, %lld new tokens, exact generation):\n",
              heldout.size(), static_cast<long long>(max_new_tokens));
  const Agreement g16 = compare_answers(model, tok, heldout, b16.adapters, hf16, "tuna_bf16",
                                        "hf_bf16", max_new_tokens);
  std::printf(" tuna-bf16 vs HF-bf16 adapters: %d/%zu identical\n", g16.same, heldout.size());
  const Agreement g32 = compare_answers(model, tok, heldout, f32.adapters, hf32, "tuna_f32",
                                        "hf_f32", max_new_tokens);
  std::printf(" tuna-F32 vs HF-F32 adapters:   %d/%zu identical\n", g32.same, heldout.size());
  // The peer's own precision change, for scale: HF's bf16 adapter against HF's F32 adapter.
  const Agreement ghf = compare_answers(model, tok, heldout, hf16, hf32, "hf_bf16", "hf_f32",
                                        max_new_tokens);
  std::printf(" HF-bf16 vs HF-F32 adapters:    %d/%zu identical\n", ghf.same, heldout.size());

  auto band = [](const Worst& w, double ad) {
    return json{{"loss", w.loss}, {"grad_norm", w.grad_norm}, {"final_adapter", ad}};
  };
  auto curve_band = [](const Worst& w) {
    return json{{"loss", w.loss}, {"grad_norm", w.grad_norm}};
  };
  const json out = {{"threads", threads},
                    {"before_first_update",
                     {{"steps", pre},
                      {"a_hf_bf16_vs_hf_f32", curve_band(a0)},
                      {"b_tuna_bf16_vs_hf_bf16", curve_band(b0)},
                      {"c_tuna_f32_vs_hf_bf16", curve_band(c0)},
                      {"tuna_f32_vs_hf_f32", curve_band(p0)}}},
                    {"a_hf_bf16_vs_hf_f32", band(a, a_w)},
                    {"b_tuna_bf16_vs_hf_bf16", band(b, b_w)},
                    {"c_tuna_f32_vs_hf_bf16", band(c, c_w)},
                    {"tuna_f32_vs_hf_f32", band(p, p_w)},
                    {"tuna_bf16_vs_tuna_f32", band(d, d_w)},
                    {"steps", steps},
                    {"greedy",
                     {{"max_new_tokens", max_new_tokens},
                      {"bf16_identical", g16.same},
                      {"f32_identical", g32.same},
                      {"hf_bf16_vs_hf_f32_identical", ghf.same},
                      {"prompts", heldout.size()},
                      {"bf16", g16.per_prompt},
                      {"f32", g32.per_prompt},
                      {"hf_bf16_vs_hf_f32", ghf.per_prompt}}}};
  std::ofstream(dir + "/tuna_result.json") << out.dump(1) << "\n";
  return 0;
}
