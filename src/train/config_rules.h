// Rules between `tuna train` config keys (see config.h): settings that contradict each other or
// that cannot mean what the user wants, refused as the Hugging Face peers refuse them
// (TrainingArguments.__post_init__, BitsAndBytesConfig, LoraConfig, TRL's SFTTrainer, transformers'
// get_scheduler), naming both keys and where each was set. Per-key types and ranges are
// config.cpp's.
#pragma once

#include "train/config.h"

namespace tuna {

// Throws a user error (exit 2) for the first broken rule; docs/config.md lists them.
void check_config_rules(const TrainConfig& cfg);

// Whether the run trains a LoRA adapter: use_peft as given, else true when a lora key or adapter
// is set. A config naming none of them is a user error (exit 2) asking for use_peft: true or
// false — the HF Trainer without a LoraConfig trains every weight, tuna used to train LoRA, and
// neither guess is silent. `tuna train` checks it before the model loads.
bool peft_enabled(const TrainConfig& cfg);

}  // namespace tuna
