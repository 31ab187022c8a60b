// Records their authors deleted (docs/protocol.md §7.8). A valid shared
// Deletion names a record by id, chain number and chain hash; it counts only
// when its author wrote that record, and, when the record is held, only if
// the record matches all three. The fold leaves matched records out, the
// device forgets them, and the chain check counts an unheld one in its
// place, so the author's chain stays whole without the content.
//
// Pure: values in, values out. Safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client/model/fold.h"

namespace duet::model {

struct DeletedRecord {
  std::string record_id;
  std::string author_key;
  std::string device_key;  // whose chain it held a place in: the Deletion's device
  std::uint64_t author_seq = 0;
  std::string record_hash;
  std::string deletion_id;  // the Deletion record that names it
  bool held = false;        // the record is held here (and matches)
  // A kept note deleted on one of its author's devices: the Deletion is
  // kept too (under the own key), and names only kept records.
  bool kept = false;
};

// What its author may delete: words written to share (check-ins, shared
// later or not, thanks, readiness, sent prompts). Not the records others
// build on: a reflection or an answer (deleting one after the partner's
// opened would undo commit-then-reveal), an accept, a proposal, a key.
bool Deletable(const v1::RecordBody& body);

// Every deletion that counts, in the order the Deletion records are given:
// a held record is deleted only if it is Deletable.
std::vector<DeletedRecord> Deletions(const std::vector<OpenedRecord>& records);

// The Deletion body that deletes `record`, a shared record with its place
// in its author's chain.
v1::RecordBody DeletionOf(const OpenedRecord& record);

}  // namespace duet::model
