#include "client/model/deletion.h"

#include <map>

namespace duet::model {

std::vector<DeletedRecord> Deletions(const std::vector<OpenedRecord>& records) {
  std::vector<DeletedRecord> out;
  std::map<std::string, const OpenedRecord*> by_id;
  for (const auto& record : records) {
    if (record.verdict.valid() && record.body.has_deletion())
      out.push_back({record.body.deletion().record_id(), record.author_key, record.device_key,
                     record.body.deletion().author_seq(),
                     record.body.deletion().record_hash(), record.record_id, false, !record.shared});
  }
  if (out.empty()) return out;  // the common case: nothing to look up
  for (const auto& record : records) by_id.emplace(record.record_id, &record);
  std::vector<DeletedRecord> counted;
  for (auto& deleted : out) {
    auto held = by_id.find(deleted.record_id);
    if (held != by_id.end()) {
      const OpenedRecord& r = *held->second;
      // Only its author deletes a record, and only the one it names: a
      // Deletion that does not match what is held changes nothing.
      if (r.shared == deleted.kept || r.author_key != deleted.author_key || r.device_key != deleted.device_key ||
          r.body.author_seq() != deleted.author_seq ||
          r.envelope_hash != deleted.record_hash || !Deletable(r.body))
        continue;
      deleted.held = true;
    } else if (deleted.kept) {
      continue;  // a kept note is in no chain: nothing to count in its place
    }
    counted.push_back(std::move(deleted));
  }
  return counted;
}

bool Deletable(const v1::RecordBody& body) {
  return body.has_checkin() || body.has_shared_later() || body.has_thanks() || body.has_readiness() ||
         body.has_prompt_share();
}

v1::RecordBody DeletionOf(const OpenedRecord& record) {
  v1::RecordBody body;
  auto* deletion = body.mutable_deletion();
  deletion->set_record_id(record.record_id);
  deletion->set_author_seq(record.body.author_seq());
  deletion->set_record_hash(record.envelope_hash);
  return body;
}

}  // namespace duet::model
