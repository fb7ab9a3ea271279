// GPT-2 byte-level alphabet tables; see byte_level.h.
#include "tokenizer/byte_level.h"

#include <array>

#include "core/utf8.h"

namespace tuna::tok {

namespace {

struct ByteTables {
  std::array<uint32_t, 256> byte_to_cp{};
  std::array<std::string, 256> byte_to_utf8;
  std::array<int16_t, 324> cp_to_byte{};  // code points < 324 cover the whole alphabet
  ByteTables() {
    cp_to_byte.fill(-1);
    uint32_t extra = 0;
    for (uint32_t b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      byte_to_cp[b] = printable ? b : 256 + extra++;
      byte_to_utf8[b] = utf8::encode(byte_to_cp[b]);
      cp_to_byte[byte_to_cp[b]] = static_cast<int16_t>(b);
    }
  }
};

const ByteTables& tables() {
  static const ByteTables t;
  return t;
}

}  // namespace

void byte_level_encode(std::string_view in, std::string& out) {
  const ByteTables& t = tables();
  for (char c : in) out += t.byte_to_utf8[static_cast<unsigned char>(c)];
}

int byte_level_decode_char(uint32_t cp) {
  if (cp >= 324) return -1;
  return tables().cp_to_byte[cp];
}

}  // namespace tuna::tok
