#include "client/model/prompts.h"

#include <algorithm>
#include <iterator>

#include "crypto/crypto.h"

namespace duet::model {
namespace {

// The questions follow the advice duet is built on: start small, let the other person choose
// how much to say, never corner them. So every question is open (no yes/no to hide behind or
// be pinned by), assumes no particular life (job, family, faith, money, home), and the deep
// ones stay gentle and never accuse. Ids are stable forever, because a couple's history stores
// them: a new question takes the next free number of its depth, and an id never moves to other
// words.
constexpr Prompt kPrompts[] = {
    // --- light ---
    {"light-01", PromptDepth::kLight, "everyday", "What small thing made you smile today?"},
    {"light-02", PromptDepth::kLight, "everyday",
     "What does your ideal slow morning look like, from the moment you wake up?"},
    {"light-03", PromptDepth::kLight, "everyday",
     "Which song has been stuck in your head lately, and how did it get there?"},
    {"light-04", PromptDepth::kLight, "everyday", "What is the best thing you ate this week?"},
    {"light-05", PromptDepth::kLight, "everyday",
     "What tiny routine makes an ordinary day feel a little better for you?"},
    {"light-06", PromptDepth::kLight, "everyday",
     "What did you notice today that most people would walk right past?"},
    {"light-07", PromptDepth::kLight, "memories",
     "What snack did you love most when you were little?"},
    {"light-08", PromptDepth::kLight, "memories",
     "What silly moment from years ago still makes you laugh?"},
    {"light-09", PromptDepth::kLight, "memories",
     "Which place from your early years can you still picture in detail?"},
    {"light-10", PromptDepth::kLight, "memories",
     "What was your favorite game to play when you were small?"},
    {"light-11", PromptDepth::kLight, "memories",
     "Which day out from long ago do you still think about fondly?"},
    {"light-12", PromptDepth::kLight, "memories",
     "What story, show or cartoon did you love growing up, and what drew you to it?"},
    {"light-13", PromptDepth::kLight, "dreams",
     "If you could wake up tomorrow with one new skill, which would you pick?"},
    {"light-14", PromptDepth::kLight, "dreams",
     "Where would you love to spend a lazy week, and what would you do there?"},
    {"light-15", PromptDepth::kLight, "dreams",
     "Which fictional character would you most like to share a meal with, and why?"},
    {"light-16", PromptDepth::kLight, "dreams",
     "What would a completely free day look like if nothing were in the way?"},
    {"light-17", PromptDepth::kLight, "dreams", "Which hobby have you always been curious to try?"},
    {"light-18", PromptDepth::kLight, "dreams",
     "If one season could last all year, which would you choose and why?"},
    {"light-19", PromptDepth::kLight, "us", "What was your very first impression of me?"},
    {"light-20", PromptDepth::kLight, "us",
     "Which of our inside jokes still makes you laugh the most?"},
    {"light-21", PromptDepth::kLight, "us",
     "What song would you put on a playlist about the two of us?"},
    {"light-22", PromptDepth::kLight, "us",
     "If the two of us had a theme tune, how would it sound?"},
    {"light-23", PromptDepth::kLight, "us", "What is your favorite small thing we do together?"},
    {"light-24", PromptDepth::kLight, "us", "Which meal would you like us to share sometime soon?"},
    {"light-25", PromptDepth::kLight, "feelings",
     "What lifts your mood when you feel a little flat?"},
    {"light-26", PromptDepth::kLight, "feelings",
     "Which color best matches how you feel right now, and why?"},
    {"light-27", PromptDepth::kLight, "feelings",
     "What kind of weather feels most like you today?"},
    {"light-28", PromptDepth::kLight, "feelings",
     "What small comfort do you reach for after a long day?"},
    {"light-29", PromptDepth::kLight, "feelings", "What helped you feel calm recently?"},
    {"light-30", PromptDepth::kLight, "feelings",
     "Which sound or smell puts you in a good mood straight away?"},
    {"light-31", PromptDepth::kLight, "growth",
     "What is something new you learned this week, big or small?"},
    {"light-32", PromptDepth::kLight, "growth",
     "What skill are you quietly proud of getting better at?"},
    {"light-33", PromptDepth::kLight, "growth", "Which small habit have you been enjoying lately?"},
    {"light-34", PromptDepth::kLight, "growth", "What have you tried for the first time recently?"},
    {"light-35", PromptDepth::kLight, "growth",
     "What piece of advice from someone turned out to be surprisingly useful?"},
    {"light-36", PromptDepth::kLight, "growth",
     "What would you like to learn just for the fun of it?"},
    {"light-37", PromptDepth::kLight, "appreciation",
     "What did I do recently that made your day a little easier?"},
    {"light-38", PromptDepth::kLight, "appreciation",
     "Who made you laugh recently, and how did they do it?"},
    {"light-39", PromptDepth::kLight, "appreciation", "What everyday thing are you glad exists?"},
    {"light-40", PromptDepth::kLight, "appreciation",
     "Which of your own quirks do you secretly love?"},
    {"light-41", PromptDepth::kLight, "appreciation",
     "What compliment has stuck with you, and why that one?"},
    {"light-42", PromptDepth::kLight, "appreciation",
     "What little thing about today are you thankful for?"},
    {"light-43", PromptDepth::kLight, "play",
     "If you were a kitchen utensil, which one would you be and why?"},
    {"light-44", PromptDepth::kLight, "play",
     "Which animal matches my personality best, and what makes you say so?"},
    {"light-45", PromptDepth::kLight, "play", "If our week were a movie, what genre would it be?"},
    {"light-46", PromptDepth::kLight, "play",
     "Which superpower would be the most fun to have for one afternoon?"},
    {"light-47", PromptDepth::kLight, "play",
     "Which cartoon character would you swap places with for a day, and why?"},
    {"light-48", PromptDepth::kLight, "play",
     "What made-up word deserves a place in the dictionary, and what would it mean?"},
    // --- medium ---
    {"medium-01", PromptDepth::kMedium, "everyday",
     "What part of your usual week gives you the most energy?"},
    {"medium-02", PromptDepth::kMedium, "everyday",
     "What part of your usual week tends to drain you, and what helps when it does?"},
    {"medium-03", PromptDepth::kMedium, "everyday",
     "How do you like to spend the first hour after a busy day?"},
    {"medium-04", PromptDepth::kMedium, "everyday",
     "What does a good evening look like for you at the moment?"},
    {"medium-05", PromptDepth::kMedium, "everyday",
     "Which part of your day do you wish you had more time for?"},
    {"medium-06", PromptDepth::kMedium, "everyday",
     "What helps you switch off when your mind is still racing at night?"},
    {"medium-07", PromptDepth::kMedium, "memories",
     "What moment from your past shaped who you are today?"},
    {"medium-08", PromptDepth::kMedium, "memories",
     "Who did you look up to when you were younger, and what did you admire?"},
    {"medium-09", PromptDepth::kMedium, "memories",
     "Which memory of ours do you return to when you want to feel close to me?"},
    {"medium-10", PromptDepth::kMedium, "memories",
     "What turning point in your life do few people know about?"},
    {"medium-11", PromptDepth::kMedium, "memories",
     "What lesson from your teenage years do you still carry with you?"},
    {"medium-12", PromptDepth::kMedium, "memories",
     "Which memory makes you feel proud of your younger self?"},
    {"medium-13", PromptDepth::kMedium, "dreams",
     "How would you like your life to feel five years from now?"},
    {"medium-14", PromptDepth::kMedium, "dreams",
     "What dream did you set aside that still crosses your mind?"},
    {"medium-15", PromptDepth::kMedium, "dreams",
     "Which adventure would you love for us to plan together someday?"},
    {"medium-16", PromptDepth::kMedium, "dreams",
     "What kind of person are you hoping to grow into?"},
    {"medium-17", PromptDepth::kMedium, "dreams",
     "What would you spend your time on if you knew you could not fail?"},
    {"medium-18", PromptDepth::kMedium, "dreams",
     "What is something you want to experience at least once in your life?"},
    {"medium-19", PromptDepth::kMedium, "us", "When do you feel most like a team with me?"},
    {"medium-20", PromptDepth::kMedium, "us", "What do I do that makes you feel understood?"},
    {"medium-21", PromptDepth::kMedium, "us",
     "How would you describe the two of us to a stranger in three words?"},
    {"medium-22", PromptDepth::kMedium, "us", "What little tradition would you like us to start?"},
    {"medium-23", PromptDepth::kMedium, "us",
     "Which moment this year made you feel closest to me?"},
    {"medium-24", PromptDepth::kMedium, "us",
     "What do you think we do better now than when we first met?"},
    {"medium-25", PromptDepth::kMedium, "feelings", "How can I tell when you need a bit of space?"},
    {"medium-26", PromptDepth::kMedium, "feelings",
     "When you feel stressed, what helps most: talking, quiet, distraction or something else?"},
    {"medium-27", PromptDepth::kMedium, "feelings",
     "Which emotion is easiest for you to show, and which is harder?"},
    {"medium-28", PromptDepth::kMedium, "feelings", "What has been on your mind a lot lately?"},
    {"medium-29", PromptDepth::kMedium, "feelings",
     "How do you like to be comforted after a hard day?"},
    {"medium-30", PromptDepth::kMedium, "feelings", "What usually helps you feel heard?"},
    {"medium-31", PromptDepth::kMedium, "growth",
     "What habit are you working on, and how is it going?"},
    {"medium-32", PromptDepth::kMedium, "growth",
     "What did you use to believe that you see differently now?"},
    {"medium-33", PromptDepth::kMedium, "growth",
     "What challenge from this year taught you something?"},
    {"medium-34", PromptDepth::kMedium, "growth",
     "Which strength of yours has surprised you recently?"},
    {"medium-35", PromptDepth::kMedium, "growth",
     "What kind of support helps you most when you try something hard?"},
    {"medium-36", PromptDepth::kMedium, "growth",
     "What mistake of yours led to something good in the end?"},
    {"medium-37", PromptDepth::kMedium, "appreciation",
     "What about me do you appreciate but rarely say out loud?"},
    {"medium-38", PromptDepth::kMedium, "appreciation",
     "Who showed up for you in a way you will never forget?"},
    {"medium-39", PromptDepth::kMedium, "appreciation",
     "Which quality in yourself have you come to value more over time?"},
    {"medium-40", PromptDepth::kMedium, "appreciation",
     "Which small gesture of mine means more to you than I might realize?"},
    {"medium-41", PromptDepth::kMedium, "appreciation",
     "When did you last feel really cared for, and what happened?"},
    {"medium-42", PromptDepth::kMedium, "appreciation", "How have you noticed me growing lately?"},
    {"medium-43", PromptDepth::kMedium, "play",
     "If we swapped roles for a day, what do you think would surprise you most?"},
    {"medium-44", PromptDepth::kMedium, "play",
     "What would be on the menu of a restaurant named after you?"},
    {"medium-45", PromptDepth::kMedium, "play",
     "Which song would play on the soundtrack of your best moments?"},
    {"medium-46", PromptDepth::kMedium, "play",
     "What would the title of your life story be, and why?"},
    {"medium-47", PromptDepth::kMedium, "play",
     "If we designed a board game about the two of us, what would the rules be?"},
    {"medium-48", PromptDepth::kMedium, "play",
     "Which made-up holiday would you love for us to celebrate every year?"},
    // --- deep ---
    {"deep-01", PromptDepth::kDeep, "everyday",
     "What part of your daily life feels heavier than you let on?"},
    {"deep-02", PromptDepth::kDeep, "everyday",
     "When in the week do you feel most alone, and what might help in those moments?"},
    {"deep-03", PromptDepth::kDeep, "everyday",
     "What do you carry every day that you wish someone could hold for a while?"},
    {"deep-04", PromptDepth::kDeep, "everyday",
     "How could our days make more room for what matters most to you?"},
    {"deep-05", PromptDepth::kDeep, "everyday",
     "Which part of your routine keeps you steady, and what would you miss without it?"},
    {"deep-06", PromptDepth::kDeep, "everyday",
     "What quiet worry follows you through an ordinary day?"},
    {"deep-07", PromptDepth::kDeep, "memories",
     "What memory still feels tender when you think about it?"},
    {"deep-08", PromptDepth::kDeep, "memories",
     "What from your past do you wish had gone differently, and how does it touch you now?"},
    {"deep-09", PromptDepth::kDeep, "memories",
     "When did you first feel truly seen by someone, and what did they do?"},
    {"deep-10", PromptDepth::kDeep, "memories",
     "What helped you through a time when you felt very alone?"},
    {"deep-11", PromptDepth::kDeep, "memories",
     "Which old hurt still shapes how you react today, as far as you can tell?"},
    {"deep-12", PromptDepth::kDeep, "memories", "What did you need to hear when you were younger?"},
    {"deep-13", PromptDepth::kDeep, "dreams",
     "What hope do you hold that you rarely say out loud?"},
    {"deep-14", PromptDepth::kDeep, "dreams", "Which dream feels a little scary to want, and why?"},
    {"deep-15", PromptDepth::kDeep, "dreams",
     "What would you like the people you love to remember about you?"},
    {"deep-16", PromptDepth::kDeep, "dreams", "What does a life well lived look like to you?"},
    {"deep-17", PromptDepth::kDeep, "dreams",
     "What do you hope the two of us will still share in ten years?"},
    {"deep-18", PromptDepth::kDeep, "dreams",
     "What fear sometimes stands between you and what you want most?"},
    {"deep-19", PromptDepth::kDeep, "us",
     "What do you need from me when you are struggling but can't find the words?"},
    {"deep-20", PromptDepth::kDeep, "us",
     "When have you felt unsure of your place with me, and what helps you feel secure?"},
    {"deep-21", PromptDepth::kDeep, "us",
     "What have you hesitated to tell me, and what would make it easier to share?"},
    {"deep-22", PromptDepth::kDeep, "us",
     "How can I show you love in a way that truly reaches you?"},
    {"deep-23", PromptDepth::kDeep, "us",
     "Which of your boundaries would you like me to understand better?"},
    {"deep-24", PromptDepth::kDeep, "us",
     "How would you like us to treat each other when we disagree?"},
    {"deep-25", PromptDepth::kDeep, "feelings",
     "Which feeling is hardest for you to share with me, and what makes it hard?"},
    {"deep-26", PromptDepth::kDeep, "feelings",
     "What are you most afraid of losing, and what helps you feel steadier about it?"},
    {"deep-27", PromptDepth::kDeep, "feelings",
     "When do you feel most vulnerable, and how can I be gentle with you then?"},
    {"deep-28", PromptDepth::kDeep, "feelings", "What does feeling safe with someone mean to you?"},
    {"deep-29", PromptDepth::kDeep, "feelings", "What emotion have you been holding back lately?"},
    {"deep-30", PromptDepth::kDeep, "feelings",
     "What helps you feel that you are enough, just as you are?"},
    {"deep-31", PromptDepth::kDeep, "growth",
     "What part of yourself are you still learning to accept?"},
    {"deep-32", PromptDepth::kDeep, "growth",
     "Which belief about yourself are you trying to let go of?"},
    {"deep-33", PromptDepth::kDeep, "growth",
     "How has a painful experience changed you in a way you value?"},
    {"deep-34", PromptDepth::kDeep, "growth", "What would you like to forgive yourself for?"},
    {"deep-35", PromptDepth::kDeep, "growth",
     "Where in your life do you want to be braver, and what would help?"},
    {"deep-36", PromptDepth::kDeep, "growth",
     "What have you learned about love that you wish you had known sooner?"},
    {"deep-37", PromptDepth::kDeep, "appreciation",
     "What about yourself do you wish more people noticed?"},
    {"deep-38", PromptDepth::kDeep, "appreciation",
     "When did I support you in a way that mattered more than I knew?"},
    {"deep-39", PromptDepth::kDeep, "appreciation",
     "What about us makes you feel grateful even on hard days?"},
    {"deep-40", PromptDepth::kDeep, "appreciation",
     "Who helped you become who you are, and what would you want them to know?"},
    {"deep-41", PromptDepth::kDeep, "appreciation",
     "What part of your own story are you proud of getting through?"},
    {"deep-42", PromptDepth::kDeep, "appreciation",
     "What do you love about me that has nothing to do with what I do for you?"},
    {"deep-43", PromptDepth::kDeep, "play",
     "If you could be completely carefree for one day, what would you let go of first?"},
    {"deep-44", PromptDepth::kDeep, "play",
     "What childlike part of you would you like to let out more often with me?"},
    {"deep-45", PromptDepth::kDeep, "play",
     "When did you last feel free to be silly, and what made it feel safe?"},
    {"deep-46", PromptDepth::kDeep, "play",
     "Which playful side of yourself do you tend to keep hidden, and why?"},
    {"deep-47", PromptDepth::kDeep, "play",
     "Which game or pastime reminds you of a happier time, and what felt good about it?"},
    {"deep-48", PromptDepth::kDeep, "play",
     "What would help you feel relaxed enough to play more, without worrying how you look?"},
};

}  // namespace

const std::vector<Prompt>& PromptDeck() {
  static const std::vector<Prompt> deck(std::begin(kPrompts), std::end(kPrompts));
  return deck;
}

std::string_view DepthName(PromptDepth depth) {
  switch (depth) {
    case PromptDepth::kLight:
      return "light";
    case PromptDepth::kMedium:
      return "medium";
    case PromptDepth::kDeep:
      return "deep";
  }
  // Only a value cast from outside the enum gets here; it names no depth.
  return "unknown";
}

std::optional<PromptDepth> ParseDepth(std::string_view name) {
  for (PromptDepth depth : {PromptDepth::kLight, PromptDepth::kMedium, PromptDepth::kDeep}) {
    if (name == DepthName(depth)) return depth;
  }
  return std::nullopt;
}

PromptPick NextPrompt(std::optional<PromptDepth> depth, const std::set<std::string>& used,
                      std::uint32_t random) {
  std::vector<const Prompt*> of_depth;
  std::vector<const Prompt*> unused;
  for (const Prompt& prompt : PromptDeck()) {
    if (depth && prompt.depth != *depth) continue;
    of_depth.push_back(&prompt);
    if (!used.contains(std::string(prompt.id))) unused.push_back(&prompt);
  }
  PromptPick pick;
  const std::vector<const Prompt*>* candidates = &unused;
  if (unused.empty()) {
    pick.deck_restarted = true;
    candidates = &of_depth;
  }
  // A depth cast from outside the enum matches nothing; the whole deck still gives an answer.
  if (candidates->empty()) {
    of_depth.clear();
    for (const Prompt& prompt : PromptDeck()) of_depth.push_back(&prompt);
    candidates = &of_depth;
  }
  pick.prompt = (*candidates)[random % candidates->size()];
  return pick;
}

}  // namespace duet::model

namespace duet::model {

const Prompt& QuestionOfTheDay(std::int64_t day, std::string_view key) {
  const auto& deck = PromptDeck();
  const auto size = static_cast<std::int64_t>(deck.size());
  // Floor division: days before 1970 still fall in a pass of the deck.
  const std::int64_t pass = day >= 0 ? day / size : (day - size + 1) / size;
  const std::int64_t position = day - pass * size;
  std::vector<std::pair<std::string, const Prompt*>> order;
  order.reserve(deck.size());
  for (const auto& prompt : deck)
    order.emplace_back(crypto::Hash(16, "duet/v1/daily-question/" + std::to_string(pass) + "/" + std::string(prompt.id), key),
                       &prompt);
  std::sort(order.begin(), order.end());
  return *order[static_cast<std::size_t>(position)].second;
}

const Prompt* FindPrompt(std::string_view id) {
  for (const auto& prompt : PromptDeck())
    if (prompt.id == id) return &prompt;
  return nullptr;
}

}  // namespace duet::model
