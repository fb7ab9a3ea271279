// The loss-mask notice per data format and loss setting: which tokens train, and — where TRL
// 0.25.1's SFTTrainer trains other tokens for the same data (alpaca rows and templates, which
// the seeds turn into one text) — the setting that gives TRL's behaviour.
#include <gtest/gtest.h>

#include "train/config.h"
#include "train/loss_mask_note.h"

namespace tuna {
namespace {

std::string note(DataFormat f, const std::string& yaml = "") {
  return loss_mask_note(parse_train_config("model: m\n" + yaml, "c.yaml"), f);
}

const char* const kToTrl = "TRL trains the whole formatted text";

TEST(LossMaskNote, AlpacaIsResponseOnlyAndSaysHowToTrainLikeTrl) {
  EXPECT_EQ(note(DataFormat::ALPACA),
            "loss: on the response only (alpaca format; completion_only_loss default true); TRL "
            "trains the whole formatted text (it has no alpaca format: the seeds make one text of "
            "each row): set completion_only_loss: false");
  const std::string explicit_true = note(DataFormat::ALPACA, "completion_only_loss: true\n");
  EXPECT_EQ(explicit_true.rfind("loss: on the response only (alpaca format; "
                                "completion_only_loss: true); ",
                                0),
            0u)
      << explicit_true;
  EXPECT_NE(explicit_true.find(kToTrl), std::string::npos);
  EXPECT_EQ(note(DataFormat::ALPACA, "completion_only_loss: false\n"),
            "loss: on the whole formatted text, instruction and response (alpaca format; "
            "completion_only_loss: false), as TRL trains a formatted text column");
}

TEST(LossMaskNote, TemplateIsLastFieldOnlyAndSaysHowToTrainLikeTrl) {
  const std::string yaml = "template: \"### context: {input}\\n### question: {target}\"\n";
  EXPECT_EQ(note(DataFormat::TEMPLATE, yaml),
            "loss: on the template's last field and the text after it only (template format; "
            "completion_only_loss default true); TRL trains the whole formatted text (it has no "
            "template format: the seeds make one text of each row): set completion_only_loss: "
            "false");
  EXPECT_EQ(note(DataFormat::TEMPLATE, yaml + "completion_only_loss: false\n"),
            "loss: on the whole rendered template (template format; completion_only_loss: "
            "false), as TRL trains a formatting_func's text");
}

TEST(LossMaskNote, PromptCompletionAndTextAsTrl) {
  EXPECT_EQ(note(DataFormat::PROMPT_COMPLETION),
            "loss: on the completion only (prompt_completion format; completion_only_loss "
            "default true, as TRL)");
  EXPECT_EQ(note(DataFormat::PROMPT_COMPLETION, "completion_only_loss: false\n"),
            "loss: on prompt and completion (prompt_completion format; completion_only_loss: "
            "false, as TRL)");
  EXPECT_EQ(note(DataFormat::TEXT), "loss: on every token of the text (text format, as TRL)");
  for (DataFormat f : {DataFormat::PROMPT_COMPLETION, DataFormat::TEXT})
    EXPECT_EQ(note(f).find(kToTrl), std::string::npos);
}

TEST(LossMaskNote, MessagesAsTrl) {
  EXPECT_EQ(note(DataFormat::MESSAGES),
            "loss: on the whole conversation, every role's turns (messages format; "
            "assistant_only_loss default false, as TRL); assistant_only_loss: true trains the "
            "assistant replies only");
  EXPECT_EQ(note(DataFormat::MESSAGES, "assistant_only_loss: true\n"),
            "loss: on the assistant replies only (messages format; assistant_only_loss: true, as "
            "TRL)");
  const std::string col = note(DataFormat::MESSAGES, "completion_only_loss: true\n");
  EXPECT_NE(col.find("; completion_only_loss does not apply to messages data (nor in TRL)"),
            std::string::npos)
      << col;
}

}  // namespace
}  // namespace tuna
