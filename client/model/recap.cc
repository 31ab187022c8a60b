#include "client/model/recap.h"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <limits>

#include "client/model/prompts.h"

namespace duet::model {
namespace {

// Unix seconds of local midnight on `day` in `zone` (null: UTC); a midnight
// a clock change skips or repeats counts from its earliest instant.
std::int64_t MidnightOf(date::local_days day, const date::time_zone* zone) {
  const date::local_seconds local{day};
  const date::sys_seconds instant = zone != nullptr ? zone->to_sys(local, date::choose::earliest)
                                                    : date::sys_seconds{local.time_since_epoch()};
  return instant.time_since_epoch().count();
}

}  // namespace

Recap BuildRecap(const std::vector<OpenedRecord>& records, const CoupleState& state, const date::time_zone* zone,
                 int year, unsigned month, std::int64_t now) {
  Recap recap;
  const date::year_month first{date::year{year}, date::month{month}};
  recap.month = date::format("%Y-%m", first);
  const std::int64_t from = MidnightOf(date::local_days{first / 1}, zone);
  const std::int64_t to = MidnightOf(date::local_days{(first + date::months{1}) / 1}, zone);
  auto in_month = [&](std::int64_t seconds) { return seconds >= from && seconds < to; };

  std::int64_t first_talk_ever = std::numeric_limits<std::int64_t>::max();
  std::vector<std::int64_t> held_in_month;
  for (const auto& t : state.talks) {
    if (t.state != TalkState::kAgreed || t.end() > now) continue;
    first_talk_ever = std::min(first_talk_ever, t.start());
    if (!in_month(t.start())) continue;
    ++recap.talks_held;
    held_in_month.push_back(t.start());
    if (!t.my_reflection.record_id.empty() && !t.their_reflection.record_id.empty()) ++recap.talks_both_reflected;
  }
  std::sort(held_in_month.begin(), held_in_month.end());
  if (in_month(first_talk_ever)) recap.highlights.push_back("first-talk");

  // A talk held after one of them said "not now": the quiet was respected,
  // and then they talked.
  std::vector<std::int64_t> not_now;
  for (const OpenedRecord* r : FoldOrder(records))
    if (r->body.has_readiness() && r->body.readiness().state() == v1::READINESS_STATE_NOT_NOW)
      not_now.push_back(r->body.created_at_ms() / 1000);
  for (std::size_t i = 0; i < held_in_month.size(); ++i) {
    const std::int64_t since = i == 0 ? from : held_in_month[i - 1];
    if (std::any_of(not_now.begin(), not_now.end(),
                    [&](std::int64_t said) { return said >= since && said < held_in_month[i]; })) {
      recap.highlights.push_back("talk-after-not-now");
      break;
    }
  }

  for (const auto& c : state.checkins) {
    if (!c.shared) continue;
    if (in_month(c.created_at_ms / 1000)) ++recap.checkins_shared;
    if (c.shared_later_at_ms != 0 && in_month(c.shared_later_at_ms / 1000)) ++recap.shared_later;
  }
  if (recap.shared_later > 0) recap.highlights.push_back("shared-later");

  for (const auto& t : state.thanks)
    if (in_month(t.created_at_ms / 1000)) ++recap.thanks_from[t.author_key];

  std::int64_t first_agreement_ever = std::numeric_limits<std::int64_t>::max();
  for (const auto& b : state.boundaries)
    for (const auto& e : b.history) {
      if (e.what != "accepted") continue;
      first_agreement_ever = std::min(first_agreement_ever, e.at_ms / 1000);
      if (in_month(e.at_ms / 1000)) ++recap.boundaries_agreed;
    }
  if (in_month(first_agreement_ever)) recap.highlights.push_back("first-boundary");

  // A question is answered together when the second answer comes.
  std::int64_t first_together_ever = std::numeric_limits<std::int64_t>::max();
  std::int64_t first_deep_ever = first_together_ever;
  for (const auto& q : state.questions) {
    if (!q.answered_together()) continue;
    const std::int64_t together = std::max(q.mine.written_at_ms, q.theirs.written_at_ms) / 1000;
    first_together_ever = std::min(first_together_ever, together);
    const Prompt* prompt = FindPrompt(q.prompt_id);
    if (prompt && prompt->depth == PromptDepth::kDeep) first_deep_ever = std::min(first_deep_ever, together);
    if (in_month(together)) ++recap.questions_together;
  }
  if (in_month(first_together_ever)) recap.highlights.push_back("first-question-together");
  if (in_month(first_deep_ever)) recap.highlights.push_back("first-deep-question");
  return recap;
}

}  // namespace duet::model
