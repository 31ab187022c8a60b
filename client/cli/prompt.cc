// duet prompt [--depth light|medium|deep] [--send]: an open-ended question
// from the deck that ships with duet. No question comes back before every
// one of its depth was drawn here or shared by either partner; --send
// shares it with the partner as a conversation starter.
#include <date/tz.h>

#include <sstream>

#include "client/cli/cli.h"
#include "client/model/prompts.h"
#include "client/model/reflection.h"
#include "client/model/timeplan.h"
#include "crypto/crypto.h"

namespace duet::client::cli {
namespace {

// Ids drawn in this cycle of the deck, space-separated; and the records of
// shared prompts counted into it already (by id: a partner's share can
// arrive after one of mine that is still unsent, and fold before it).
constexpr char kUsedMeta[] = "prompts.used";
constexpr char kSharesCountedMeta[] = "prompts.shares_counted";

struct PromptOptions {
  std::string depth;
  bool send = false;
};

std::uint32_t RandomUint32() {
  const std::string bytes = crypto::RandomBytes(4);
  std::uint32_t value = 0;
  for (unsigned char c : bytes) value = (value << 8) | c;
  return value;
}

int RunPrompt(const Cli& cli, const PromptOptions& o) {
  std::optional<model::PromptDepth> depth;
  if (!o.depth.empty()) depth = model::ParseDepth(o.depth);
  auto device = OpenDevice(cli);
  if (!device.ok()) return Fail(device.error());
  Device& d = *device.value();
  if (o.send && !PairedNow(d))
    return Fail(NotPairedYet(d, "there is no one to send it to yet (or leave out --send)"));
  auto loaded = LoadState(d);
  if (!loaded.ok()) return Fail(loaded.error());

  auto words_of = [&](const char* key) {
    std::set<std::string> words;
    if (auto meta = d.store().GetMeta(key); meta.ok() && meta.value()) {
      std::istringstream in(*meta.value());
      for (std::string word; in >> word;) words.insert(word);
    }
    return words;
  };
  std::set<std::string> used = words_of(kUsedMeta);
  std::set<std::string> counted = words_of(kSharesCountedMeta);
  // What either partner shared since the last draw counts as asked.
  for (const auto& share : loaded->state.prompts)
    if (counted.insert(crypto::Hex(share.record_id)).second) used.insert(share.prompt_id);

  const model::PromptPick pick = model::NextPrompt(depth, used, RandomUint32());
  if (pick.deck_restarted) {
    // A new cycle forgets what was asked of this depth (or of all of them).
    for (auto it = used.begin(); it != used.end();) {
      const bool same_depth = !depth || it->rfind(std::string(model::DepthName(*depth)) + "-", 0) == 0;
      it = same_depth ? used.erase(it) : std::next(it);
    }
  }
  used.insert(std::string(pick.prompt->id));
  auto joined = [](const std::set<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
    return out;
  };
  auto saved = d.store().SetMetas({{kUsedMeta, joined(used)}, {kSharesCountedMeta, joined(counted)}});
  if (!saved.ok()) return Fail(saved.error());

  const model::Prompt& p = *pick.prompt;
  nlohmann::json result = {{"id", std::string(p.id)},
                           {"depth", std::string(model::DepthName(p.depth))},
                           {"theme", std::string(p.theme)},
                           {"text", std::string(p.text)},
                           {"deck_restarted", pick.deck_restarted},
                           {"sent", o.send}};
  if (!cli.json) {
    if (pick.deck_restarted)
      std::printf("(every %s question has been asked; the deck starts again)\n",
                  depth ? std::string(model::DepthName(*depth)).c_str() : "");
    std::printf("%.*s\n    (%.*s, %.*s)\n", static_cast<int>(p.text.size()), p.text.data(),
                static_cast<int>(model::DepthName(p.depth).size()), model::DepthName(p.depth).data(),
                static_cast<int>(p.theme.size()), p.theme.data());
  }
  if (!o.send) {
    if (cli.json) PrintJson(result);
    return 0;
  }
  model::v1::RecordBody body;
  body.mutable_prompt_share()->set_prompt_id(std::string(p.id));
  body.mutable_prompt_share()->set_text(std::string(p.text));
  auto id = d.AddRecord(body, /*shared=*/true);
  if (!id.ok()) return Fail(id.error());
  if (!cli.json) std::printf("sent to %s as a conversation starter\n", PartnerLabel(d).c_str());
  return SyncAfterChange(d, cli, result);
}

// --- a question both answer (protocol §7.9) ---------------------------------

// A question comes round again once the deck is through; answered together
// long before, it takes new answers.
constexpr std::int64_t kNewRoundAfterMs = std::int64_t{100} * 86400 * 1000;

struct QuestionOptions {
  std::string id;
  std::string note;
};

std::int64_t LocalDay(std::int64_t now, const date::time_zone* zone) {
  const auto local = zone->to_local(date::sys_seconds{std::chrono::seconds{now}});
  return date::floor<date::days>(local).time_since_epoch().count();
}

std::string Words(const std::string& prompt_id) {
  const model::Prompt* p = model::FindPrompt(prompt_id);
  return p ? std::string(p->text) : "question " + prompt_id + " (from a newer deck; update duet to read it)";
}

// The latest round of `prompt_id`, or null when nobody answered it yet.
const model::QuestionView* LatestRound(const model::CoupleState& state, const std::string& prompt_id) {
  const model::QuestionView* latest = nullptr;
  for (const auto& q : state.questions)
    if (q.prompt_id == prompt_id) latest = &q;
  return latest;
}

// The question a command is about: today's, a deck id ("light-07"), or a
// shared prompt's record id.
Result<std::string> ChosenQuestion(const Opened& opened, Device& d, const std::string& typed) {
  if (typed.empty()) {
    auto key = d.DailyQuestionKey();
    if (!key) return NotPairedYet(d, "today's question is the two of you's");
    return std::string(model::QuestionOfTheDay(LocalDay(opened.now, opened.zone), *key).id);
  }
  if (model::FindPrompt(typed)) return typed;
  std::vector<std::string> ids;
  for (const auto& share : opened.loaded.state.prompts) ids.push_back(share.record_id);
  auto id = ResolveId(typed, ids, "question", "duet prompt list");
  if (!id.ok()) return id.error();
  for (const auto& share : opened.loaded.state.prompts)
    if (share.record_id == id.value()) return share.prompt_id;
  return MakeError(ErrorKind::kNotFound, "no question has the id '" + typed + "'");
}

// One partner's side of a question. Readable means opened here: my own
// always, theirs only once they released the key, after both answered.
std::string Side(const model::AnswerView& side, const std::string& who) {
  if (side.passed) return who + " let this one go";
  if (side.record_id.empty()) return who + ": not answered yet";
  if (side.readable) return who + ": \"" + ForTerminal(side.text) + "\"";
  return who + " answered; it opens once you have both answered";
}

nlohmann::json SideJson(const model::AnswerView& side) {
  return {{"answered", !side.record_id.empty()},
          {"passed", side.passed},
          {"text", side.readable ? nlohmann::json(side.text) : nlohmann::json()}};
}

nlohmann::json QuestionJson(const model::QuestionView* q, const std::string& prompt_id) {
  model::QuestionView none;
  if (q == nullptr) q = &none;
  return {{"id", prompt_id},
          {"text", Words(prompt_id)},
          {"mine", SideJson(q->mine)},
          {"theirs", SideJson(q->theirs)},
          {"answered_together", q->answered_together()}};
}

int RunToday(const Cli& cli) {
  auto opened = OpenState(cli, "today's question is for the two of you");
  if (!opened.ok()) return Fail(opened.error());
  Device& d = *opened->device;
  auto prompt_id = ChosenQuestion(opened.value(), d, "");
  if (!prompt_id.ok()) return Fail(prompt_id.error());
  const model::QuestionView* q = LatestRound(opened->loaded.state, prompt_id.value());
  if (q && q->answered_together() && opened->now * 1000 - q->first_at_ms > kNewRoundAfterMs) q = nullptr;
  if (cli.json) {
    PrintJson(QuestionJson(q, prompt_id.value()));
    return 0;
  }
  std::printf("today's question: %s\n", Words(prompt_id.value()).c_str());
  model::QuestionView none;
  const model::QuestionView& shown = q ? *q : none;
  const std::string who = PartnerLabel(d);
  std::printf("  %s\n", Side(shown.mine, "you").c_str());
  std::printf("  %s\n", Side(shown.theirs, who).c_str());
  if (shown.mine.record_id.empty() && !shown.mine.passed)
    std::printf("answer it with: duet prompt answer --note \"...\" (or let it go: duet prompt pass)\n");
  return 0;
}

int RunAnswer(const Cli& cli, const QuestionOptions& o, bool pass) {
  std::string text;
  if (!pass) {
    if (o.note.empty())
      return Fail(MakeError(ErrorKind::kInvalidInput, "an answer needs words: --note \"...\" (or --note - to type them)"));
    auto note = ReadNote("--note", o.note, model::kMaxAnswerBytes);
    if (!note.ok()) return Fail(note.error());
    text = std::move(note).value();
    if (text.empty()) return Fail(MakeError(ErrorKind::kInvalidInput, "the answer is empty; nothing was saved"));
  }
  auto opened = OpenState(cli, "questions are answered together with your partner");
  if (!opened.ok()) return Fail(opened.error());
  Device& d = *opened->device;
  auto prompt_id = ChosenQuestion(opened.value(), d, o.id);
  if (!prompt_id.ok()) return Fail(prompt_id.error());
  const std::string who = PartnerLabel(d);
  if (const model::QuestionView* q = LatestRound(opened->loaded.state, prompt_id.value())) {
    const bool mine_done = !q->mine.record_id.empty() || q->mine.passed;
    const bool theirs_done = !q->theirs.record_id.empty() || q->theirs.passed;
    if (mine_done && !theirs_done)
      return Fail(MakeError(ErrorKind::kInvalidInput,
                            std::string(q->mine.passed ? "you let this question go already"
                                                       : "you answered this question already") +
                                "; " + who + " has not yet (duet prompt today)"));
    if (mine_done && opened->now * 1000 - q->first_at_ms <= kNewRoundAfterMs)
      return Fail(MakeError(ErrorKind::kInvalidInput, "you have both answered or let this question go already "
                                                      "(duet prompt list shows it)"));
  }
  model::v1::RecordBody body;
  if (pass) {
    body.mutable_prompt_pass()->set_prompt_id(prompt_id.value());
    auto id = d.AddRecord(body, /*shared=*/true);
    if (!id.ok()) return Fail(id.error());
    if (!cli.json) std::printf("let this one go; there is another question tomorrow\n");
    return SyncAfterChange(d, cli, {{"id", prompt_id.value()}, {"passed", true}});
  }
  model::v1::AnswerContent content;
  content.set_text(text);
  crypto::WipeString(text);
  model::SealedAnswer sealed = model::SealAnswer(content, prompt_id.value(), d.my_key());
  content.Clear();
  *body.mutable_prompt_answer() = sealed.record;
  const model::QuestionView* round = LatestRound(opened->loaded.state, prompt_id.value());
  const bool theirs_in = round != nullptr && !round->theirs.record_id.empty() && round->mine.record_id.empty();
  auto stored = SaveCommitted(d, body, sealed.key);
  if (!stored.ok()) return Fail(stored.error());
  if (!cli.json && theirs_in)
    std::printf("answer saved and sealed: you have both answered, so both open at the next sync\n");
  else if (!cli.json)
    std::printf("answer saved and sealed: it opens for both of you once %s has answered too\n", who.c_str());
  return SyncAfterChange(d, cli, {{"id", prompt_id.value()}, {"record", crypto::Hex(stored.value())}});
}

int RunListPrompts(const Cli& cli) {
  auto opened = OpenState(cli);
  if (!opened.ok()) return Fail(opened.error());
  Device& d = *opened->device;
  const std::string who = PartnerLabel(d);
  nlohmann::json list = nlohmann::json::array();
  for (const auto& q : opened->loaded.state.questions) {
    if (!q.answered_together()) continue;
    if (cli.json) {
      auto item = QuestionJson(&q, q.prompt_id);
      item["time"] = q.first_at_ms / 1000;
      list.push_back(item);
      continue;
    }
    std::printf("%s  %s\n", model::FormatLocalTime(q.first_at_ms / 1000, opened->zone).substr(0, 10).c_str(),
                Words(q.prompt_id).c_str());
    std::printf("  %s\n  %s\n", Side(q.mine, "you").c_str(), Side(q.theirs, who).c_str());
  }
  if (cli.json) PrintJson(list);
  else if (opened->loaded.state.questions.empty())
    std::printf("no question answered together yet: duet prompt today\n");
  return 0;
}

}  // namespace

void SetupPrompt(CLI::App& root, Cli& cli) {
  auto o = std::make_shared<PromptOptions>();
  auto* sub = root.add_subcommand("prompt", "an open-ended question to talk about, or today's to answer together");
  sub->add_option("--depth", o->depth, "light, medium or deep (default: any)")
      ->check(CLI::IsMember({"light", "medium", "deep"}));
  sub->add_flag("--send", o->send, "share it with your partner as a conversation starter");
  auto* today = sub->add_subcommand("today", "the question of the day, the same for both of you, and your answers");
  today->callback([&cli] { cli.run = [&cli] { return RunToday(cli); }; });
  auto answer_options = std::make_shared<QuestionOptions>();
  auto* answer = sub->add_subcommand("answer", "answer today's question (or ID): sealed until you have both answered");
  answer->add_option("id", answer_options->id, "a question's id (light-07) or a sent one's, as `duet prompt list` shows");
  answer->add_option("--note", answer_options->note, "your answer (- reads it from standard input)");
  answer->callback([&cli, answer_options] {
    cli.run = [&cli, answer_options] { return RunAnswer(cli, *answer_options, /*pass=*/false); };
  });
  auto pass_options = std::make_shared<QuestionOptions>();
  auto* pass = sub->add_subcommand("pass", "let today's question (or ID) go; nothing counts missed days");
  pass->add_option("id", pass_options->id, "a question's id, as for answer");
  pass->callback([&cli, pass_options] {
    cli.run = [&cli, pass_options] { return RunAnswer(cli, *pass_options, /*pass=*/true); };
  });
  auto* list = sub->add_subcommand("list", "questions you have answered together, with both answers");
  list->callback([&cli] { cli.run = [&cli] { return RunListPrompts(cli); }; });
  // The deck itself when no subcommand was chosen (this runs after theirs).
  sub->callback([&cli, o, sub] {
    if (sub->get_subcommands().empty()) cli.run = [&cli, o] { return RunPrompt(cli, *o); };
  });
}

}  // namespace duet::client::cli
