// Finding a Hugging Face model on disk: a directory, or a repo id ("ORG/NAME") already present
// in the local Hugging Face cache ($HF_HUB_CACHE, else $HF_HOME/hub, else
// ~/.cache/huggingface/hub; models--ORG--NAME/snapshots/REV/, REV from refs/main when present).
// Nothing is downloaded.
#pragma once

#include <string>
#include <vector>

namespace tuna {

// Returns the directory holding config.json; throws a user error listing what was searched.
std::string resolve_model_dir(const std::string& model_arg);
std::vector<std::string> hf_cache_roots();
// True when `path` ends in ".gguf" (a GGUF model argument, whether or not the file exists).
bool has_gguf_extension(const std::string& path);

}  // namespace tuna
