// Scoring: per-token log-probabilities (natural log) of each token given the ones before it,
// the top-K alternatives, total and mean NLL and perplexity, as the JSON `tuna score` writes
// (DESIGN.md §8 "Command-line data formats"); several sequences are scored as one right-padded
// batch. Logits are produced in row chunks, so [tokens × vocab] is never held at once. Also the
// ids file format. Not here: generation, training loss (evaluator.h).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tuna {

class Model;
class Tokenizer;

// An ids file: UTF-8 text, one sequence per line of whitespace-separated decimal ids, or one
// JSON array of integers. User error (naming the line or element) for anything else.
std::vector<std::vector<int32_t>> read_ids_file(const std::string& path);

// Scores `seqs` (each at least one id): one sequence gives {"model", "n_tokens", "tokens",
// "n_scored", "nll_sum", "nll_mean", "perplexity"}; several give {"model", "sequences": [...],
// "n_scored", "nll_sum", "nll_mean", "perplexity"}. `tok` (may be null) names the pieces.
nlohmann::json score_sequences(const Model& model, const Tokenizer* tok,
                               const std::vector<std::vector<int32_t>>& seqs, int top_k);

}  // namespace tuna
