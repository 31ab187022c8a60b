// The conversation-starter deck that ships with duet (`duet prompt`):
// open-ended questions written for duet, graded light / medium / deep and
// grouped in themes, and the rule that picks the next one so no question
// comes back before every question of its depth has been asked.
//
// Pure: the deck is constant data; NextPrompt takes what was used and a
// random number and returns a choice, reading no clock and no randomness
// of its own. Any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace duet::model {

enum class PromptDepth { kLight, kMedium, kDeep };

struct Prompt {
  std::string_view id;     // stable forever, e.g. "light-07"; never reused for other words
  PromptDepth depth;
  std::string_view theme;  // e.g. "everyday", "memories", "dreams", "us", "feelings", "growth"
  std::string_view text;   // one open-ended question (not answerable by yes or no)
};

// Every prompt, in a fixed order; ids are unique.
const std::vector<Prompt>& PromptDeck();

std::string_view DepthName(PromptDepth depth);  // "light", "medium", "deep"
std::optional<PromptDepth> ParseDepth(std::string_view name);

struct PromptPick {
  const Prompt* prompt = nullptr;
  // True when every prompt that could be chosen had been used, so the cycle
  // started again: the caller forgets the used ids of that kind.
  bool deck_restarted = false;
};

// Picks uniformly (by `random`, any 32-bit value) among the prompts of
// `depth` (every depth when nullopt) whose ids are not in `used`. When none
// is left, picks among all of them and says the deck restarted.
PromptPick NextPrompt(std::optional<PromptDepth> depth, const std::set<std::string>& used,
                      std::uint32_t random);

// The question of the day `day` (days since 1970-01-01 in the reader's
// zone), the same for both partners: each pass through the deck is its own
// order, shuffled by a keyed hash under `key` (derived from the couple key,
// so the relay cannot tell which question is asked), and no question comes
// back before all of them have been asked.
const Prompt& QuestionOfTheDay(std::int64_t day, std::string_view key);
const Prompt* FindPrompt(std::string_view id);

}  // namespace duet::model
