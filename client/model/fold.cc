#include "client/model/fold.h"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>
#include <unordered_set>

#include "client/model/deletion.h"
#include "client/model/fold_parts.h"

namespace duet::model {

std::vector<const OpenedRecord*> FoldOrder(const std::vector<OpenedRecord>& records) {
  Ordered ordered;
  ordered.reserve(records.size());
  // A record held twice counts once. Views into `records` and `deletions`,
  // which outlive the set: every command orders every record, so this is
  // kept free of a copy and an allocation per record.
  std::unordered_set<std::string_view> seen;
  seen.reserve(records.size());
  // A record its author deleted is left out, as if never held (§7.8).
  const auto deletions = Deletions(records);
  for (const auto& deleted : deletions)
    if (deleted.held) seen.insert(deleted.record_id);
  for (const auto& record : records)
    if (record.verdict.valid() && seen.insert(record.record_id).second) ordered.push_back(&record);
  std::sort(ordered.begin(), ordered.end(), [](const OpenedRecord* a, const OpenedRecord* b) {
    if (a->relay_seq.has_value() != b->relay_seq.has_value()) return a->relay_seq.has_value();
    if (a->relay_seq && *a->relay_seq != *b->relay_seq) return *a->relay_seq < *b->relay_seq;
    if (a->body.created_at_ms() != b->body.created_at_ms())
      return a->body.created_at_ms() < b->body.created_at_ms();
    return a->record_id < b->record_id;
  });
  return ordered;
}

CoupleState Fold(const std::vector<OpenedRecord>& records, const std::string& my_key) {
  CoupleState state;
  const Ordered ordered = FoldOrder(records);
  FoldCheckins(ordered, my_key, &state);
  FoldAvailability(ordered, my_key, &state);
  FoldTalks(ordered, my_key, &state);
  FoldBoundaries(ordered, my_key, &state);
  FoldSmallShares(ordered, my_key, &state);
  FoldQuestions(ordered, my_key, &state);
  return state;
}

void FoldCheckins(const Ordered& records, const std::string& my_key, CoupleState* state) {
  auto view_of = [&](const OpenedRecord& record, const v1::CheckIn& checkin) {
    CheckInView view;
    view.record_id = record.record_id;
    view.author_key = record.author_key;
    view.mine = record.author_key == my_key;
    view.shared = record.shared;
    view.synced = record.relay_seq.has_value();
    view.created_at_ms = record.body.created_at_ms();
    view.mood = checkin.mood();
    view.energy = checkin.energy();
    view.need = checkin.need();
    view.note = checkin.note();
    view.when_ready = checkin.when_ready();
    return view;
  };
  // Check-ins first: a kept one is never acknowledged, so it comes after
  // the shares of it in fold order.
  std::map<std::string, std::size_t> kept;  // my private check-ins, by id
  for (const OpenedRecord* record : records) {
    if (!record->body.has_checkin()) continue;
    if (!record->shared && record->author_key == my_key) kept[record->record_id] = state->checkins.size();
    state->checkins.push_back(view_of(*record, record->body.checkin()));
  }
  for (const OpenedRecord* record : records) {
    if (!record->body.has_shared_later()) continue;
    // A kept check-in shared later (protocol §7.7): the partner sees it at
    // the time it was written; its author sees their kept one, full note
    // and all, marked shared. Only the first share of a kept one counts.
    const auto& later = record->body.shared_later();
    const bool mine = record->author_key == my_key;
    if (mine) {
      auto original = kept.find(later.kept_id());
      if (original != kept.end()) {
        CheckInView& view = state->checkins[original->second];
        if (view.shared_later_at_ms == 0) {
          view.shared_later_at_ms = record->body.created_at_ms();
          view.note_kept = later.note_kept();
          view.shared = true;
          view.synced = record->relay_seq.has_value();
        }
        continue;
      }
    }
    const bool repeated = std::any_of(state->checkins.begin(), state->checkins.end(), [&](const CheckInView& v) {
      return v.author_key == record->author_key && v.shared_later_at_ms != 0 && v.kept_id == later.kept_id();
    });
    if (repeated) continue;
    CheckInView view = view_of(*record, later.checkin());
    view.created_at_ms = later.written_at_ms();
    view.shared_later_at_ms = record->body.created_at_ms();
    view.note_kept = later.note_kept();
    view.kept_id = later.kept_id();
    state->checkins.push_back(std::move(view));
  }
  // The author's clock orders check-ins; the record id breaks ties, so every
  // replica lists them the same way.
  std::sort(state->checkins.begin(), state->checkins.end(),
            [](const CheckInView& a, const CheckInView& b) {
              if (a.created_at_ms != b.created_at_ms) return a.created_at_ms < b.created_at_ms;
              return a.record_id < b.record_id;
            });
}

std::string NeedName(v1::Need need) {
  switch (need) {
    case v1::NEED_LISTEN:
      return "listen";
    case v1::NEED_SUPPORT:
      return "support";
    case v1::NEED_SPACE:
      return "space";
    case v1::NEED_ADVICE:
      return "advice";
    default:
      return "";
  }
}

std::optional<v1::Need> ParseNeed(const std::string& name) {
  for (v1::Need need : {v1::NEED_LISTEN, v1::NEED_SUPPORT, v1::NEED_SPACE, v1::NEED_ADVICE})
    if (NeedName(need) == name) return need;
  return std::nullopt;
}

}  // namespace duet::model

namespace duet::model {

void HoldBackUnopened(std::vector<OpenedRecord>& records, CoupleState& state, const std::string& my_key,
                      const std::set<std::string>& opened) {
  auto held = [&](const std::string& id, const std::string& author) {
    return author != my_key && opened.count(id) == 0;
  };
  for (auto& r : records) {
    v1::CheckIn* c = r.body.has_checkin()        ? r.body.mutable_checkin()
                     : r.body.has_shared_later() ? r.body.mutable_shared_later()->mutable_checkin()
                                                 : nullptr;
    if (c == nullptr || !c->when_ready() || !held(r.record_id, r.author_key)) continue;
    c->clear_mood();
    c->clear_energy();
    c->clear_need();
    c->clear_note();
    r.waiting = true;
  }
  for (auto& v : state.checkins) {
    if (!v.when_ready || !held(v.record_id, v.author_key)) continue;
    v.waiting = true;
    v.mood = 0;
    v.energy = 0;
    v.need = v1::NEED_UNSPECIFIED;
    v.note.clear();
  }
}

}  // namespace duet::model
