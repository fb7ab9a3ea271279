// Bad-input catalogue, area "output": Output directories, checkpoints and resume.
// Each case: see catalogue.h.
#include "cli/catalogue/catalogue.h"

namespace tuna_test::catalogue {

std::vector<BadInput> output_cases() {
  std::vector<BadInput> cases;
  return cases;
}

}  // namespace tuna_test::catalogue
