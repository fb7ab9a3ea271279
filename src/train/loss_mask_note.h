// The loss-mask notice of `tuna train`: one line saying which tokens train for the resolved data
// format and loss settings, and — where TRL 0.25's SFTTrainer would train other tokens for the
// same data and settings — how to get TRL's behaviour. Words only: the masks themselves are
// data/example.cpp's.
#pragma once

#include <string>

#include "data/example.h"
#include "train/config.h"

namespace tuna {

// `format`: the resolved format (PreparedData::format, never AUTO). Starts with "loss: ".
std::string loss_mask_note(const TrainConfig& cfg, DataFormat format);

}  // namespace tuna
