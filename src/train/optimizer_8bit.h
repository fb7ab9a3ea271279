// bitsandbytes' 8-bit AdamW as the HF Trainer builds it for `adamw_bnb_8bit`, `adamw_8bit` and
// `paged_adamw_8bit`: bnb.optim.AdamW(optim_bits=8, block_wise=True, min_8bit_size=4096,
// percentile_clipping=100). Not here: the Optimizer interface and the other optimizers
// (optimizer.h), the update arithmetic (ops/adamw_8bit.h), bitsandbytes' CUDA kernel, paging (a
// GPU memory feature; on the CPU a paged optimizer is the same optimizer).
//
// Per parameter tensor P with N elements:
//  * N >= 4096: "state1" (m) and "state2" (v) are U8 [shape of P] codes of the pristine signed
//    and unsigned create_dynamic_map() code books, "absmax1"/"absmax2" F32 [ceil(N / 256)] the
//    per-256-block scales. A step dequantises m and v (code · absmax), updates them in F32,
//    updates P from the F32 values, then requantises them with new block maxima (an all-zero
//    block stores 1.0). Arithmetic: bitsandbytes' PyTorch reference update
//    (optimizer_update_8bit_blockwise_pytorch) in torch's CPU operation order.
//  * N < 4096: "state1"/"state2" F32 [shape of P] (no absmax), updated by bitsandbytes' F32
//    AdamW formula (its "default" optimizer_update_32bit kernel): eps scaled by √(1 − β₂ᵗ), not
//    torch.optim.AdamW's operation order.
// Weight decay is decoupled, p·(1 − lr·wd) before the update, and only where wd > 0.
// The state stays per tensor (unlike AdamW's flat buffers): bitsandbytes' blocks start at each
// tensor's first element and a state is U8 for some tensors and F32 for others, so one flat
// buffer per state would either move block boundaries or mix dtypes. The parameters and
// gradients it updates may still be views of the flat ParamBuffer.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ops/adamw_8bit.h"  // kBnbOptimBlocksize
#include "train/optimizer.h"

namespace tuna {

// bitsandbytes' min_8bit_size: smaller tensors keep F32 state. The absmax block size,
// kBnbOptimBlocksize, is the update op's (ops/adamw_8bit.h).
constexpr int64_t kBnbMin8bitSize = 4096;

// The 8-bit AdamW for a resolved name (make_optimizer calls this for OptimizerKind::ADAMW_8BIT).
std::unique_ptr<Optimizer> make_adamw_8bit(std::string name, std::vector<TrainableParam> params,
                                           const OptimizerOptions& options);

}  // namespace tuna
