// duet talk propose|counter|accept|decline|cancel: proposing a time to talk
// and answering one (docs/protocol.md §7.2). The rules the fold applies are
// checked here first, so a user gets a clear "no" rather than a record that
// changes nothing.
#include <algorithm>
#include <set>

#include "client/cli/talk.h"
#include "client/model/free_time.h"
#include "client/model/timeplan.h"
#include "crypto/crypto.h"

namespace duet::client::cli {
namespace {

constexpr std::uint32_t kDefaultMinutes = 20;
constexpr std::int64_t kMaxAheadSeconds = 366 * 86400;

using Context = Opened;

Result<Context> Open(const Cli& cli) {
  return OpenState(cli, "talks are planned with your partner");
}

Status CheckText(const std::string& flag, const std::string& text) {
  if (text.size() > model::kMaxTalkTextBytes)
    return Invalid(flag + " is " + std::to_string(text.size()) + " bytes; keep it under " +
                   std::to_string(model::kMaxTalkTextBytes));
  return Status::Ok();
}

// The first agreed talk that [start, start + minutes) overlaps, if any.
const model::TalkView* Overlapping(const model::CoupleState& state, std::int64_t start,
                                   std::uint32_t minutes) {
  const std::int64_t end = start + std::int64_t{minutes} * 60;
  for (const auto& talk : state.talks)
    if (talk.state == model::TalkState::kAgreed && talk.start() < end && start < talk.end())
      return &talk;
  return nullptr;
}

// Agreed quiet hours are a boundary: no talk touches them.
Status QuietHoursError(const model::CoupleState& state, std::int64_t start, std::uint32_t minutes,
                       const std::string& what) {
  const auto* quiet = model::QuietHoursTouching(state, start, start + std::int64_t{minutes} * 60);
  if (quiet == nullptr) return Status::Ok();
  const auto& v = quiet->versions[quiet->agreed];
  return Invalid(what + " falls in quiet hours you both agreed (boundary " +
                 ShortId(quiet->boundary_id) + ", " + model::FormatWeeklyWindow(*v.quiet) + " " +
                 ForTerminal(v.time_zone) + "); pick another time");
}

// "Not now" is respected without a fight: no proposal while it holds,
// unless the proposer says so explicitly.
Status RespectNotNow(Context& c, bool anyway) {
  auto readiness = model::ReadinessAt(c.loaded.state.their_readiness, c.now);
  if (!readiness) return Status::Ok();
  const std::string partner = PartnerLabel(*c.device);
  std::string said = partner + " said " + model::ReadinessName(readiness->state);
  if (readiness->until != 0) said += " until " + model::FormatLocalDayTime(readiness->until, c.zone);
  if (!readiness->note.empty()) said += " (\"" + ForTerminal(readiness->note) + "\")";
  if (readiness->state == model::v1::READINESS_STATE_NOT_NOW && !anyway)
    return Invalid(said + "; give them room, or add --anyway to propose regardless");
  if (readiness->state != model::v1::READINESS_STATE_READY) Warn(said);
  return Status::Ok();
}

Result<std::vector<std::int64_t>> ParseOptions(const Context& c, const std::vector<std::string>& at,
                                               std::uint32_t minutes) {
  if (at.empty()) return Invalid("give at least one time: --at \"2026-12-02 19:30\"");
  if (at.size() > model::kMaxTalkOptions)
    return Invalid("give at most 3 times to choose from (" + std::to_string(at.size()) +
                   " given); a short list is easier to answer");
  std::vector<std::int64_t> options;
  std::set<std::int64_t> seen;
  for (const auto& text : at) {
    auto start = model::ParseLocalTime(text, c.zone);
    if (!start.ok()) return start.error();
    if (start.value() <= c.now)
      return Invalid("'" + text + "' is in the past (it is " + model::FormatLocalTime(c.now, c.zone) +
                     " in " + model::ZoneName(c.zone) + "); give a time to come");
    if (start.value() > c.now + kMaxAheadSeconds)
      return Invalid("'" + text + "' is more than a year away; pick a time within the year");
    if (!seen.insert(start.value()).second)
      return Invalid("'" + text + "' is given twice; each option must be a different time");
    if (const auto* taken = Overlapping(c.loaded.state, start.value(), minutes))
      return Invalid("'" + text + "' overlaps the talk " + ShortId(taken->talk_id) +
                     " you agreed for " +
                     FormatSpan(taken->start(), taken->end(), c.zone) + "; pick another time");
    auto quiet = QuietHoursError(c.loaded.state, start.value(), minutes, "'" + text + "'");
    if (!quiet.ok()) return quiet.error();
    options.push_back(start.value());
  }
  return options;
}

int Propose(const Cli& cli, const TalkOptions& options, const model::TalkView* countered) {
  auto context = Open(cli);
  if (!context.ok()) return Fail(context.error());
  Context& c = context.value();
  Device& d = *c.device;
  std::uint32_t minutes = options.minutes != 0 ? static_cast<std::uint32_t>(options.minutes)
                          : countered           ? countered->minutes
                                                : kDefaultMinutes;
  const std::string place = options.place.empty() && countered ? countered->place : options.place;
  const std::string topic = options.topic.empty() && countered ? countered->topic : options.topic;
  for (const auto& [flag, text] : {std::pair{"--place", place}, std::pair{"--topic", topic}}) {
    auto ok = CheckText(flag, text);
    if (!ok.ok()) return Fail(ok.error());
  }
  auto starts = ParseOptions(c, options.at, minutes);
  if (!starts.ok()) return Fail(starts.error());
  // Answering their own proposal with other times is no intrusion.
  auto respected = countered ? Status::Ok() : RespectNotNow(c, options.anyway);
  if (!respected.ok()) return Fail(respected.error());

  model::v1::RecordBody body;
  auto* p = body.mutable_talk_proposal();
  for (auto start : starts.value()) p->add_options(start);
  p->set_minutes(minutes);
  p->set_place(place);
  p->set_topic(topic);
  p->set_time_zone(model::ZoneName(c.zone));
  if (countered) p->set_counters(countered->talk_id);
  auto id = d.AddRecord(body, /*shared=*/true);
  if (!id.ok()) return Fail(id.error());

  const std::string partner = PartnerLabel(d);
  if (!cli.json) {
    std::printf("%s %s to %s (%u min):\n",
                countered ? "counter-proposed talk" : "proposed talk", ShortId(id.value()).c_str(),
                partner.c_str(), minutes);
    // A gentle note, not a refusal: the partner may still pick a time
    // outside what they shared.
    const auto partners = model::AvailableTime(c.loaded.state, /*mine=*/false,
                                            {c.now, c.now + kMaxAheadSeconds + 86400});
    const bool partner_shared = std::any_of(c.loaded.state.windows.begin(), c.loaded.state.windows.end(),
                                            [](const auto& w) { return !w.mine; });
    int n = 0;
    for (auto start : starts.value()) {
      std::printf("  %d) %s%s\n", ++n,
                  FormatSpan(start, start + std::int64_t{minutes} * 60, c.zone).c_str(),
                  partner_shared && !model::Contains(partners, start, std::int64_t{minutes} * 60)
                      ? ("  (outside " + partner + "'s availability)").c_str()
                      : "");
    }
    if (!place.empty()) std::printf("  where: %s\n", ForTerminal(place).c_str());
    if (!topic.empty()) std::printf("  about: %s\n", ForTerminal(topic).c_str());
    std::printf("%s chooses: duet talk accept %s%s, or declines\n", partner.c_str(),
                ShortId(id.value()).c_str(), starts->size() > 1 ? " --option N" : "");
  }
  return SyncAfterChange(d, cli, {{"id", crypto::Hex(id.value())}});
}

// Finds a talk the partner proposed that is still open, for an answer.
Result<const model::TalkView*> OpenProposal(const Context& c, const std::string& typed,
                                            const std::string& verb) {
  auto found = FindTalk(c.loaded.state, typed);
  if (!found.ok()) return found;
  const model::TalkView* talk = found.value();
  const std::string partner = PartnerLabel(*c.device);
  if (talk->mine)
    return Invalid("you proposed talk " + ShortId(talk->talk_id) + "; " + partner +
                   " answers it (you can cancel it: duet talk cancel " + ShortId(talk->talk_id) + ")");
  if (talk->state != model::TalkState::kProposed)
    return Invalid("talk " + ShortId(talk->talk_id) + " is " + model::TalkStateName(talk->state) +
                   " already; there is nothing to " + verb);
  return talk;
}

}  // namespace

std::string FormatSpan(std::int64_t start, std::int64_t end, const date::time_zone* zone) {
  const std::string day_end = model::FormatLocalTime(end, zone);
  const std::string day_start = model::FormatLocalTime(start, zone);
  const bool same_day = day_end.substr(0, 10) == day_start.substr(0, 10);
  return model::FormatLocalDayTime(start, zone) + "-" +
         (same_day ? model::FormatLocalClock(end, zone) : day_end);
}

Result<const model::TalkView*> FindTalk(const model::CoupleState& state, const std::string& typed) {
  std::vector<std::string> ids;
  for (const auto& talk : state.talks) ids.push_back(talk.talk_id);
  auto id = ResolveId(typed, ids, "talk", "duet talk list");
  if (!id.ok()) return id.error();
  for (const auto& talk : state.talks)
    if (talk.talk_id == id.value()) return &talk;
  return MakeError(ErrorKind::kInternal, "talk vanished");
}

int RunTalkPropose(const Cli& cli, const TalkOptions& options) { return Propose(cli, options, nullptr); }

int RunTalkCounter(const Cli& cli, const TalkOptions& options) {
  auto context = Open(cli);
  if (!context.ok()) return Fail(context.error());
  auto talk = OpenProposal(context.value(), options.id, "counter");
  if (!talk.ok()) return Fail(talk.error());
  const model::TalkView countered = *talk.value();
  context.value().device.reset();  // Propose opens the device again
  return Propose(cli, options, &countered);
}

int RunTalkAccept(const Cli& cli, const TalkOptions& options) {
  auto context = Open(cli);
  if (!context.ok()) return Fail(context.error());
  Context& c = context.value();
  auto found = OpenProposal(c, options.id, "accept");
  if (!found.ok()) return Fail(found.error());
  const model::TalkView& talk = *found.value();
  const int count = static_cast<int>(talk.options.size());
  int option = options.option;
  if (option == 0 && count > 1)
    return Fail(Invalid("talk " + ShortId(talk.talk_id) + " has " + std::to_string(count) +
                        " times to choose from; pick one with --option 1.." + std::to_string(count) +
                        " (duet talk list shows them)"));
  if (option == 0) option = 1;
  if (option < 1 || option > count)
    return Fail(Invalid("talk " + ShortId(talk.talk_id) + " has no option " + std::to_string(option) +
                        "; pick 1.." + std::to_string(count)));
  const std::int64_t start = talk.options[option - 1];
  if (start <= c.now)
    return Fail(Invalid("option " + std::to_string(option) + " (" +
                        FormatSpan(start, start + std::int64_t{talk.minutes} * 60, c.zone) +
                        ") has passed; pick another, or counter with new times: duet talk counter " +
                        ShortId(talk.talk_id) + " --at ..."));
  if (const auto* taken = Overlapping(c.loaded.state, start, talk.minutes))
    return Fail(Invalid("option " + std::to_string(option) + " overlaps the talk " +
                        ShortId(taken->talk_id) + " you agreed already; pick another or counter"));
  auto quiet = QuietHoursError(c.loaded.state, start, talk.minutes, "option " + std::to_string(option));
  if (!quiet.ok()) return Fail(quiet.error());
  model::v1::RecordBody body;
  body.mutable_talk_accept()->set_talk_id(talk.talk_id);
  body.mutable_talk_accept()->set_option(static_cast<std::uint32_t>(option));
  return ShareAndSync(*c.device, cli, body,
                "agreed: talk " + ShortId(talk.talk_id) + " with " + PartnerLabel(*c.device) + ", " +
                    FormatSpan(start, start + std::int64_t{talk.minutes} * 60, c.zone));
}

int RunTalkDecline(const Cli& cli, const TalkOptions& options) {
  auto note = ReadNote("--note", options.note);
  if (!note.ok()) return Fail(note.error());
  auto context = Open(cli);
  if (!context.ok()) return Fail(context.error());
  Context& c = context.value();
  auto talk = OpenProposal(c, options.id, "decline");
  if (!talk.ok()) return Fail(talk.error());
  model::v1::RecordBody body;
  body.mutable_talk_decline()->set_talk_id(talk.value()->talk_id);
  body.mutable_talk_decline()->set_note(note.value());
  return ShareAndSync(*c.device, cli, body,
                "declined talk " + ShortId(talk.value()->talk_id) +
                    " (no reason needed; you can propose another time whenever you like)");
}

int RunTalkCancel(const Cli& cli, const TalkOptions& options) {
  auto note = ReadNote("--note", options.note);
  if (!note.ok()) return Fail(note.error());
  auto context = Open(cli);
  if (!context.ok()) return Fail(context.error());
  Context& c = context.value();
  auto found = FindTalk(c.loaded.state, options.id);
  if (!found.ok()) return Fail(found.error());
  const model::TalkView& talk = *found.value();
  const std::string id = ShortId(talk.talk_id);
  if (talk.state == model::TalkState::kProposed && !talk.mine)
    return Fail(Invalid("talk " + id + " is " + PartnerLabel(*c.device) +
                        "'s proposal; to say no, decline it: duet talk decline " + id));
  if (talk.state == model::TalkState::kAgreed && talk.end() <= c.now)
    return Fail(Invalid("talk " + id + " was held already; there is nothing to cancel"));
  if (talk.state != model::TalkState::kProposed && talk.state != model::TalkState::kAgreed)
    return Fail(Invalid("talk " + id + " is " + model::TalkStateName(talk.state) +
                        " already; there is nothing to cancel"));
  model::v1::RecordBody body;
  body.mutable_talk_cancel()->set_talk_id(talk.talk_id);
  body.mutable_talk_cancel()->set_note(note.value());
  return ShareAndSync(*c.device, cli, body, "cancelled talk " + id);
}

void SetupTalk(CLI::App& root, Cli& cli) {
  auto o = std::make_shared<TalkOptions>();
  auto* talk = root.add_subcommand("talk", "plan a time to talk, and look back on it");
  talk->require_subcommand(1);
  auto add_times = [o](CLI::App* sub) {
    sub->add_option("--at", o->at, "a start time, \"2026-12-02 19:30\" (up to 3, repeat --at)")
        ->required();
    sub->add_option("--minutes", o->minutes, "how long (default 20: start short)")
        ->check(CLI::Range(static_cast<int>(model::kMinTalkMinutes),
                           static_cast<int>(model::kMaxTalkMinutes)));
    sub->add_option("--place", o->place, "where, e.g. \"walk by the river\"");
    sub->add_option("--topic", o->topic, "what about, if anything");
    sub->add_flag("--anyway", o->anyway, "propose even though your partner said not now");
  };
  auto add_id = [o](CLI::App* sub) {
    sub->add_option("id", o->id, "the talk's id, as `duet talk list` shows it")->required();
  };

  auto* suggest = talk->add_subcommand("suggest", "times you are both free");
  suggest->add_option("--minutes", o->minutes, "how long (default 20)")
      ->check(CLI::Range(static_cast<int>(model::kMinTalkMinutes),
                         static_cast<int>(model::kMaxTalkMinutes)));
  suggest->add_option("--days", o->days, "how many days ahead (default 7)")->check(CLI::Range(1, 31));
  Bind(suggest, cli, o, RunTalkSuggest);

  auto* propose = talk->add_subcommand("propose", "propose up to 3 times; your partner picks one");
  add_times(propose);
  Bind(propose, cli, o, RunTalkPropose);

  auto* accept = talk->add_subcommand("accept", "agree to one of the proposed times");
  add_id(accept);
  accept->add_option("--option", o->option, "which time (1..3)")->check(CLI::Range(1, 3));
  Bind(accept, cli, o, RunTalkAccept);

  auto* decline = talk->add_subcommand("decline", "say not now (no reason needed)");
  add_id(decline);
  decline->add_option("--note", o->note, "a word, if you like (- reads standard input)");
  Bind(decline, cli, o, RunTalkDecline);

  auto* counter = talk->add_subcommand("counter", "answer a proposal with other times");
  add_id(counter);
  add_times(counter);
  Bind(counter, cli, o, RunTalkCounter);

  auto* cancel = talk->add_subcommand("cancel", "cancel your proposal, or an agreed talk");
  add_id(cancel);
  cancel->add_option("--note", o->note, "a word, if you like (- reads standard input)");
  Bind(cancel, cli, o, RunTalkCancel);

  auto* list = talk->add_subcommand("list", "talks proposed, agreed and held");
  list->callback([&cli] { cli.run = [&cli] { return RunTalkList(cli); }; });

  auto* reflect = talk->add_subcommand(
      "reflect", "how the talk felt; revealed when you have both written yours");
  add_id(reflect);
  reflect->add_option("--felt", o->felt, "1 (hard) to 5 (good)")->required()->check(CLI::Range(1, 5));
  reflect->add_option("--note", o->note, "a few words, if you like (- reads standard input)");
  Bind(reflect, cli, o, RunTalkReflect);

  auto* export_ = talk->add_subcommand("export", "agreed talks as an iCalendar file");
  export_->add_option("--out", o->out, "file to write (default: standard output)");
  export_->add_option("--alarm", o->alarm, "reminder this many minutes before (0: none)")
      ->check(CLI::Range(0, 1440));
  export_->add_flag("--details", o->details,
                    "write each talk's topic and place too (a calendar in the cloud then holds them)");
  Bind(export_, cli, o, RunTalkExport);
}

}  // namespace duet::client::cli
