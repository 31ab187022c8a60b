#include "client/model/fold.h"

#include <algorithm>
#include <set>

#include "client/model/fold_parts.h"

namespace duet::model {

std::vector<const OpenedRecord*> FoldOrder(const std::vector<OpenedRecord>& records) {
  Ordered ordered;
  std::set<std::string> seen;  // a record held twice counts once
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
  return state;
}

void FoldCheckins(const Ordered& records, const std::string& my_key, CoupleState* state) {
  for (const OpenedRecord* record : records) {
    if (record->body.kind_case() != v1::RecordBody::kCheckin) continue;
    const auto& checkin = record->body.checkin();
    CheckInView view;
    view.record_id = record->record_id;
    view.author_key = record->author_key;
    view.mine = record->author_key == my_key;
    view.shared = record->shared;
    view.synced = record->relay_seq.has_value();
    view.created_at_ms = record->body.created_at_ms();
    view.mood = checkin.mood();
    view.energy = checkin.energy();
    view.need = checkin.need();
    view.note = checkin.note();
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
