// Shared helpers of the train tests: the optimizer goldens (tests/golden/optim, written by
// tools/reference/make_optim_goldens.py) and a max |Δ| / max |ref| comparison.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/safetensors.h"

namespace tuna_test {

inline std::string optim_golden(const std::string& file) {
  return std::string(TUNA_GOLDEN_DIR) + "/optim/" + file;
}

inline nlohmann::json read_optim_json(const std::string& file) {
  std::ifstream in(optim_golden(file));
  EXPECT_TRUE(in.good()) << "missing golden " << file;
  return nlohmann::json::parse(in);
}

// Row `row` of a 2-D golden tensor (or the whole tensor when row < 0) as floats.
inline std::vector<float> golden_row(const tuna::SafetensorsFile& f, const std::string& name,
                                     int64_t row = -1) {
  const tuna::Tensor t = f.tensor(name);
  std::vector<float> all = t.to_f32_vector();
  if (row < 0) return all;
  const int64_t n = t.dim(1);
  return std::vector<float>(all.begin() + row * n, all.begin() + (row + 1) * n);
}

struct Diff {
  double max_abs = 0, max_ref = 0;
  int64_t mismatches = 0;  // elements not bit-identical
  double rel() const { return max_ref > 0 ? max_abs / max_ref : max_abs; }
};

inline Diff compare(const float* got, const std::vector<float>& ref) {
  Diff d;
  for (size_t i = 0; i < ref.size(); ++i) {
    d.max_abs = std::max(d.max_abs, std::fabs(static_cast<double>(got[i]) - ref[i]));
    d.max_ref = std::max(d.max_ref, std::fabs(static_cast<double>(ref[i])));
    if (got[i] != ref[i]) ++d.mismatches;
  }
  return d;
}

}  // namespace tuna_test
