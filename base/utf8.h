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

// Length of the well-formed UTF-8 sequence at the start of `text`, or 0
// when there is none: an empty text, a stray continuation byte, an overlong
// form, a surrogate, a code point past U+10FFFF or a cut sequence (Unicode
// table 3-7).
inline std::size_t Utf8SequenceLength(std::string_view text) {
  if (text.empty()) return 0;
  const auto b0 = static_cast<unsigned char>(text[0]);
  if (b0 < 0x80) return 1;
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
    return 0;
  }
  if (text.size() < length) return 0;
  const auto b1 = static_cast<unsigned char>(text[1]);
  if (b1 < low || b1 > high) return 0;
  for (std::size_t k = 2; k < length; ++k)
    if ((static_cast<unsigned char>(text[k]) & 0xC0) != 0x80) return 0;
  return length;
}

// The offset of the first byte that does not begin a valid UTF-8 sequence,
// or nullopt when all of `text` is valid.
inline std::optional<std::size_t> FirstInvalidUtf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = Utf8SequenceLength(text.substr(i));
    if (length == 0) return i;
    i += length;
  }
  return std::nullopt;
}

inline bool IsValidUtf8(std::string_view text) { return !FirstInvalidUtf8(text).has_value(); }

}  // namespace duet
