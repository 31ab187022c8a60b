// One line for a partner's record, as `duet watch` prints it when it arrives.
#include "client/cli/talk.h"
#include "client/model/prompts.h"
#include "client/model/timeplan.h"

namespace duet::client::cli {
namespace {

const model::TalkView* TalkById(const model::CoupleState& state, const std::string& id) {
  for (const auto& talk : state.talks)
    if (talk.talk_id == id) return &talk;
  return nullptr;
}

// On one line of news: a note's line breaks read as " / ", its tabs as a space.
std::string Quoted(const std::string& note) {
  if (note.empty()) return "";
  std::string one_line;
  for (char c : note) {
    if (c == '\n') one_line += " / ";
    else one_line += c == '\t' ? ' ' : c;
  }
  return ": \"" + ForTerminal(one_line) + "\"";
}

// From the fold, never the raw record: an accept that came too late or
// signed other words must not read as an agreement.
std::string DescribeBoundaryRecord(const model::OpenedRecord& record, const model::CoupleState& state,
                                   const std::string& who) {
  for (const auto& b : state.boundaries) {
    const std::string id = ShortId(b.boundary_id);
    for (const auto& late : b.late)
      if (late.record_id == record.record_id)
        return who + "'s " + late.what + " on boundary " + id + " changed nothing: " + late.reason;
    for (const auto& e : b.history) {
      if (e.record_id != record.record_id) continue;
      std::string words;
      for (const auto& v : b.versions)
        if (v.version_id == e.version_id) words = ": \"" + ForTerminal(v.text) + "\"";
      if (e.what == "proposed") return who + " proposed a boundary" + words;
      if (e.what == "countered" || e.what == "revised")
        return who + " proposed other words for boundary " + id + words;
      if (e.what == "accepted") return who + " agreed to boundary " + id + words;
      if (e.what == "declined") return who + " declined new words for boundary " + id + Quoted(e.note);
      return who + " retired boundary " + id + Quoted(e.note);
    }
  }
  return who + " sent a boundary record that is not valid (ignored)";
}

// The question's words, quoted, or its id when it is from a newer deck.
std::string QuestionWords(const std::string& prompt_id) {
  const model::Prompt* p = model::FindPrompt(prompt_id);
  return p ? "\"" + std::string(p->text) + "\"" : "question " + ForTerminal(prompt_id);
}

}  // namespace

std::string DescribeRecord(const model::OpenedRecord& record, const model::CoupleState& state,
                           const std::string& who, const date::time_zone* zone) {
  // Held back until its reader chooses to open it: nothing of what it says.
  if (record.waiting)
    return who + " has something to share, whenever you're ready (duet open " + ShortId(record.record_id) + ")";
  const auto& body = record.body;
  switch (body.kind_case()) {
    case model::v1::RecordBody::kCheckin: {
      const auto& c = body.checkin();
      std::string line = who + " checked in: mood " + std::to_string(c.mood()) + "/5";
      if (c.energy() != 0) line += ", energy " + std::to_string(c.energy()) + "/5";
      if (c.need() != model::v1::NEED_UNSPECIFIED) line += ", needs " + model::NeedName(c.need());
      return line + Quoted(c.note());
    }
    case model::v1::RecordBody::kAvailability: {
      const auto& w = body.availability();
      return who + " is free " +
             model::FormatWeeklyWindow({w.weekdays(), w.start_minute(), w.end_minute()}) + " (" +
             ForTerminal(w.time_zone()) + ")";
    }
    case model::v1::RecordBody::kBusy: {
      // The hours as the author gave them, their zone named, and the same
      // hours in the reader's zone when it differs.
      const auto& b = body.busy();
      auto day = model::ParseLocalSpan(b.date());
      if (!day.ok()) return who + " is busy " + ForTerminal(b.date());
      model::LocalSpan span = day.value();
      span.start_minute = b.start_minute();
      span.end_minute = b.end_minute() == 0 ? 1440 : b.end_minute();
      const auto* author_zone = model::ZoneOrUtc(b.time_zone());
      std::string line = who + " is busy " + model::FormatLocalSpan(span) + " (" + ForTerminal(b.time_zone()) + ")";
      const bool whole_day = span.start_minute == 0 && span.end_minute == 1440;
      if (!whole_day && zone != nullptr && model::ZoneName(zone) != model::ZoneName(author_zone)) {
        const model::Interval at = model::SpanToInterval(span, author_zone);
        line += ", " + model::FormatLocalTime(at.start, zone) + "-" + model::FormatLocalClock(at.end, zone) +
                " your time";
      }
      return line;
    }
    case model::v1::RecordBody::kWithdraw:
      return who + " removed a window or busy time (" + ShortId(body.withdraw().target_id()) + ")";
    case model::v1::RecordBody::kTalkProposal: {
      // From the fold, which checked the times: never the raw record.
      const auto* talk = TalkById(state, record.record_id);
      if (talk == nullptr) return who + " sent a talk proposal that is not valid (ignored)";
      std::string line = who + (talk->counters.empty() ? " proposed talk "
                                                       : " answered talk " + ShortId(talk->counters) +
                                                             " with other times, talk ") +
                         ShortId(talk->talk_id) + " (" + std::to_string(talk->minutes) + " min):";
      int n = 0;
      for (auto start : talk->options)
        line += " " + std::to_string(++n) + ") " +
                FormatSpan(start, start + std::int64_t{talk->minutes} * 60, zone);
      return line;
    }
    case model::v1::RecordBody::kTalkAccept: {
      const auto* talk = TalkById(state, body.talk_accept().talk_id());
      std::string line = who + " accepted talk " + ShortId(body.talk_accept().talk_id());
      if (talk != nullptr && talk->decided_by == record.author_key && talk->chosen != 0)
        line += ": " + FormatSpan(talk->start(), talk->end(), zone);
      return line;
    }
    case model::v1::RecordBody::kTalkDecline:
      return who + " declined talk " + ShortId(body.talk_decline().talk_id()) +
             Quoted(body.talk_decline().note());
    case model::v1::RecordBody::kTalkCancel:
      return who + " cancelled talk " + ShortId(body.talk_cancel().talk_id()) +
             Quoted(body.talk_cancel().note());
    case model::v1::RecordBody::kTalkReflection: {
      // Once both have written, it reads as what it says.
      for (const auto& talk : state.talks)
        if (talk.their_reflection.record_id == record.record_id && talk.their_reflection.readable)
          return who + " reflected on talk " + ShortId(talk.talk_id) + ": felt " +
                 std::to_string(talk.their_reflection.felt) + "/5" + Quoted(talk.their_reflection.note);
      return who + " wrote a sealed reflection on talk " + ShortId(body.talk_reflection().talk_id());
    }
    case model::v1::RecordBody::kReflectionKey: {
      for (const auto& talk : state.talks) {
        if (talk.their_reflection.record_id != body.reflection_key().reflection_id()) continue;
        if (!talk.their_reflection.readable) break;
        return who + "'s reflection on talk " + ShortId(talk.talk_id) + " opened: felt " +
               std::to_string(talk.their_reflection.felt) + "/5" + Quoted(talk.their_reflection.note);
      }
      for (const auto& q : state.questions)
        if (q.theirs.record_id == body.reflection_key().reflection_id() && q.theirs.readable)
          return who + "'s answer opened: " + QuestionWords(q.prompt_id) + Quoted(q.theirs.text);
      return who + " opened their reflection";
    }
    case model::v1::RecordBody::kPromptAnswer: {
      for (const auto& q : state.questions)
        if (q.theirs.record_id == record.record_id && q.theirs.readable && q.answered_together())
          return who + " answered " + QuestionWords(q.prompt_id) + Quoted(q.theirs.text);
      return who + " answered " + QuestionWords(body.prompt_answer().prompt_id()) +
             "; it opens once you have both answered (duet prompt today)";
    }
    case model::v1::RecordBody::kRekey:
      return who + " started a new couple key";
    case model::v1::RecordBody::kBoundaryProposal:
    case model::v1::RecordBody::kBoundaryAccept:
    case model::v1::RecordBody::kBoundaryDecline:
    case model::v1::RecordBody::kBoundaryRetire:
      return DescribeBoundaryRecord(record, state, who);
    case model::v1::RecordBody::kReadiness: {
      const auto& r = body.readiness();
      std::string line = who + " said: " + model::ReadinessName(r.state());
      if (r.until() >= model::kEarliestTalk && r.until() <= model::kLatestTalk)
        line += " until " + model::FormatLocalDayTime(r.until(), zone);
      return line + Quoted(r.note());
    }
    case model::v1::RecordBody::kThanks:
      return who + " thanks you: \"" + ForTerminal(body.thanks().text()) + "\"";
    case model::v1::RecordBody::kSharedLater: {
      const auto& later = body.shared_later();
      const auto& c = later.checkin();
      std::string line = who + " shared a check-in they had kept, from " +
                         model::FormatLocalTime(later.written_at_ms() / 1000, zone) + ": mood " +
                         std::to_string(c.mood()) + "/5";
      if (c.energy() != 0) line += ", energy " + std::to_string(c.energy()) + "/5";
      if (c.need() != model::v1::NEED_UNSPECIFIED) line += ", needs " + model::NeedName(c.need());
      return line + Quoted(c.note());
    }
    case model::v1::RecordBody::kPromptShare:
      return who + " sent a question to talk about: \"" + ForTerminal(body.prompt_share().text()) + "\"";
    default:
      return who + " wrote a record this version of duet does not know";
  }
}

}  // namespace duet::client::cli
