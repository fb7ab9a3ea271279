// Parameter names → flags in error messages (see flag_names.h).
#include "cli/flag_names.h"

#include "core/error.h"

namespace tuna::cli {

std::string with_flags(const std::string& text, const FlagNames& flags) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const size_t open = text.find('`', i);
    const size_t close = open == std::string::npos ? open : text.find('`', open + 1);
    if (close == std::string::npos) {
      out += text.substr(i);
      break;
    }
    out += text.substr(i, open - i);
    const std::string name = text.substr(open + 1, close - open - 1);
    std::string replaced = text.substr(open, close - open + 1);  // other spans stay as written
    for (const auto& [parameter, flag] : flags)
      if (parameter == name) {
        replaced = flag;
        break;
      }
    out += replaced;
    i = close + 1;
  }
  return out;
}

int run_with_flag_names(const FlagNames& flags, const std::function<int()>& fn) {
  try {
    return fn();
  } catch (const Error& e) {
    const std::string message = with_flags(e.message(), flags), hint = with_flags(e.hint(), flags);
    if (message == e.message() && hint == e.hint()) throw;  // unchanged: keep its type (and where)
    throw Error(e.kind(), e.component(), message, hint);
  }
}

}  // namespace tuna::cli
