// CLI11 parse errors as one-line user errors (see parse_error.h).
#include "cli/parse_error.h"

#include <algorithm>
#include <regex>
#include <vector>

#include "core/message.h"

namespace tuna::cli {

namespace {

// The subcommand being parsed when the error came (nullptr: the top level).
const CLI::App* failing_subcommand(const CLI::App& app) {
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    if (sub->parsed()) return sub;
  return nullptr;
}

// Every flag spelling of `app` and (for the top level's -t / --log) its parent.
std::vector<std::string> flag_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* a = &app; a != nullptr; a = a->get_parent())
    for (const CLI::Option* o : a->get_options()) {
      for (const std::string& l : o->get_lnames()) names.push_back("--" + l);
      for (const std::string& s : o->get_snames()) names.push_back("-" + s);
    }
  return names;
}

// "an integer" / "a number" / "a value" for an option's CLI11 type name.
std::string value_kind(const CLI::App& app, const std::string& flag) {
  for (const CLI::App* a = &app; a != nullptr; a = a->get_parent())
    for (const CLI::Option* o : a->get_options())
      if (o->check_name(flag)) {
        const std::string t = o->get_type_name();
        if (t == "INT" || t == "UINT") return "an integer";
        if (t == "FLOAT") return "a number";
        if (t == "TEXT") return "a text";
        return "a value";
      }
  return "a value";
}

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

std::string parse_error_message(const CLI::App& app, const CLI::ParseError& e) {
  const CLI::App* sub = failing_subcommand(app);
  const std::string command = sub ? "tuna " + sub->get_name() : "tuna";
  const CLI::App& scope = sub ? *sub : app;
  const std::string where = ", in `" + command + "`";
  std::string hint = "see `" + command + " --help`";
  const std::string text = one_line(e.what());
  std::string what = text;
  std::smatch m;
  if (dynamic_cast<const CLI::ConversionError*>(&e) != nullptr &&
      std::regex_match(text, m, std::regex("Could not convert: (\\S+) = (.*)"))) {
    what = m[1].str() + " " + quote(m[2].str()) + " is not " + value_kind(scope, m[1].str());
  } else if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr &&
             std::regex_match(text, m, std::regex("(\\S+): \\d+ required (\\S+) missing"))) {
    what = m[1].str() + " needs a value (" + value_kind(scope, m[1].str()) + ")";
  } else if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
    const std::string prefix = text.find("arguments were") != std::string::npos
                                   ? "The following arguments were not expected: "
                                   : "The following argument was not expected: ";
    const std::string extra = text.rfind(prefix, 0) == 0 ? text.substr(prefix.size()) : text;
    what = "unexpected argument " + quote(extra);
    std::string first;  // the first word that looks like a flag (CLI11 may list them out of order)
    for (size_t at = 0; at < extra.size() && first.empty();) {
      const size_t end = std::min(extra.find(' ', at), extra.size());
      if (extra[at] == '-') first = extra.substr(at, end - at);
      at = end + 1;
    }
    if (!first.empty()) {
      what = "unknown flag " + quote(first);
      const std::vector<std::string> names = flag_names(scope);
      if (const std::string* best = closest_name(first.substr(0, first.find('=')), names))
        hint = "did you mean " + *best + "? " + hint;
    }
  } else if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr &&
             text.find("subcommand") != std::string::npos) {
    what = "no command given";
    hint = "pick one of info, tokenize, template, score, train, generate; see `tuna --help`";
  }
  return "[cli] " + printable(what) + where + " (hint: " + hint + ")";
}

}  // namespace tuna::cli
