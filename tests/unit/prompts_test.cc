#include "client/model/prompts.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace duet::model {
namespace {

constexpr std::array<PromptDepth, 3> kDepths = {PromptDepth::kLight, PromptDepth::kMedium,
                                                PromptDepth::kDeep};

// A fixed pseudo-random sequence (Numerical Recipes' LCG) so draws are the same on every run.
class Lcg {
 public:
  explicit Lcg(std::uint32_t seed) : state_(seed) {}
  std::uint32_t Next() {
    state_ = state_ * 1664525u + 1013904223u;
    return state_;
  }

 private:
  std::uint32_t state_;
};

std::size_t CountOf(std::optional<PromptDepth> depth) {
  const auto& deck = PromptDeck();
  return std::count_if(deck.begin(), deck.end(),
                       [&](const Prompt& p) { return !depth || p.depth == *depth; });
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Draws until the deck says it restarted, adding every id to `used` as the CLI does, and
// returns the ids drawn before the restart.
std::vector<std::string> DrawOneCycle(std::optional<PromptDepth> depth, std::set<std::string>& used,
                                      Lcg& random) {
  std::vector<std::string> drawn;
  const std::size_t limit = PromptDeck().size() + 1;
  while (drawn.size() <= limit) {
    PromptPick pick = NextPrompt(depth, used, random.Next());
    EXPECT_NE(pick.prompt, nullptr);
    if (pick.prompt == nullptr || pick.deck_restarted) break;
    if (depth) {
      EXPECT_EQ(pick.prompt->depth, *depth);
    }
    drawn.emplace_back(pick.prompt->id);
    used.emplace(pick.prompt->id);
  }
  return drawn;
}

// --- The deck's shape ---

TEST(PromptDeck, HoldsAtLeast132PromptsAndAtLeast44PerDepth) {
  EXPECT_GE(PromptDeck().size(), 132u);
  for (PromptDepth depth : kDepths) EXPECT_GE(CountOf(depth), 44u) << DepthName(depth);
}

TEST(PromptDeck, IdsAreUniqueAndNumberedInOrderWithinTheirDepth) {
  std::set<std::string_view> ids;
  std::map<PromptDepth, int> next_number;
  for (const Prompt& p : PromptDeck()) {
    EXPECT_TRUE(ids.insert(p.id).second) << "duplicate id " << p.id;
    const std::string prefix = std::string(DepthName(p.depth)) + "-";
    ASSERT_EQ(p.id.size(), prefix.size() + 2) << p.id;
    EXPECT_EQ(p.id.substr(0, prefix.size()), prefix) << p.id;
    const char tens = p.id[prefix.size()];
    const char ones = p.id[prefix.size() + 1];
    ASSERT_TRUE(std::isdigit(static_cast<unsigned char>(tens)) &&
                std::isdigit(static_cast<unsigned char>(ones)))
        << p.id;
    EXPECT_EQ((tens - '0') * 10 + (ones - '0'), ++next_number[p.depth]) << p.id;
  }
}

TEST(PromptDeck, EveryThemeAppearsInEveryDepthAndThereAreAtLeastSixThemes) {
  std::map<std::string_view, std::set<PromptDepth>> depths_of_theme;
  for (const Prompt& p : PromptDeck()) {
    EXPECT_FALSE(p.theme.empty()) << p.id;
    depths_of_theme[p.theme].insert(p.depth);
  }
  EXPECT_GE(depths_of_theme.size(), 6u);
  for (const auto& [theme, depths] : depths_of_theme) {
    EXPECT_EQ(depths.size(), kDepths.size()) << "theme " << theme << " misses a depth";
  }
}

// --- The questions themselves ---

TEST(PromptDeck, EveryTextIsOneShortPrintableAsciiQuestion) {
  for (const Prompt& p : PromptDeck()) {
    ASSERT_FALSE(p.text.empty()) << p.id;
    EXPECT_LT(p.text.size(), 160u) << p.id;
    EXPECT_EQ(p.text.back(), '?') << p.id;
    EXPECT_EQ(std::count(p.text.begin(), p.text.end(), '?'), 1) << p.id;
    for (char c : p.text) {
      const auto byte = static_cast<unsigned char>(c);
      EXPECT_TRUE(byte >= 0x20 && byte < 0x7f) << p.id << " has byte " << int{byte};
    }
  }
}

TEST(PromptDeck, NoTextOpensLikeAYesOrNoQuestion) {
  const std::set<std::string> closed_openers = {"do",    "does", "did",  "are",   "is",
                                                "was",   "were", "have", "has",   "would",
                                                "could", "can",  "will", "should"};
  for (const Prompt& p : PromptDeck()) {
    const std::string first_word = Lower(p.text.substr(0, p.text.find(' ')));
    EXPECT_FALSE(closed_openers.contains(first_word)) << p.id << ": " << p.text;
  }
}

TEST(PromptDeck, TextsAreUniqueIgnoringCase) {
  std::set<std::string> texts;
  for (const Prompt& p : PromptDeck()) {
    EXPECT_TRUE(texts.insert(Lower(p.text)).second) << "repeated text at " << p.id;
  }
}

// --- Depth names ---

TEST(PromptDepthName, RoundTripsThroughParse) {
  for (PromptDepth depth : kDepths) EXPECT_EQ(ParseDepth(DepthName(depth)), depth);
  EXPECT_EQ(DepthName(PromptDepth::kLight), "light");
  EXPECT_EQ(DepthName(PromptDepth::kMedium), "medium");
  EXPECT_EQ(DepthName(PromptDepth::kDeep), "deep");
}

TEST(PromptDepthName, RejectsUnknownNames) {
  EXPECT_EQ(ParseDepth("extreme"), std::nullopt);
  EXPECT_EQ(ParseDepth(""), std::nullopt);
  EXPECT_EQ(ParseDepth("deep "), std::nullopt);
}

// --- Picking the next prompt ---

TEST(NextPrompt, NoQuestionRepeatsBeforeTheDepthIsUsedUp) {
  Lcg random(12345);
  for (PromptDepth depth : kDepths) {
    std::set<std::string> used;
    std::vector<std::string> drawn = DrawOneCycle(depth, used, random);
    EXPECT_EQ(drawn.size(), CountOf(depth)) << DepthName(depth);
    EXPECT_EQ(std::set<std::string>(drawn.begin(), drawn.end()).size(), drawn.size());

    PromptPick after = NextPrompt(depth, used, random.Next());
    EXPECT_TRUE(after.deck_restarted);
    ASSERT_NE(after.prompt, nullptr);
    EXPECT_EQ(after.prompt->depth, depth);
  }
}

TEST(NextPrompt, NoQuestionRepeatsBeforeTheWholeDeckIsUsedUp) {
  Lcg random(777);
  std::set<std::string> used;
  std::vector<std::string> drawn = DrawOneCycle(std::nullopt, used, random);
  EXPECT_EQ(drawn.size(), PromptDeck().size());
  EXPECT_EQ(std::set<std::string>(drawn.begin(), drawn.end()).size(), drawn.size());

  PromptPick after = NextPrompt(std::nullopt, used, random.Next());
  EXPECT_TRUE(after.deck_restarted);
  EXPECT_NE(after.prompt, nullptr);
}

TEST(NextPrompt, RestartsWhenEveryIdIsUsed) {
  std::set<std::string> all;
  for (const Prompt& p : PromptDeck()) all.emplace(p.id);
  for (PromptDepth depth : kDepths) {
    PromptPick pick = NextPrompt(depth, all, 0xffffffffu);
    EXPECT_TRUE(pick.deck_restarted);
    ASSERT_NE(pick.prompt, nullptr);
    EXPECT_EQ(pick.prompt->depth, depth);
  }
  PromptPick any = NextPrompt(std::nullopt, all, 42);
  EXPECT_TRUE(any.deck_restarted);
  EXPECT_NE(any.prompt, nullptr);
}

TEST(NextPrompt, UsingUpOneDepthDoesNotRestartAnother) {
  std::set<std::string> used;
  for (const Prompt& p : PromptDeck()) {
    if (p.depth == PromptDepth::kLight) used.emplace(p.id);
  }
  PromptPick light = NextPrompt(PromptDepth::kLight, used, 3);
  EXPECT_TRUE(light.deck_restarted);
  PromptPick deep = NextPrompt(PromptDepth::kDeep, used, 3);
  EXPECT_FALSE(deep.deck_restarted);
  ASSERT_NE(deep.prompt, nullptr);
  EXPECT_EQ(deep.prompt->depth, PromptDepth::kDeep);
}

TEST(NextPrompt, IgnoresIdsThatAreNotInTheDeck) {
  Lcg random(99);
  std::set<std::string> used = {"", "light-00", "light-999", "extreme-01", "not an id"};
  std::vector<std::string> drawn = DrawOneCycle(PromptDepth::kMedium, used, random);
  EXPECT_EQ(drawn.size(), CountOf(PromptDepth::kMedium));
}

TEST(NextPrompt, LeavesTheOneUnusedPromptWhateverTheRandomNumber) {
  std::set<std::string> used;
  for (const Prompt& p : PromptDeck()) used.emplace(p.id);
  used.erase("deep-07");
  used.insert("medium-999");
  for (std::uint32_t random : {0u, 1u, 12345u, 0xffffffffu}) {
    PromptPick pick = NextPrompt(PromptDepth::kDeep, used, random);
    EXPECT_FALSE(pick.deck_restarted);
    ASSERT_NE(pick.prompt, nullptr);
    EXPECT_EQ(pick.prompt->id, "deep-07");
  }
}

TEST(NextPrompt, PicksByRandomModuloTheCandidatesInDeckOrder) {
  const std::size_t light_count = CountOf(PromptDepth::kLight);
  const std::set<std::string> none;
  EXPECT_EQ(NextPrompt(PromptDepth::kLight, none, 0).prompt->id, "light-01");
  EXPECT_EQ(NextPrompt(PromptDepth::kLight, none, 1).prompt->id, "light-02");
  EXPECT_EQ(
      NextPrompt(PromptDepth::kLight, none, static_cast<std::uint32_t>(light_count)).prompt->id,
      "light-01");
  const std::set<std::string> first_used = {"light-01"};
  EXPECT_EQ(NextPrompt(PromptDepth::kLight, first_used, 0).prompt->id, "light-02");
}

}  // namespace
}  // namespace duet::model

namespace duet::model {
namespace {

TEST(QuestionOfTheDay, EveryQuestionComesOnceInAPassAndBothPartnersGetTheSame) {
  const std::string key(32, 'k');
  const auto size = static_cast<std::int64_t>(PromptDeck().size());
  const std::int64_t start = 20000 / size * size;  // the first day of a pass
  std::set<std::string_view> asked;
  for (std::int64_t day = start; day < start + size; ++day) asked.insert(QuestionOfTheDay(day, key).id);
  EXPECT_EQ(asked.size(), PromptDeck().size()) << "no question comes back before all were asked";
  EXPECT_EQ(QuestionOfTheDay(start + 3, key).id, QuestionOfTheDay(start + 3, std::string(32, 'k')).id);
  int same_order = 0, same_under_other_key = 0;
  for (std::int64_t day = start; day < start + 20; ++day) {
    same_order += QuestionOfTheDay(day, key).id == QuestionOfTheDay(day + size, key).id;
    same_under_other_key += QuestionOfTheDay(day, key).id == QuestionOfTheDay(day, std::string(32, 'x')).id;
  }
  EXPECT_LT(same_order, 5) << "each pass has its own order";
  EXPECT_LT(same_under_other_key, 5) << "another couple's key gives other days";
  EXPECT_NE(FindPrompt(QuestionOfTheDay(-1, key).id), nullptr) << "days before 1970 are days too";
  EXPECT_EQ(FindPrompt("no-such-question"), nullptr);
}

}  // namespace
}  // namespace duet::model
