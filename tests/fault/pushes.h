// What the fault tests ask of the relay's store: pair couples and push
// records, as duetd's handlers do, with envelopes the check can recognise.
//
// Every record's envelope is a function of its id, so a record read back
// can be told apart from a torn or misplaced one without keeping copies.
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "daemon/group_commit.h"
#include "storage/relay_store.h"

namespace duet::testing {

// 40 to 6,040 bytes: some records spill into overflow pages, most do not.
inline std::string EnvelopeFor(const std::string& record_id) {
  std::uint32_t hash = 2166136261u;  // FNV-1a
  for (unsigned char c : record_id) hash = (hash ^ c) * 16777619u;
  std::string envelope;
  const std::size_t size = 40 + hash % 6000;
  while (envelope.size() < size) envelope += record_id + "|";
  envelope.resize(size);
  return envelope;
}

inline std::string CreatorOf(const std::string& couple_id) { return couple_id + "/creator"; }
inline std::string AnswererOf(const std::string& couple_id) { return couple_id + "/answerer"; }

// An invite created and answered: the couple and both devices registered.
inline daemon::GroupCommit::Work PairJob(std::string couple_id) {
  return [couple_id](storage::RelayStore& store) -> Status {
    storage::InviteRow invite;
    invite.invite_id = couple_id + "/invite";
    invite.couple_id = couple_id;
    invite.creator_key = CreatorOf(couple_id);
    invite.sealed_offer = "sealed offer";
    invite.expires_at = std::time(nullptr) + 3600;
    DUET_RETURN_IF_ERROR(store.CreateInvite(invite));
    return store.AnswerInvite(invite.invite_id, AnswererOf(couple_id), "sealed answer");
  };
}

// One push of several records, stored the way the relay's push handler does
// it: each appended (or found, when retried) inside the one job. `seqs`
// receives their sequence numbers, in order, for the Done callback.
inline daemon::GroupCommit::Work PushJob(std::string couple_id, std::vector<std::string> record_ids,
                                         std::shared_ptr<std::vector<std::uint64_t>> seqs) {
  return [couple_id, record_ids, seqs](storage::RelayStore& store) -> Status {
    for (const auto& record_id : record_ids) {
      bool appended = false;
      auto seq = store.Append(couple_id, record_id, CreatorOf(couple_id), EnvelopeFor(record_id),
                              &appended);
      if (!seq.ok()) return seq.error();
      seqs->push_back(seq.value());
    }
    return Status::Ok();
  };
}

}  // namespace duet::testing
