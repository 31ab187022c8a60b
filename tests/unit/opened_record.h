// A record as Device::OpenRecords gives it, made by hand for the model's
// tests: shared, acknowledged at relay number `seq`, the author's record
// number `seq`, judged by the one validator.
#pragma once

#include <string>

#include "client/model/fold.h"
#include "client/model/validate.h"

namespace duet::model {

inline OpenedRecord MakeRecord(const std::string& id, const std::string& author, std::uint64_t seq,
                               v1::RecordBody body) {
  OpenedRecord r;
  r.record_id = id;
  r.author_key = author;
  r.shared = true;
  r.relay_seq = seq;
  r.envelope_hash = std::string(32, static_cast<char>('0' + seq % 64));
  body.set_schema(1);
  body.set_created_at_ms(1764700000000 + static_cast<std::int64_t>(seq));
  body.set_author_seq(seq);
  r.body = std::move(body);
  r.verdict = ValidateBody(r.body);
  return r;
}

}  // namespace duet::model
