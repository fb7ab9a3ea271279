// eos_token / pad_token of a `tuna train` config as ids (see special_tokens.h).
#include "train/special_tokens.h"

#include "core/error.h"
#include "core/message.h"
#include "tokenizer/tokenizer.h"

namespace tuna {

namespace {

// "pad '<pad>', eos '<eos>'": the tokenizer's own special tokens, for the hint.
std::string own_tokens(const Tokenizer& tok) {
  std::string out;
  auto add = [&](const char* name, std::optional<int32_t> id) {
    if (!id) return;
    out += (out.empty() ? "" : ", ") + std::string(name) + " '" +
           printable(tok.id_to_piece(*id), 40) + "'";
  };
  add("eos", tok.eos_id());
  add("pad", tok.pad_id());
  add("bos", tok.bos_id());
  return out.empty() ? "it names no special tokens" : "its own are " + out;
}

}  // namespace

std::optional<int32_t> configured_token_id(const TrainConfig& cfg, const char* key,
                                           const Tokenizer& tok) {
  const nlohmann::ordered_json& v = cfg.at(key);
  if (!v.is_string()) return std::nullopt;
  const std::string token = v.get<std::string>();
  if (std::optional<int32_t> id = tok.piece_to_id(token)) return id;
  throw_user_error("config",
                   cfg.where(key) + ": " + key + ": '" + printable(token, 60) +
                       "' is not a token of the model's vocabulary",
                   "write one token exactly as the tokenizer spells it (" + own_tokens(tok) +
                       "), or remove " + key + " to use the tokenizer's");
}

std::optional<int32_t> run_eos_id(const TrainConfig& cfg, const Tokenizer& tok) {
  if (std::optional<int32_t> id = configured_token_id(cfg, "eos_token", tok)) return id;
  return tok.eos_id();
}

int32_t run_pad_id(const TrainConfig& cfg, const Tokenizer& tok) {
  if (std::optional<int32_t> id = configured_token_id(cfg, "pad_token", tok)) return *id;
  if (std::optional<int32_t> id = tok.pad_id()) return *id;
  return run_eos_id(cfg, tok).value_or(0);
}

}  // namespace tuna
