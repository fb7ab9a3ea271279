// Bad-input catalogue, area "data": Dataset files and rows: JSONL / JSON / CSV / text formats, fields and roles, encodings.
// Each case: see catalogue.h.
#include "cli/catalogue/catalogue.h"

namespace tuna_test::catalogue {

std::vector<BadInput> data_cases() {
  std::vector<BadInput> cases;
  return cases;
}

}  // namespace tuna_test::catalogue
