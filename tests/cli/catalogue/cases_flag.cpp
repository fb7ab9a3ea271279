// Bad-input catalogue, area "flag": Command-line flags and environment variables: numeric values, garbage, help and meanings.
// Each case: see catalogue.h.
#include "cli/catalogue/catalogue.h"

namespace tuna_test::catalogue {

std::vector<BadInput> flag_cases() {
  std::vector<BadInput> cases;
  return cases;
}

}  // namespace tuna_test::catalogue
