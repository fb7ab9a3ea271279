// Model loading: resolve the directory, parse config.json, open the safetensors (single or
// sharded, mmap-ed) and bind the family's names. The forward pass lives in transformer.cpp.
#include "model/model.h"

#include <set>

#include "core/error.h"
#include "io/hf_config.h"
#include "io/hf_model_dir.h"
#include "io/safetensors.h"

namespace tuna {

struct Model::Checkpoint {
  SafetensorsModel files;
};

static WeightNames weight_names_for(const ModelSpec& spec, const std::function<bool(const std::string&)>& has) {
  switch (spec.family) {
    case Family::GEMMA2:
    case Family::GEMMA3: return gemma_weight_names(spec, has);
    case Family::GPT2: return gpt2_weight_names(spec, has);
    default: return llama_weight_names(spec, has);
  }
}

Model Model::load(const std::string& model_arg) {
  const std::string dir = resolve_model_dir(model_arg);
  return load_with_spec(dir, read_hf_config(dir + "/config.json"));
}

Model Model::load_with_spec(const std::string& dir, const ModelSpec& spec) {
  Model m;
  m.dir_ = dir;
  m.spec_ = spec;
  m.checkpoint_ = std::make_shared<Checkpoint>(Checkpoint{SafetensorsModel::open_dir(dir)});
  const SafetensorsModel& files = m.checkpoint_->files;
  auto has = [&](const std::string& n) { return files.contains(n); };
  TensorSource get = [&](const std::string& n) { return files.contains(n) ? files.tensor(n) : Tensor(); };
  m.weights_ = bind_weights(m.spec_, weight_names_for(m.spec_, has), get, dir);
  return m;
}

int64_t Model::parameter_count() const {
  const SafetensorsModel& files = checkpoint_->files;
  std::set<std::string> unique(weights_.names.begin(), weights_.names.end());
  int64_t n = 0;
  for (const auto& name : unique) n += files.entry(name).shape.numel();
  return n;
}

int64_t Model::checkpoint_parameter_count() const {
  const SafetensorsModel& files = checkpoint_->files;
  int64_t n = 0;
  for (const auto& name : files.names()) n += files.entry(name).shape.numel();
  return n;
}

std::vector<std::string> Model::weight_dtypes() const {
  std::set<std::string> seen;
  for (const auto& name : weights_.names) seen.insert(dtype_name(checkpoint_->files.entry(name).dtype));
  return {seen.begin(), seen.end()};
}

}  // namespace tuna
