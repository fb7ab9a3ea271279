// A loaded model: spec + weights (zero-copy views into the mmap-ed checkpoint) and the forward
// pass from token ids to logits. Loading accepts a Hugging Face model directory or a repo id
// from the local HF cache. The forward computes in F32 on the CPU.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/model_spec.h"
#include "model/quantize_base.h"
#include "model/weights.h"

namespace tuna {

class GgufFile;

// True when `path` is a regular file starting with the GGUF magic.
bool is_gguf_file(const std::string& path);

// A right-padded batch of token ids.
struct Batch {
  int64_t B = 1, T = 0;
  std::vector<int32_t> ids;        // [B·T]
  std::vector<int32_t> mask;       // [B·T] 1 = real token, 0 = padding; empty: all real
  std::vector<int32_t> positions;  // [B·T]; empty: 0..T-1 on every row (transformers' default)
};

class Model {
 public:
  // MODEL is a directory with config.json + safetensors, a repo id in the local HF cache, or a
  // GGUF file (gemma3, llama, qwen2, qwen3).
  static Model load(const std::string& model_arg);
  static Model load_gguf(const std::string& path);
  // For tests: a spec (possibly edited) over weights from an existing directory.
  static Model load_with_spec(const std::string& dir, const ModelSpec& spec);

  const ModelSpec& spec() const { return spec_; }
  const ModelWeights& weights() const { return weights_; }
  // load_in_4bit (model/quantize_base.h): quantizes the linear weights in place. A GGUF model is
  // a user error (nothing is changed). weight_bytes() keeps reporting the checkpoint's bytes; the
  // result has the quantized figures.
  QuantizedBase quantize_base_4bit(const Bnb4bitConfig& config);
  const std::string& dir() const { return dir_; }

  // Unique parameters of the text model (tied embeddings counted once), as transformers counts.
  int64_t parameter_count() const;
  // Every tensor in the checkpoint (e.g. includes a multimodal model's vision tower).
  int64_t checkpoint_parameter_count() const;
  std::vector<std::string> weight_dtypes() const;  // distinct stored dtypes, e.g. {"BF16"}
  // Tensors per stored dtype over the whole checkpoint, e.g. {{"F32", 109}, {"Q4_K", 27}}.
  std::vector<std::pair<std::string, int64_t>> weight_type_counts() const;
  const GgufFile* gguf() const;
  // Bytes the bound weights occupy as stored (quantized blocks stay quantized).
  int64_t weight_bytes() const;  // the GGUF file when loaded from one, else nullptr

  // Hidden states after the final norm: [B·T, C] F32.
  Tensor forward_hidden(const Batch& batch) const;
  // Logits for rows [r0, r1) of `hidden` ([B·T, C]): [(r1 − r0), V] F32, final soft-capping
  // applied.
  Tensor logits_rows(const Tensor& hidden, int64_t r0, int64_t r1) const;
  // Full logits: [B, T, V] F32.
  Tensor forward(const Batch& batch) const;

 private:
  struct Checkpoint;
  ModelSpec spec_;
  ModelWeights weights_;
  std::string dir_;
  std::shared_ptr<Checkpoint> checkpoint_;
};

}  // namespace tuna
