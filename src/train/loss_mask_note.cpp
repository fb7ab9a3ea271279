// The loss-mask notice (see loss_mask_note.h). What TRL 0.25.1 trains, from sft_trainer.py:
// completion_only_loss None means "prompt" and "completion" columns → completion only, anything
// else → every token; the collator masks only rows carrying a completion_mask, which text rows
// (a seed's formatting_func or dataset_text_field column) never have; messages rows train every
// token unless assistant_only_loss. TRL has no alpaca or template format: the seeds turn such
// rows into one text (seed 001's text column, seed 002's formatting_func), so TRL trains it all.
#include "train/loss_mask_note.h"

namespace tuna {
namespace {

// "completion_only_loss default true" / "assistant_only_loss: false" (given, or defaulted: a
// key left unset or set to null).
std::string setting(const TrainConfig& cfg, const char* key, bool resolved) {
  const bool given = cfg.has(key) && !cfg.at(key).is_null();
  return std::string(key) + (given ? ": " : " default ") + (resolved ? "true" : "false");
}

}  // namespace

std::string loss_mask_note(const TrainConfig& cfg, DataFormat format) {
  const nlohmann::ordered_json& col = cfg.at("completion_only_loss");
  const bool completion_only = !col.is_boolean() || col.get<bool>();  // unset: true (as TRL's)
  const std::string col_setting = setting(cfg, "completion_only_loss", completion_only);
  const std::string to_trl = "; TRL trains the whole formatted text (it has no " +
                             std::string(data_format_name(format)) +
                             " format: the seeds make one text of each row): set "
                             "completion_only_loss: false";
  switch (format) {
    case DataFormat::PROMPT_COMPLETION:
      return std::string("loss: ") +
             (completion_only ? "on the completion only" : "on prompt and completion") +
             " (prompt_completion format; " + col_setting + ", as TRL)";
    case DataFormat::TEXT:
      return "loss: on every token of the text (text format, as TRL)";
    case DataFormat::ALPACA:
      if (!completion_only)
        return "loss: on the whole formatted text, instruction and response (alpaca format; " +
               col_setting + "), as TRL trains a formatted text column";
      return "loss: on the response only (alpaca format; " + col_setting + ")" + to_trl;
    case DataFormat::TEMPLATE:
      if (!completion_only)
        return "loss: on the whole rendered template (template format; " + col_setting +
               "), as TRL trains a formatting_func's text";
      return "loss: on the template's last field and the text after it only (template format; " +
             col_setting + ")" + to_trl;
    case DataFormat::MESSAGES: {
      const bool assistant_only = cfg.at("assistant_only_loss").get<bool>();
      const std::string aol = setting(cfg, "assistant_only_loss", assistant_only);
      std::string s =
          assistant_only
              ? "loss: on the assistant replies only (messages format; " + aol + ", as TRL)"
              : "loss: on the whole conversation, every role's turns (messages format; " + aol +
                    ", as TRL); assistant_only_loss: true trains the assistant replies only";
      if (col.is_boolean())
        s += "; completion_only_loss does not apply to messages data (nor in TRL)";
      return s;
    }
    case DataFormat::AUTO:
      break;
  }
  return "loss: on the tokens the data format marks";
}

}  // namespace tuna
