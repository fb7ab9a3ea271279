// oneDNN BF16 matmul for bench_gemm (dnnl_matmul.h). The operands' BF16 layouts are left to the
// primitive (format_tag::any): the weights usually come out blocked for its brgemm kernel, so the
// F32 → BF16 reorder of B is a conversion and a packing, like tuna's own packing.
#include "dnnl_matmul.h"

#include <oneapi/dnnl/dnnl.hpp>

namespace tuna::bench {

using dnnl::memory;

struct DnnlMatmul::State {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  dnnl::matmul::primitive_desc matmul_pd;
  dnnl::matmul matmul;
  dnnl::reorder reorder_a, reorder_b;
  memory a_f32, b_f32;    // the caller's F32 operands (handles set per convert call)
  memory a_bf16, b_bf16;  // the primitive's BF16 operands, in its chosen layouts
  memory c_f32;           // the caller's C (handle set per multiply call)
};

DnnlMatmul::DnnlMatmul(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  const memory::dims a_dims = {M, K}, b_dims = {K, N}, c_dims = {M, N};
  // Row-major storage of A [M, K] (or Aᵀ [K, M]) and B [K, N] (or Bᵀ [N, K]) as strides.
  const memory::desc a_f32_md(a_dims, memory::data_type::f32,
                              trans_a ? memory::dims{1, M} : memory::dims{K, 1});
  const memory::desc b_f32_md(b_dims, memory::data_type::f32,
                              trans_b ? memory::dims{1, K} : memory::dims{N, 1});
  const memory::desc a_any(a_dims, memory::data_type::bf16, memory::format_tag::any);
  const memory::desc b_any(b_dims, memory::data_type::bf16, memory::format_tag::any);
  const memory::desc c_md(c_dims, memory::data_type::f32, memory::format_tag::ab);
  s.matmul_pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(a_any, b_any, c_md), s.engine);
  s.matmul = dnnl::matmul(s.matmul_pd);
  s.a_f32 = memory(a_f32_md, s.engine, DNNL_MEMORY_NONE);
  s.b_f32 = memory(b_f32_md, s.engine, DNNL_MEMORY_NONE);
  s.a_bf16 = memory(s.matmul_pd.src_desc(), s.engine);
  s.b_bf16 = memory(s.matmul_pd.weights_desc(), s.engine);
  s.c_f32 = memory(c_md, s.engine, DNNL_MEMORY_NONE);
  s.reorder_a = dnnl::reorder(
      dnnl::reorder::primitive_desc(s.engine, a_f32_md, s.engine, s.matmul_pd.src_desc()));
  s.reorder_b = dnnl::reorder(
      dnnl::reorder::primitive_desc(s.engine, b_f32_md, s.engine, s.matmul_pd.weights_desc()));
}

DnnlMatmul::~DnnlMatmul() = default;

void DnnlMatmul::convert(const float* A, const float* B) {
  State& s = *state_;
  // oneDNN's handles are non-const; the reorders only read their source.
  s.a_f32.set_data_handle(const_cast<float*>(A));
  s.b_f32.set_data_handle(const_cast<float*>(B));
  s.reorder_a.execute(s.stream, s.a_f32, s.a_bf16);
  s.reorder_b.execute(s.stream, s.b_f32, s.b_bf16);
  s.stream.wait();
}

void DnnlMatmul::multiply(float* C) {
  State& s = *state_;
  s.c_f32.set_data_handle(C);
  s.matmul.execute(
      s.stream, {{DNNL_ARG_SRC, s.a_bf16}, {DNNL_ARG_WEIGHTS, s.b_bf16}, {DNNL_ARG_DST, s.c_f32}});
  s.stream.wait();
}

std::string DnnlMatmul::implementation() const {
  return state_->matmul_pd.impl_info_str();
}

}  // namespace tuna::bench
