// Scoring a model on token sequences (see scorer.h).
#include "app/scorer.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "core/error.h"
#include "core/mmap_file.h"
#include "model/model.h"
#include "ops/log_softmax.h"
#include "tokenizer/tokenizer.h"

namespace tuna {

std::vector<std::vector<int32_t>> read_ids_file(const std::string& path) {
  const std::string text = read_file_bytes(path);
  std::vector<std::vector<int32_t>> seqs;
  auto to_id = [&](long long v, const std::string& where) {
    if (v < 0 || v > INT32_MAX)
      throw_user_error("score",
                       path + ": " + where + ": id " + std::to_string(v) + " is out of range",
                       "token ids are non-negative integers");
    return static_cast<int32_t>(v);
  };
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '[') {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      throw_user_error("score", path + " is not a valid JSON array: " + e.what(),
                       "write a JSON array of integers, or one sequence of ids per line");
    }
    std::vector<int32_t> seq;
    for (size_t i = 0; i < j.size(); ++i) {
      if (!j[i].is_number_integer())
        throw_user_error(
            "score", path + ": element " + std::to_string(i) + " is not an integer: " + j[i].dump(),
            "write a JSON array of integer token ids");
      seq.push_back(to_id(j[i].get<long long>(), "element " + std::to_string(i)));
    }
    if (seq.empty())
      throw_user_error("score", path + " holds an empty JSON array", "write at least one token id");
    seqs.push_back(seq);
  } else {
    std::istringstream lines(text);
    std::string line;
    int line_no = 0;
    while (std::getline(lines, line)) {
      ++line_no;
      std::istringstream words(line);
      std::string word;
      std::vector<int32_t> seq;
      while (words >> word) {
        char* end = nullptr;
        errno = 0;
        long long v = std::strtoll(word.c_str(), &end, 10);
        if (end == word.c_str() || *end != '\0' || errno == ERANGE)
          throw_user_error(
              "score", path + ":" + std::to_string(line_no) + ": '" + word + "' is not a token id",
              "write whitespace-separated decimal ids, one sequence per line");
        seq.push_back(to_id(v, "line " + std::to_string(line_no)));
      }
      if (!seq.empty()) seqs.push_back(seq);
    }
  }
  if (seqs.empty())
    throw_user_error("score", path + " holds no token ids", "write at least one sequence");
  return seqs;
}

namespace {

// Per-row log-softmax statistics: log-prob of `target` and the top-k (id, log-prob) pairs.
struct RowScore {
  double logprob = 0.0;
  std::vector<std::pair<int32_t, double>> top;
};

// lse: the row's log-sum-exp (ops/log_softmax.h).
RowScore score_row(const float* logits, int64_t V, double lse, int32_t target, int top_k,
                   int64_t position) {
  for (int64_t i = 0; i < V; ++i)
    if (!std::isfinite(logits[i]))
      throw_user_error(
          "score", "the model produced a non-finite logit at position " + std::to_string(position),
          "the weights may be corrupt or overflow in F32; check the model file");
  RowScore r;
  if (target >= 0) r.logprob = logits[target] - lse;
  std::vector<int32_t> idx(static_cast<size_t>(V));
  for (int64_t i = 0; i < V; ++i) idx[static_cast<size_t>(i)] = static_cast<int32_t>(i);
  const int k = static_cast<int>(std::min<int64_t>(top_k, V));
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  });
  for (int i = 0; i < k; ++i)
    r.top.emplace_back(idx[static_cast<size_t>(i)], logits[idx[static_cast<size_t>(i)]] - lse);
  return r;
}

// nll_mean and perplexity over `scored` tokens (null when nothing was scored).
void add_nll_summary(nlohmann::json& j, double nll, int64_t scored) {
  const bool any = scored > 0;
  const double mean = any ? nll / static_cast<double>(scored) : 0.0;
  j["nll_mean"] = any ? nlohmann::json(mean) : nlohmann::json(nullptr);
  j["perplexity"] = any ? nlohmann::json(std::exp(mean)) : nlohmann::json(nullptr);
}

nlohmann::json piece_json(const Tokenizer* tok, int32_t id) {
  return tok != nullptr ? nlohmann::json(tok->id_to_piece(id)) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json score_sequences(const Model& model, const Tokenizer* tok,
                               const std::vector<std::vector<int32_t>>& seqs, int top_k) {
  Batch batch;
  batch.B = static_cast<int64_t>(seqs.size());
  for (const auto& s : seqs) batch.T = std::max<int64_t>(batch.T, static_cast<int64_t>(s.size()));
  batch.ids.assign(static_cast<size_t>(batch.B * batch.T), 0);
  batch.mask.assign(batch.ids.size(), 0);
  for (size_t b = 0; b < seqs.size(); ++b)
    for (size_t t = 0; t < seqs[b].size(); ++t) {
      batch.ids[b * static_cast<size_t>(batch.T) + t] = seqs[b][t];
      batch.mask[b * static_cast<size_t>(batch.T) + t] = 1;
    }
  bool all_full =
      std::all_of(batch.mask.begin(), batch.mask.end(), [](int32_t m) { return m == 1; });
  if (all_full) batch.mask.clear();

  Tensor hidden = model.forward_hidden(batch);
  const int64_t V = model.spec().vocab;
  std::vector<nlohmann::json> results;
  for (size_t b = 0; b < seqs.size(); ++b) {
    const auto& seq = seqs[b];
    const int64_t n = static_cast<int64_t>(seq.size());
    const int64_t row0 = static_cast<int64_t>(b) * batch.T;
    nlohmann::json tokens = nlohmann::json::array();
    tokens.push_back({{"id", seq[0]},
                      {"piece", piece_json(tok, seq[0])},
                      {"logprob", nullptr},
                      {"top", nlohmann::json::array()}});
    double nll = 0.0;
    constexpr int64_t kChunk = 64;  // logits rows held at once
    for (int64_t r0 = 0; r0 + 1 < n; r0 += kChunk) {
      const int64_t r1 = std::min(n - 1, r0 + kChunk);
      Tensor logits = model.logits_rows(hidden, row0 + r0, row0 + r1);
      const std::vector<double> lse = log_softmax_lse(logits);  // [r1 - r0]
      for (int64_t r = r0; r < r1; ++r) {
        const int32_t target = seq[static_cast<size_t>(r + 1)];
        RowScore rs = score_row(logits.data<float>() + (r - r0) * V, V,
                                lse[static_cast<size_t>(r - r0)], target, top_k, r);
        nll -= rs.logprob;
        nlohmann::json top = nlohmann::json::array();
        for (const auto& [id, lp] : rs.top) top.push_back({id, lp});
        tokens.push_back({{"id", target},
                          {"piece", piece_json(tok, target)},
                          {"logprob", rs.logprob},
                          {"top", top}});
      }
    }
    const int64_t scored = n - 1;
    nlohmann::json j = {{"model", model.dir()},
                        {"n_tokens", n},
                        {"tokens", tokens},
                        {"n_scored", scored},
                        {"nll_sum", nll}};
    add_nll_summary(j, nll, scored);
    results.push_back(j);
  }
  if (results.size() == 1) return results[0];
  // Several sequences: each scored on its own, plus totals over all of them.
  double nll = 0.0;
  int64_t scored = 0;
  for (const auto& r : results) {
    nll += r["nll_sum"].get<double>();
    scored += r["n_scored"].get<int64_t>();
  }
  nlohmann::json j = {
      {"model", model.dir()}, {"sequences", results}, {"n_scored", scored}, {"nll_sum", nll}};
  add_nll_summary(j, nll, scored);
  return j;
}

}  // namespace tuna
