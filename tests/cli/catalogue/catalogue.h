// The bad-input catalogue: each case is a user mistake run through the real `tuna` binary, which
// must end with exit status 2 and one line "error: [component] what, where (hint: how)" holding
// every expected fragment, writing nothing and changing nothing in the case's directory.
// Cases live in one file per area (cases_*.cpp); test_catalogue.cpp runs them and keeps
// docs/errors.md in step. Test-only.
#pragma once

#include <string>
#include <utility>
#include <vector>

// Cases are written with designated initializers that leave the optional fields out.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace tuna_test::catalogue {

// One bad input. Strings may use these placeholders, replaced before running:
//   {dir}     the case's own fresh directory (holds `files`)
//   {models}  tests/golden/models (tiny golden models: llama, gemma3, gpt2, ...)
//   {assets}  tests/assets
//   {gguf}    the real Gemma 3 270M GGUF in models/ (cases using it are skipped when it is absent)
//   {tuna}    the tuna binary (for a setup that trains first, e.g. to leave a checkpoint)
struct BadInput {
  std::string id;     // unique, "area.short_name" (e.g. "config.nested_key_typo")
  std::string what;   // the mistake, one line, for docs/errors.md
  std::string args;   // arguments after `tuna` (shell syntax; quote paths with spaces)
  std::vector<std::pair<std::string, std::string>> files;  // name under {dir} → bytes
  std::vector<std::string> expect;  // fragments the error line must hold: what, where, how
  std::vector<std::string> env;     // "NAME=value" set for this run only
  std::string setup;                // optional shell command run first (cwd {dir})
  // Paths (under {dir}) that the case may leave changed: none by default. Everything else in
  // {dir} must be byte-for-byte as before, and nothing new may appear.
  std::vector<std::string> may_change;
};

// One function per area; each owner adds its cases there.
std::vector<BadInput> config_cases();    // YAML config keys, nested mappings, contradictions
std::vector<BadInput> data_cases();      // JSONL / JSON / CSV / text rows, roles, encodings
std::vector<BadInput> model_cases();     // model files, adapters against their base
std::vector<BadInput> flag_cases();      // command-line flags, numeric values, environment
std::vector<BadInput> output_cases();    // output_dir, checkpoints, resume

}  // namespace tuna_test::catalogue
