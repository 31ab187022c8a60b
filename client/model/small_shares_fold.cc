// Readiness, thanks and shared prompts (docs/protocol.md §7.5).
#include "client/model/fold_parts.h"

namespace duet::model {

void FoldSmallShares(const Ordered& records, const std::string& my_key, CoupleState* state) {
  for (const OpenedRecord* record : records) {
    if (!record->shared) continue;
    const auto& body = record->body;
    const bool mine = record->author_key == my_key;
    if (body.has_readiness()) {
      const auto& r = body.readiness();
      ReadinessView view{record->record_id, record->author_key, mine, body.created_at_ms(),
                         r.state(), r.until(), r.note()};
      (mine ? state->my_readiness : state->their_readiness) = std::move(view);
    } else if (body.has_thanks()) {
      const auto& text = body.thanks().text();
      state->thanks.push_back({record->record_id, record->author_key, mine, body.created_at_ms(),
                               record->relay_seq, text});
    } else if (body.has_prompt_share()) {
      const auto& p = body.prompt_share();
      state->prompts.push_back({record->record_id, record->author_key, mine, body.created_at_ms(),
                                p.prompt_id(), p.text()});
    }
  }
}

std::optional<ReadinessView> ReadinessAt(const std::optional<ReadinessView>& readiness,
                                         std::int64_t now_seconds) {
  if (!readiness || (readiness->until != 0 && now_seconds >= readiness->until)) return std::nullopt;
  return readiness;
}

std::string ReadinessName(v1::ReadinessState state) {
  switch (state) {
    case v1::READINESS_STATE_READY:
      return "ready";
    case v1::READINESS_STATE_LATER:
      return "later";
    case v1::READINESS_STATE_NOT_NOW:
      return "not now";
    default:
      return "";
  }
}

}  // namespace duet::model
