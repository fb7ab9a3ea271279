// Embedding lookup: rows of a table in any weight format, optionally multiplied by a scale
// (Gemma's sqrt(hidden), already cast to the weight dtype by the caller). Ids out of range are
// a user error naming the id. Backward scatter-adds scale·dy into an F32 table gradient.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace tuna {

// table: [V, C]   ids: N token ids   out: [N, C] F32;  out = table[ids] · scale
void embedding_forward(const Tensor& table, const std::vector<int32_t>& ids, float scale,
                       Tensor& out);

// Adds rows of a position table: out[n] += table[positions[n]] (GPT-2's learned positions).
void embedding_add_forward(const Tensor& table, const std::vector<int32_t>& positions, Tensor& out);

// Backward of both lookups: dtable[ids[n]] += scale · dy[n] for every n, in token order (each
// column block owned by one thread, so repeated ids sum in a fixed order for any thread count).
// ids: N ids in [0, V)   dy: [N, C] F32   dtable: [V, C] F32
// padding_idx >= 0: that row gets no gradient (nn.Embedding(padding_idx=...), which Gemma and
// Llama's embed_tokens use with the pad id); −1: none.
void embedding_backward(const std::vector<int32_t>& ids, const Tensor& dy, float scale,
                        Tensor& dtable, int32_t padding_idx = -1);

namespace cpu {
void embedding_backward(const std::vector<int32_t>& ids, const Tensor& dy, float scale,
                        Tensor& dtable, int32_t padding_idx);
void embedding_forward(const Tensor& table, const std::vector<int32_t>& ids, float scale,
                       Tensor& out);
void embedding_add_forward(const Tensor& table, const std::vector<int32_t>& positions, Tensor& out);
}  // namespace cpu

}  // namespace tuna
