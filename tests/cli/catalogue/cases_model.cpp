// Bad-input catalogue, area "model": Model files (HF directories, safetensors, GGUF) and adapters checked against their base.
// Each case: see catalogue.h.
#include "cli/catalogue/catalogue.h"

namespace tuna_test::catalogue {

std::vector<BadInput> model_cases() {
  std::vector<BadInput> cases;
  return cases;
}

}  // namespace tuna_test::catalogue
