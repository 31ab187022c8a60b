// Wrapping a note at the terminal's width (issue #13, item 11).
#include <gtest/gtest.h>

#include "client/cli/cli.h"

namespace duet::client::cli {
namespace {

using Lines = std::vector<std::string>;

TEST(WrapLine, BreaksAtSpacesAndKeepsShortLinesWhole) {
  EXPECT_EQ(WrapLine("a short note", 20), Lines{"a short note"});
  EXPECT_EQ(WrapLine("the quick brown fox jumps over the lazy dog", 16),
            (Lines{"the quick brown", "fox jumps over", "the lazy dog"}));
  EXPECT_EQ(WrapLine("exactly ten", 11), Lines{"exactly ten"});
  EXPECT_EQ(WrapLine("anything at all", 0), Lines{"anything at all"}) << "0: not wrapped";
  EXPECT_EQ(WrapLine("aaaa  bbbb", 4), (Lines{"aaaa", "bbbb"})) << "no empty line where two spaces break";
  EXPECT_EQ(WrapLine("aaa bbbb", 4), (Lines{"aaa", "bbbb"})) << "no trailing space";
  EXPECT_EQ(WrapLine("  indented words here", 12), (Lines{"  indented", "words here"}));
}

TEST(WrapLine, CutsAWordWiderThanTheLineAndNeverACharacter) {
  EXPECT_EQ(WrapLine("supercalifragilistic", 8), (Lines{"supercal", "ifragili", "stic"}));
  const auto lines = WrapLine("ääääääääää", 4);  // two bytes each
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "ääää");
  EXPECT_EQ(lines[2], "ää");
}

TEST(WrapLine, WideCharactersTakeTwoColumns) {
  EXPECT_EQ(DisplayWidth("東京"), 4u);
  EXPECT_EQ(DisplayWidth("e\xcc\x81"), 1u) << "e and a combining accent";
  EXPECT_EQ(WrapLine("東京 大阪 京都", 5), (Lines{"東京", "大阪", "京都"}));
}

}  // namespace
}  // namespace duet::client::cli
