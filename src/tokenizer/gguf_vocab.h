// A Tokenizer from a GGUF file's tokenizer.ggml.* keys (issue 4 item 2; DESIGN.md §8 "Tokenizer
// ownership"): the same ids and decode as the Hugging Face tokenizer.json of the same model. The
// pipeline is rebuilt the way transformers' converters (convert_slow_tokenizer.py) build
// tokenizer.json from the same data, undoing what llama.cpp's converter changed on the way in:
//
// "llama" (SentencePiece BPE: tokens, scores, token_type):
//   - BPE over all pieces (id = position), unk = the unknown token, fuse_unk, byte_fallback.
//   - Merges: transformers' generate_merges(vocab, vocab_scores): every split of every piece
//     into two pieces, ordered by the piece's score (descending), then the left and right part
//     lengths in code points (descending), then piece id and the parts' ids (ascending).
//     SentencePiece gives control, user-defined, unknown and byte pieces score 0; llama.cpp
//     writes -1000 for control / user-defined ones, so every non-normal piece counts as 0.
//   - User-defined pieces: llama.cpp stores "▁" as " " ("pre-normalized"); turned back.
//   - Added tokens (normalized=false, in id order): control, user-defined and unknown pieces.
//   - Gemma (general.architecture "gemma*", GemmaConverter): normalizer Replace(" ", "▁"), no
//     prefix space, decoder Replace("▁", " ") + ByteFallback + Fuse; "<0x09>" becomes "\t" when
//     "\t" is not a piece; special = the bos/eos/unk/pad/sep/cls/mask pieces plus
//     <start_of_turn>, <end_of_turn> (GemmaConverter) and <start_of_image>, <end_of_image>
//     (Gemma 3's boi/eoi tokens) — Google's tokenizer.json marks <mask> and <unusedN> non-special.
//   - Other "llama" files (LlamaConverter, legacy): with add_space_prefix (default true) the
//     normalizer is Prepend("▁") + Replace(" ", "▁") and the decoder ends with Strip(" ", 1, 0);
//     control and unknown pieces are special.
//   - tokenizer.ggml.pre is not used (llama.cpp ignores it for SentencePiece vocabularies).
// "gpt2" (byte-level BPE: tokens, token_type, merges "a b", tokenizer.ggml.pre):
//   - pre "default", "gpt-2" (alias "gpt2"): ByteLevel(add_prefix_space=false, use_regex=true);
//   - "llama-bpe" ("llama3", "llama-v3"): Split(Llama 3 regex, Isolated) + ByteLevel without regex,
//     ignore_merges, clean_up_tokenization_spaces (Llama 3's config);
//   - "qwen2": NFC + Split(Qwen2 regex, Isolated) + ByteLevel without regex.
//   Decoder ByteLevel. Control pieces are added special tokens, user-defined ones added
//   non-special tokens (normalized=false: llama.cpp stores them as plain text); an added token is
//   also a model piece (in byte-level spelling) when that spelling is its text or a merge makes it.
// Both: bos/eos/unk/pad from the *_token_id keys, add_bos/add_eos from add_bos_token /
// add_eos_token (llama.cpp's defaults when absent), the chat template(s), model_max_length from
// {arch}.context_length.
//
// Not reconstructible (a GGUF does not store them): added-token flags other than special
// (lstrip, rstrip, single_word, normalized), tokens beyond the GGUF's vocabulary (Gemma 3's
// tokenizer.json adds the image placeholder <image_soft_token> at id 262144; the GGUF's 262,144
// pieces — and the model's 262,144 embedding rows — do not have it, so tuna tokenizes that string
// as text, as llama.cpp does), the config's eos choice (Gemma 3's tokenizer_config names
// <end_of_turn>; the GGUF's eos is <eos>) and padding side.
#pragma once

#include <string>
#include <vector>

#include "io/gguf.h"
#include "tokenizer/tokenizer.h"

namespace tuna {

// Builds the tokenizer of `gguf`. User errors (exit 2) name the file and key: no
// tokenizer.ggml.model, an unsupported model or pre-tokenizer name (listing the supported ones),
// arrays of the wrong type or length, merges that do not split into two vocabulary pieces.
Tokenizer tokenizer_from_gguf(const GgufFile& gguf);

// The tokenizer.ggml.model and tokenizer.ggml.pre values tuna supports (for messages and docs).
const std::vector<std::string>& gguf_supported_tokenizer_models();
const std::vector<std::string>& gguf_supported_pre_tokenizers();

}  // namespace tuna
