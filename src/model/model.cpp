// Model loading: a Hugging Face directory (config.json + safetensors, single or sharded) or a
// GGUF file; either way the result is the same spec + weights bound by the names in the family's
// table (model/families/).
// Weights stay zero-copy views in their stored format (GGUF blocks included); the only copies
// are GGUF Gemma norm weights, from which the converter's +1 is removed. The scoring forward
// (Model::forward_hidden) is in transformer.cpp, the block it runs in block.cpp.
#include "model/model.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "core/error.h"
#include "io/gguf.h"
#include "io/hf_model_dir.h"
#include "io/safetensors.h"
#include "model/families/registry.h"

namespace tuna {

struct Model::Checkpoint {
  std::optional<SafetensorsModel> safetensors;
  std::optional<GgufFile> gguf;

  bool has(const std::string& name) const {
    return safetensors ? safetensors->contains(name) : gguf->find_tensor(name) != nullptr;
  }
  Tensor tensor(const std::string& name) const {
    return safetensors ? safetensors->tensor(name) : gguf->tensor(name);
  }
  std::vector<std::string> names() const {
    if (safetensors) return safetensors->names();
    std::vector<std::string> out;
    for (const auto& t : gguf->tensors()) out.push_back(t.name);
    return out;
  }
  int64_t numel(const std::string& name) const {
    return safetensors ? safetensors->entry(name).shape.numel()
                       : gguf->tensor_info(name).shape.numel();
  }
  DType dtype(const std::string& name) const {
    return safetensors ? safetensors->entry(name).dtype : gguf->tensor_info(name).dtype;
  }
};

bool is_gguf_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  char magic[4] = {0, 0, 0, 0};
  const size_t n = std::fread(magic, 1, 4, f);
  std::fclose(f);
  return n == 4 && std::memcmp(magic, "GGUF", 4) == 0;
}

Model Model::load(const std::string& model_arg) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(model_arg, ec)) {
    if (!has_gguf_extension(model_arg) && !is_gguf_file(model_arg)) {
      throw_user_error(
          "model", model_arg + " is neither a GGUF file nor a model directory",
          "pass a Hugging Face model directory (config.json + *.safetensors) or a .gguf file");
    }
    return load_gguf(model_arg);
  }
  const std::string dir = resolve_model_dir(model_arg);
  return load_with_spec(dir, read_hf_config(dir + "/config.json"));
}

Model Model::load_with_spec(const std::string& dir, const ModelSpec& spec) {
  Model m;
  m.dir_ = dir;
  m.spec_ = spec;
  m.checkpoint_ = std::make_shared<Checkpoint>();
  m.checkpoint_->safetensors = SafetensorsModel::open_dir(dir);
  const Checkpoint& ck = *m.checkpoint_;
  auto has = [&](const std::string& n) { return ck.has(n); };
  TensorSource get = [&](const std::string& n) { return ck.has(n) ? ck.tensor(n) : Tensor(); };
  m.weights_ = bind_weights(m.spec_, hf_weight_names(m.spec_, has), get, dir);
  return m;
}

Model Model::load_gguf(const std::string& path) {
  Model m;
  m.dir_ = path;
  m.checkpoint_ = std::make_shared<Checkpoint>();
  m.checkpoint_->gguf = GgufFile::open(path);
  const Checkpoint& ck = *m.checkpoint_;
  m.spec_ = spec_from_gguf(*ck.gguf);
  const bool norms_plus_one = family_of(m.spec_).family->gguf_norms_plus_one;
  TensorSource get = [&](const std::string& n) -> Tensor {
    if (!ck.has(n)) return Tensor();
    Tensor t = ck.tensor(n);
    const std::string suffix = "norm.weight";
    if (norms_plus_one && n.size() >= suffix.size() &&
        n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) {
      // llama.cpp's Gemma converter stores every *norm.weight as 1 + w (the family's
      // gguf_norms_plus_one); tuna's Gemma norm multiplies by (1 + w), so take the 1 back out
      // (F32; norms are tiny).
      Tensor w = t.to_f32();
      float* p = w.data_mut<float>();
      for (int64_t i = 0; i < w.numel(); ++i) p[i] -= 1.0f;
      return w;
    }
    return t;
  };
  m.weights_ = bind_weights(m.spec_, gguf_weight_names(m.spec_), get, path);
  return m;
}

int64_t Model::parameter_count() const {
  std::set<std::string> unique(weights_.names.begin(), weights_.names.end());
  int64_t n = 0;
  for (const auto& name : unique) n += checkpoint_->numel(name);
  return n;
}

int64_t Model::checkpoint_parameter_count() const {
  int64_t n = 0;
  for (const auto& name : checkpoint_->names()) n += checkpoint_->numel(name);
  return n;
}

std::vector<std::string> Model::weight_dtypes() const {
  std::set<std::string> seen;
  for (const auto& name : weights_.names) seen.insert(dtype_name(checkpoint_->dtype(name)));
  return {seen.begin(), seen.end()};
}

std::vector<std::pair<std::string, int64_t>> Model::weight_type_counts() const {
  std::map<std::string, int64_t> counts;
  for (const auto& name : checkpoint_->names()) counts[dtype_name(checkpoint_->dtype(name))]++;
  return {counts.begin(), counts.end()};
}

int64_t Model::weight_bytes() const {
  std::set<std::string> unique(weights_.names.begin(), weights_.names.end());
  int64_t n = 0;
  for (const auto& name : unique)
    n += static_cast<int64_t>(dtype_nbytes(checkpoint_->dtype(name), checkpoint_->numel(name)));
  return n;
}

QuantizedBase Model::quantize_base_4bit(const Bnb4bitConfig& config) {
  return tuna::quantize_base_4bit(weights_, config);
}

const GgufFile* Model::gguf() const {
  return checkpoint_->gguf ? &*checkpoint_->gguf : nullptr;
}

}  // namespace tuna
