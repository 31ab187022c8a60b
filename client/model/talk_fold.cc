// Talks: proposals, answers and reflections (docs/protocol.md §7.2, §7.3).
#include <map>

#include "client/model/fold_parts.h"
#include "client/model/reflection.h"
#include "crypto/crypto.h"

namespace duet::model {
namespace {

std::string ShortId(const std::string& id) { return crypto::Hex(id).substr(0, 8); }

class TalkFolder {
 public:
  TalkFolder(const std::string& my_key, CoupleState* state) : my_key_(my_key), state_(state) {}

  void Apply(const OpenedRecord& record) {
    const auto& body = record.body;
    switch (body.kind_case()) {
      case v1::RecordBody::kTalkProposal:
        Propose(record, body.talk_proposal());
        break;
      case v1::RecordBody::kTalkAccept:
        Accept(record, body.talk_accept());
        break;
      case v1::RecordBody::kTalkDecline:
        Close(record, body.talk_decline().talk_id(), "decline", body.talk_decline().note());
        break;
      case v1::RecordBody::kTalkCancel:
        Close(record, body.talk_cancel().talk_id(), "cancel", body.talk_cancel().note());
        break;
      case v1::RecordBody::kTalkReflection:
        Reflect(record, body.talk_reflection());
        break;
      default:
        break;
    }
  }

  // Keys last: my own key is a private record that may sort before the
  // reflection it opens, and a key must never depend on arrival order.
  void ApplyKey(const OpenedRecord& record) {
    if (!record.body.has_reflection_key()) return;
    const auto& key = record.body.reflection_key();
    auto it = reflections_.find(key.reflection_id());
    if (it == reflections_.end() || it->second.author_key != record.author_key) return;
    const bool mine = record.author_key == my_key_;
    // A private key opens my own reflection for me; only a shared one counts
    // as released to the partner.
    if (!record.shared && !mine) return;
    TalkView& talk = state_->talks[it->second.talk];
    ReflectionView& view = mine ? talk.my_reflection : talk.their_reflection;
    auto content = OpenReflection(it->second.body, key.key(), record.author_key);
    if (!content || !ValidateReflection(*content).valid()) return;
    view.readable = true;
    view.felt = content->felt();
    view.note = content->note();
    if (record.shared) view.released = true;
  }

 private:
  struct HeldReflection {
    std::size_t talk = 0;
    std::string author_key;
    v1::TalkReflection body;
  };

  TalkView* Find(const std::string& talk_id) {
    auto it = index_.find(talk_id);
    return it == index_.end() ? nullptr : &state_->talks[it->second];
  }

  void Late(TalkView& talk, const OpenedRecord& record, std::string what, std::string reason) {
    talk.late.push_back({record.record_id, record.author_key, std::move(what), std::move(reason)});
  }

  std::string StateReason(const TalkView& talk) {
    return "the talk was " + TalkStateName(talk.state) + " first";
  }

  void Decide(TalkView& talk, const OpenedRecord& record, TalkState state) {
    talk.state = state;
    talk.decided_by = record.author_key;
    talk.settled = record.relay_seq.has_value();
  }

  void Propose(const OpenedRecord& record, const v1::TalkProposal& p) {
    // Field rules (times within 2000-2400, 1-3 distinct options, minutes)
    // were kept by the validator (validate.h) before the fold.
    if (index_.count(record.record_id)) return;
    TalkView talk;
    talk.talk_id = record.record_id;
    talk.author_key = record.author_key;
    talk.mine = record.author_key == my_key_;
    talk.created_at_ms = record.body.created_at_ms();
    talk.options.assign(p.options().begin(), p.options().end());
    talk.minutes = p.minutes();
    talk.place = p.place();
    talk.topic = p.topic();
    talk.time_zone = p.time_zone();
    talk.counters = p.counters();
    talk.settled = record.relay_seq.has_value();
    if (TalkView* answered = Find(p.counters())) {
      if (answered->author_key == record.author_key)
        Late(*answered, record, "counter", "a proposal is countered by the partner, not its proposer");
      else if (answered->state != TalkState::kProposed)
        Late(*answered, record, "counter", StateReason(*answered));
      else {
        Decide(*answered, record, TalkState::kCountered);
        answered->countered_by = record.record_id;
      }
    }
    index_[talk.talk_id] = state_->talks.size();
    state_->talks.push_back(std::move(talk));
  }

  void Accept(const OpenedRecord& record, const v1::TalkAccept& accept) {
    TalkView* talk = Find(accept.talk_id());
    if (talk == nullptr) return;
    if (talk->author_key == record.author_key)
      return Late(*talk, record, "accept", "a proposal is accepted by the partner, not its proposer");
    if (talk->state != TalkState::kProposed) return Late(*talk, record, "accept", StateReason(*talk));
    if (accept.option() < 1 || accept.option() > talk->options.size())
      return Late(*talk, record, "accept", "it chose an option the proposal does not have");
    const std::int64_t start = talk->options[accept.option() - 1];
    const std::int64_t end = start + std::int64_t{talk->minutes} * 60;
    for (const TalkView& other : state_->talks) {
      if (other.state == TalkState::kAgreed && other.start() < end && start < other.end())
        return Late(*talk, record, "accept", "it overlaps the agreed talk " + ShortId(other.talk_id));
    }
    talk->chosen = accept.option();
    Decide(*talk, record, TalkState::kAgreed);
  }

  void Close(const OpenedRecord& record, const std::string& talk_id, const std::string& what,
             const std::string& note) {
    TalkView* talk = Find(talk_id);
    if (talk == nullptr) return;
    const bool by_proposer = talk->author_key == record.author_key;
    if (what == "decline") {
      if (by_proposer)
        return Late(*talk, record, what, "a proposal is declined by the partner; its proposer cancels it");
      if (talk->state != TalkState::kProposed) return Late(*talk, record, what, StateReason(*talk));
      talk->note = note;
      return Decide(*talk, record, TalkState::kDeclined);
    }
    const bool may_cancel = (talk->state == TalkState::kProposed && by_proposer) ||
                            talk->state == TalkState::kAgreed;
    if (!may_cancel) {
      return Late(*talk, record, what,
                  talk->state == TalkState::kProposed ? "only its proposer cancels a proposal"
                                                      : StateReason(*talk));
    }
    talk->note = note;
    Decide(*talk, record, TalkState::kCancelled);
  }

  void Reflect(const OpenedRecord& record, const v1::TalkReflection& reflection) {
    TalkView* talk = Find(reflection.talk_id());
    if (talk == nullptr) return;
    if (talk->state != TalkState::kAgreed)
      return Late(*talk, record, "reflection", "only an agreed talk takes reflections");
    // A reflection that commits to nothing (no 32-byte commitment, sealed
    // bytes of the wrong length) never gets here: the validator refused it,
    // so it cannot draw out the partner's key.
    const bool mine = record.author_key == my_key_;
    ReflectionView& view = mine ? talk->my_reflection : talk->their_reflection;
    if (!view.record_id.empty())
      return Late(*talk, record, "reflection", "a reflection was written already");
    view.record_id = record.record_id;
    reflections_[record.record_id] = {index_[talk->talk_id], record.author_key, reflection};
  }

  const std::string& my_key_;
  CoupleState* state_;
  std::map<std::string, std::size_t> index_;  // talk id -> position in state_->talks
  std::map<std::string, HeldReflection> reflections_;
};

}  // namespace

void FoldTalks(const Ordered& records, const std::string& my_key, CoupleState* state) {
  TalkFolder folder(my_key, state);
  for (const OpenedRecord* record : records)
    if (record->shared) folder.Apply(*record);
  for (const OpenedRecord* record : records) folder.ApplyKey(*record);
}

std::string TalkStateName(TalkState state) {
  switch (state) {
    case TalkState::kProposed:
      return "proposed";
    case TalkState::kAgreed:
      return "agreed";
    case TalkState::kDeclined:
      return "declined";
    case TalkState::kCancelled:
      return "cancelled";
    case TalkState::kCountered:
      return "countered";
  }
  return "unknown";
}

std::string TalkPhase(const TalkView& talk, std::int64_t now_seconds) {
  if (talk.state != TalkState::kAgreed) return TalkStateName(talk.state);
  if (now_seconds >= talk.end()) return "held";
  if (now_seconds >= talk.start()) return "now";
  return "upcoming";
}

}  // namespace duet::model
