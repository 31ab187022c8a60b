// UTF-8 as RFC 3629 defines it: the one test of "is this text" for record
// fields, names and anything the relay writes to its log.
//
// Strict on purpose: overlong encodings, UTF-16 surrogates (U+D800..DFFF)
// and code points past U+10FFFF are refused, because protobuf refuses them
// when it parses a proto3 string, and a record it cannot parse is a record
// lost. Pure functions; safe from any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace duet {

// The offset of the first byte that does not begin a valid UTF-8 sequence,
// or nullopt when all of `text` is valid.
inline std::optional<std::size_t> FirstInvalidUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;  // the range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      length = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      length = 3;
      if (b0 == 0xE0) low = 0xA0;   // overlong
      if (b0 == 0xED) high = 0x9F;  // surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      length = 4;
      if (b0 == 0xF0) low = 0x90;   // overlong
      if (b0 == 0xF4) high = 0x8F;  // past U+10FFFF
    } else {
      return i;
    }
    if (i + length > text.size()) return i;
    const auto b1 = static_cast<unsigned char>(text[i + 1]);
    if (b1 < low || b1 > high) return i;
    for (std::size_t k = 2; k < length; ++k) {
      const auto b = static_cast<unsigned char>(text[i + k]);
      if (b < 0x80 || b > 0xBF) return i;
    }
    i += length;
  }
  return std::nullopt;
}

inline bool IsValidUtf8(std::string_view text) { return !FirstInvalidUtf8(text).has_value(); }

}  // namespace duet
