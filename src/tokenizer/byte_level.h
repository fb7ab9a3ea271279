// GPT-2's byte-level alphabet (bytes_to_unicode): every byte maps to one printable code point
// ('!'..'~', '¡'..'¬', '®'..'ÿ' map to themselves, the other 68 bytes to U+0100 + n in order).
// Used by the ByteLevel pre-tokenizer, normalizer and decoder. Nothing else.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tuna::tok {

// Appends the byte-level spelling of every byte of `in`.
void byte_level_encode(std::string_view in, std::string& out);
// The byte a byte-level code point stands for, or -1.
int byte_level_decode_char(uint32_t cp);

}  // namespace tuna::tok
