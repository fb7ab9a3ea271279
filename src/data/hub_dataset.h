// A Hugging Face Hub dataset id (OWNER/NAME, as load_dataset takes it) where tuna expects a data
// file: the file of that dataset already in the local Hugging Face hub cache
// (datasets--OWNER--NAME/snapshots/REV/, the JSONL, JSON or CSV file of the split), or a user
// error saying tuna reads local files and how to export the dataset with Python. Nothing is
// downloaded; Parquet and Arrow files are not read.
#pragma once

#include <string>

namespace tuna {

// `path` itself when it exists or does not look like a Hub id (OWNER/NAME, no file extension);
// else the cached file (`key` "eval_dataset" prefers a validation/test file, others a train
// file) or a user error naming `key`.
std::string resolve_dataset_path(const std::string& path, const std::string& key);

}  // namespace tuna
