// Wrapping a person's text at the terminal's width: at spaces where it can,
// inside a word only when the word alone is wider than the line, and never
// inside a UTF-8 character. Wide characters (CJK, emoji) take two columns,
// combining marks none, as a terminal draws them.
#include <sys/ioctl.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>

#include "base/utf8.h"
#include "client/cli/cli.h"

namespace duet::client::cli {
namespace {

char32_t Decode(std::string_view text, std::size_t length) {
  const auto b = [&](std::size_t i) { return static_cast<char32_t>(static_cast<unsigned char>(text[i])); };
  switch (length) {
    case 1: return b(0);
    case 2: return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3: return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    default: return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
}

std::size_t Columns(char32_t c) {
  if ((c >= 0x0300 && c <= 0x036F) || (c >= 0x200B && c <= 0x200F) || c == 0xFE0F) return 0;
  if ((c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF) || (c >= 0xAC00 && c <= 0xD7A3) ||
      (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
      (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) || (c >= 0x1F900 && c <= 0x1F9FF) ||
      (c >= 0x20000 && c <= 0x3FFFD))
    return 2;
  return 1;
}

}  // namespace

std::size_t DisplayWidth(std::string_view text) {
  std::size_t width = 0;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = std::max<std::size_t>(1, Utf8SequenceLength(text.substr(i)));
    width += Columns(Decode(text.substr(i), length));
    i += length;
  }
  return width;
}

std::vector<std::string> WrapLine(std::string_view line, std::size_t width) {
  std::vector<std::string> out;
  if (width == 0 || DisplayWidth(line) <= width) {
    out.emplace_back(line);
    return out;
  }
  // Words with the spaces before them; the spaces where a line breaks are
  // dropped, so no line starts or ends with them and none is empty.
  std::string current;
  std::size_t current_width = 0;
  for (std::size_t i = 0; i < line.size();) {
    std::size_t word_start = i;
    while (word_start < line.size() && line[word_start] == ' ') ++word_start;
    std::size_t word_end = word_start;
    while (word_end < line.size() && line[word_end] != ' ') ++word_end;
    const std::string_view spaces = line.substr(i, word_start - i);
    std::string_view word = line.substr(word_start, word_end - word_start);
    i = word_end;
    std::size_t word_width = DisplayWidth(word);
    if (current_width + spaces.size() + word_width <= width) {
      current.append(spaces).append(word);
      current_width += spaces.size() + word_width;
      continue;
    }
    if (!current.empty()) out.push_back(std::move(current));
    current.clear();
    current_width = 0;
    // A word wider than a line is cut, between characters.
    while (word_width > width) {
      std::size_t cut = 0, cut_width = 0;
      while (cut < word.size()) {
        const std::size_t length = std::max<std::size_t>(1, Utf8SequenceLength(word.substr(cut)));
        const std::size_t w = Columns(Decode(word.substr(cut), length));
        if (cut_width + w > width && cut > 0) break;
        cut += length;
        cut_width += w;
      }
      out.emplace_back(word.substr(0, cut));
      word.remove_prefix(cut);
      word_width = DisplayWidth(word);
    }
    current.assign(word);
    current_width = word_width;
  }
  if (!current.empty() || out.empty()) out.push_back(std::move(current));
  return out;
}

std::size_t TerminalColumns() {
  winsize size{};
  if (::isatty(STDOUT_FILENO) && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
    return size.ws_col;
  // A pipe is not wrapped, unless COLUMNS asks for it (as for `ls`).
  if (const char* columns = std::getenv("COLUMNS"); columns != nullptr) {
    std::size_t value = 0;
    const std::string_view text(columns);
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc() && end == text.data() + text.size() && value >= 20 && value <= 1000) return value;
  }
  return 0;
}

}  // namespace duet::client::cli
