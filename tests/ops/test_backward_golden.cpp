// Every backward op against PyTorch autograd through the peers' own modules (goldens made by
// tools/reference/make_grad_goldens.py into tests/golden/grad/): per tensor
// max|tuna − torch| / max|torch| ≤ 1e-5 (DESIGN.md §8; both sides F32, the residue is summation
// order). One deliberately broken variant per suite must exceed the same bound.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/rng.h"
#include "grad_check_util.h"
#include "io/safetensors.h"
#include "ops/activation.h"
#include "ops/attention.h"
#include "ops/cross_entropy.h"
#include "ops/embedding.h"
#include "ops/linear.h"
#include "ops/lora_linear.h"
#include "ops/norm.h"
#include "ops/rope.h"
#include "ops_test_util.h"

namespace {

using tuna::DType;
using tuna::SafetensorsFile;
using tuna::Tensor;

constexpr double kGoldenTol = 1e-5;

struct Golden {
  SafetensorsFile file;
  explicit Golden(const std::string& op)
      : file(SafetensorsFile::open(std::string(TUNA_GOLDEN_DIR) + "/grad/" + op + ".safetensors")) {
  }
  Tensor f32(const std::string& name) const { return file.tensor(name).copy(); }  // writable
  std::vector<float> vec(const std::string& name) const {
    return file.tensor(name).to_f32_vector();
  }
  std::vector<int32_t> ids(const std::string& name) const {
    const Tensor t = file.tensor(name);
    return {t.data<int32_t>(), t.data<int32_t>() + t.numel()};
  }
  // Scalars are stored as one-element F64 tensors.
  double scalar(const std::string& key) const { return file.tensor(key).data<double>()[0]; }
};

// max|got − ref| / max|ref| ≤ kGoldenTol, reported with the figure.
void expect_golden(const Tensor& got, const Golden& g, const std::string& name) {
  const double rel = tuna_test::max_rel_diff(got.to_f32_vector(), g.vec(name));
  if (std::getenv("TUNA_PRINT_GRAD_ERRORS") != nullptr)
    std::printf("  [golden] %-28s max rel %.3g\n", name.c_str(), rel);
  EXPECT_LE(rel, kGoldenTol) << name;
}

Tensor empty_like(const Tensor& t) {
  return Tensor::empty(t.shape(), DType::F32);
}

class BackwardGoldenOp : public tuna_test::OpTest {};
INSTANTIATE_TEST_SUITE_P(Ops, BackwardGoldenOp,
                         testing::ValuesIn(tuna_test::op_cases({tuna::Device::CPU},
                                                               {tuna::DType::F32})),
                         tuna_test::op_case_name);

TEST_P(BackwardGoldenOp, Linear) {
  Golden g("linear");
  const Tensor x = g.f32("x"), dy = g.f32("dy");
  for (bool conv : {false, true}) {
    const std::string p = conv ? "conv." : "";
    const Tensor w = g.f32(conv ? "conv.w" : "w");
    Tensor dx = empty_like(x), dw = Tensor::zeros(w.shape(), DType::F32),
           db = Tensor::zeros({dy.dim(1)}, DType::F32);
    OP_CALL(tuna::linear_backward_input, dy, w, dx, conv);
    OP_CALL(tuna::linear_backward_weight, dy, x, dw, conv);
    OP_CALL(tuna::linear_backward_bias, dy, db);
    expect_golden(dx, g, p + "dx");
    expect_golden(dw, g, p + "dw");
    expect_golden(db, g, p + "db");
    // the same weight held as BF16 (exact) gives the same dX through dequantized tiles
    const Tensor w16 = tuna_test::make_weight(w.shape(), DType::BF16, w.to_f32_vector());
    OP_CALL(tuna::linear_backward_input, dy, w16, dx, conv);
    expect_golden(dx, g, p + "dx");
  }
}

TEST_P(BackwardGoldenOp, LoraLinearPeft) {
  Golden g("lora");
  const Tensor x = g.f32("x"), a = g.f32("a"), b = g.f32("b"), dy = g.f32("dy"),
               bias = g.f32("bias");
  const Tensor w = tuna_test::make_weight(g.f32("w").shape(), DType::BF16, g.vec("w"));
  for (const std::string name : {"p0", "p25"}) {
    tuna::LoraParams p;
    p.scale = static_cast<float>(g.scalar(name + ".scale"));
    p.dropout = static_cast<float>(g.scalar(name + ".dropout"));
    p.seed = static_cast<uint64_t>(g.scalar(name + ".seed"));
    p.stream = static_cast<uint64_t>(g.scalar(name + ".stream"));
    // tuna's mask is the one the golden's Python Philox drew
    const std::vector<float> mask = g.vec(name + ".mask");
    for (size_t e = 0; e < mask.size() && p.dropout > 0.0f; ++e)
      ASSERT_EQ(mask[e] != 0.0f, tuna::philox_uniform(p.seed, p.stream, e) >= p.dropout) << e;
    Tensor y = Tensor::empty({x.dim(0), b.dim(0)}, DType::F32);
    Tensor xa = Tensor::empty({x.dim(0), a.dim(0)}, DType::F32);
    OP_CALL(tuna::lora_linear_forward, x, w, bias, a, b, p, y, xa);
    expect_golden(y, g, name + ".y");
    Tensor dx = empty_like(x), da = Tensor::zeros(a.shape(), DType::F32),
           db = Tensor::zeros(b.shape(), DType::F32);
    OP_CALL(tuna::lora_linear_backward, x, w, a, b, p, xa, dy, &dx, da, db);
    expect_golden(dx, g, name + ".dx");
    expect_golden(da, g, name + ".da");
    expect_golden(db, g, name + ".db");
  }
  // Broken variant: the wrong scaling (alpha/r where the golden used rsLoRA's alpha/√r).
  tuna::LoraParams p;
  p.scale = static_cast<float>(g.scalar("alpha") / g.scalar("r"));
  p.dropout = 0.25f, p.seed = 1234, p.stream = 77;
  Tensor y = Tensor::empty({x.dim(0), b.dim(0)}, DType::F32);
  Tensor xa = Tensor::empty({x.dim(0), a.dim(0)}, DType::F32);
  OP_CALL(tuna::lora_linear_forward, x, w, bias, a, b, p, y, xa);
  Tensor dx = empty_like(x), da = Tensor::zeros(a.shape(), DType::F32),
         db = Tensor::zeros(b.shape(), DType::F32);
  OP_CALL(tuna::lora_linear_backward, x, w, a, b, p, xa, dy, &dx, da, db);
  EXPECT_GT(tuna_test::max_rel_diff(da.to_f32_vector(), g.vec("p25.da")), 100 * kGoldenTol);
}

TEST_P(BackwardGoldenOp, Norms) {
  Golden g("norm");
  const float eps = static_cast<float>(g.scalar("eps"));
  for (const std::string name : {"llama", "gemma"}) {
    const Tensor x = g.f32(name + ".x"), w = g.f32(name + ".w"), dy = g.f32(name + ".dy");
    const tuna::RmsNormKind kind =
        name == "llama" ? tuna::RmsNormKind::LLAMA : tuna::RmsNormKind::GEMMA;
    Tensor dx = empty_like(x), dw = Tensor::zeros(w.shape(), DType::F32);
    OP_CALL(tuna::rms_norm_backward, x, w, eps, kind, dy, dx, &dw);
    expect_golden(dx, g, name + ".dx");
    expect_golden(dw, g, name + ".dw");
  }
  const Tensor x = g.f32("ln.x"), w = g.f32("ln.w"), dy = g.f32("ln.dy");
  Tensor dx = empty_like(x), dw = Tensor::zeros(w.shape(), DType::F32),
         db = Tensor::zeros(w.shape(), DType::F32);
  OP_CALL(tuna::layer_norm_backward, x, w, static_cast<float>(g.scalar("ln_eps")), dy, dx, &dw,
          &db);
  expect_golden(dx, g, "ln.dx");
  expect_golden(dw, g, "ln.dw");
  expect_golden(db, g, "ln.db");
  // Broken variant: Gemma's input through the Llama kind.
  Tensor wrong = empty_like(x);
  OP_CALL(tuna::rms_norm_backward, g.f32("gemma.x"), g.f32("gemma.w"), eps,
          tuna::RmsNormKind::LLAMA, g.f32("gemma.dy"), wrong, nullptr);
  EXPECT_GT(tuna_test::max_rel_diff(wrong.to_f32_vector(), g.vec("gemma.dx")), 100 * kGoldenTol);
}

TEST_P(BackwardGoldenOp, Rope) {
  Golden g("rope");
  const std::vector<int32_t> positions = g.ids("positions");
  std::vector<int32_t> rows(positions.size());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<int32_t>(i);
  for (const std::string name : {"default", "linear", "llama3"}) {
    tuna::RopeConfig cfg;
    cfg.dim = static_cast<int64_t>(g.scalar("head_dim"));
    cfg.theta = static_cast<float>(g.scalar(name + ".theta"));
    if (name == "linear") {
      cfg.scaling = tuna::RopeScalingType::LINEAR;
      cfg.factor = 4.0f;
    } else if (name == "llama3") {
      cfg.scaling = tuna::RopeScalingType::LLAMA3;
      cfg.factor = 8.0f;
      cfg.original_max_position = 64;
    }
    const tuna::RopeTables tables = tuna::rope_tables(cfg, positions);
    Tensor dx = g.f32(name + ".dy");
    OP_CALL(tuna::rope_backward, dx, tables, rows);
    expect_golden(dx, g, name + ".dx");
    if (name == "llama3") {  // broken variant: llama3 gradients through default frequencies
      tuna::RopeConfig plain;
      plain.dim = cfg.dim;
      plain.theta = cfg.theta;
      Tensor wrong = g.f32(name + ".dy");
      OP_CALL(tuna::rope_backward, wrong, tuna::rope_tables(plain, positions), rows);
      EXPECT_GT(tuna_test::max_rel_diff(wrong.to_f32_vector(), g.vec(name + ".dx")),
                100 * kGoldenTol);
    }
  }
}

TEST_P(BackwardGoldenOp, AttentionEager) {
  Golden g("attention");
  for (const std::string name : {"mha", "gqa_padded", "mqa_window_softcap", "gqa_softcap"}) {
    const Tensor q = g.f32(name + ".q"), k = g.f32(name + ".k"), v = g.f32(name + ".v"),
                 dy = g.f32(name + ".dy");
    const Tensor valid =
        g.file.contains(name + ".valid") ? g.file.tensor(name + ".valid") : Tensor();
    tuna::AttentionParams p;
    p.scale = static_cast<float>(g.scalar(name + ".scale"));
    p.softcap = static_cast<float>(g.scalar(name + ".softcap"));
    p.window = static_cast<int64_t>(g.scalar(name + ".window"));
    Tensor dq = empty_like(q), dk = empty_like(k), dv = empty_like(v);
    OP_CALL(tuna::attention_backward, q, k, v, valid, p, dy, dq, dk, dv);
    expect_golden(dq, g, name + ".dq");
    expect_golden(dk, g, name + ".dk");
    expect_golden(dv, g, name + ".dv");
    if (name == "mqa_window_softcap") {  // broken variant: the window forgotten
      p.window = 0;
      OP_CALL(tuna::attention_backward, q, k, v, valid, p, dy, dq, dk, dv);
      EXPECT_GT(tuna_test::max_rel_diff(dk.to_f32_vector(), g.vec(name + ".dk")), 100 * kGoldenTol);
    }
  }
}

TEST_P(BackwardGoldenOp, Activations) {
  Golden g("activation");
  struct Act {
    const char* name;
    tuna::Activation act;
  };
  for (const Act& a :
       {Act{"silu", tuna::Activation::SILU}, Act{"gelu_tanh", tuna::Activation::GELU_TANH},
        Act{"gelu_new", tuna::Activation::GELU_TANH}, Act{"gelu", tuna::Activation::GELU_ERF}}) {
    const std::string n = a.name;
    const Tensor x = g.f32(n + ".x"), up = g.f32(n + ".up"), dy = g.f32(n + ".dy");
    Tensor dx = empty_like(x), dgate = empty_like(x), dup = empty_like(x);
    OP_CALL(tuna::activation_backward, x, dy, a.act, dx);
    expect_golden(dx, g, n + ".dx");
    OP_CALL(tuna::gated_activation_backward, x, up, dy, a.act, dgate, dup);
    expect_golden(dgate, g, n + ".dgate");
    expect_golden(dup, g, n + ".dup");
  }
  // Broken variant: the tanh approximation's derivative for exact GELU.
  Tensor dx = empty_like(g.f32("gelu.x"));
  OP_CALL(tuna::activation_backward, g.f32("gelu.x"), g.f32("gelu.dy"), tuna::Activation::GELU_TANH,
          dx);
  EXPECT_GT(tuna_test::max_rel_diff(dx.to_f32_vector(), g.vec("gelu.dx")), 10 * kGoldenTol);
}

TEST_P(BackwardGoldenOp, EmbeddingGemmaScaledAndPlain) {
  Golden g("embedding");
  const std::vector<int32_t> ids = g.ids("ids");
  const Tensor dy = g.f32("dy");
  const int64_t V = g.file.tensor("gemma.dtable").dim(0), C = dy.dim(1);
  Tensor gemma = Tensor::zeros({V, C}, DType::F32), plain = Tensor::zeros({V, C}, DType::F32);
  const int32_t pad = static_cast<int32_t>(g.scalar("padding_idx"));
  OP_CALL(tuna::embedding_backward, ids, dy, static_cast<float>(g.scalar("scale")), gemma, pad);
  OP_CALL(tuna::embedding_backward, ids, dy, 1.0f, plain);
  expect_golden(gemma, g, "gemma.dtable");
  expect_golden(plain, g, "plain.dtable");
  // Broken variant: the padding row receiving gradient (nn.Embedding(padding_idx) gives none).
  Tensor wrong = Tensor::zeros({V, C}, DType::F32);
  OP_CALL(tuna::embedding_backward, ids, dy, static_cast<float>(g.scalar("scale")), wrong);
  EXPECT_GT(tuna_test::max_rel_diff(wrong.to_f32_vector(), g.vec("gemma.dtable")),
            100 * kGoldenTol);
}

TEST_P(BackwardGoldenOp, CrossEntropyHfLoss) {
  Golden g("cross_entropy");
  for (const std::string name : {"plain", "softcap"}) {
    const Tensor hidden = g.f32(name + ".hidden"), w = g.f32(name + ".w");
    const Tensor labels = g.file.tensor(name + ".labels");
    const int64_t n = tuna::count_loss_tokens(labels);
    EXPECT_EQ(n, static_cast<int64_t>(g.scalar(name + ".n_counted")));
    Tensor dh = empty_like(hidden), dw = Tensor::zeros(w.shape(), DType::F32);
    const tuna::LmHeadLossResult r = OP_CALL(tuna::lm_head_cross_entropy, hidden, w, labels,
                                             static_cast<float>(g.scalar(name + ".softcap")),
                                             1.0f / static_cast<float>(n), &dh, &dw);
    EXPECT_EQ(r.n_counted, n);
    const double want = g.vec(name + ".loss")[0];
    EXPECT_LE(std::fabs(r.loss_sum / static_cast<double>(n) - want), kGoldenTol * want);
    expect_golden(dh, g, name + ".dhidden");
    expect_golden(dw, g, name + ".dw");
  }
  // Broken variant: soft-capped golden without the cap.
  const Tensor hidden = g.f32("softcap.hidden"), w = g.f32("softcap.w");
  const Tensor labels = g.file.tensor("softcap.labels");
  Tensor dh = empty_like(hidden);
  OP_CALL(tuna::lm_head_cross_entropy, hidden, w, labels, 0.0f,
          1.0f / static_cast<float>(tuna::count_loss_tokens(labels)), &dh, nullptr);
  EXPECT_GT(tuna_test::max_rel_diff(dh.to_f32_vector(), g.vec("softcap.dhidden")),
            100 * kGoldenTol);
}

}  // namespace
