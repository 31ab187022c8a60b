// Writes a record into a device's outbox the way its own duet would (sealed,
// signed, chained) but without the record rules: what an older, newer or
// broken client could send. The next `duet sync` of that device pushes it.
#pragma once

#include <cstdlib>
#include <stdexcept>
#include <string>

#include "client/device.h"
#include "client/sealing.h"
#include "proto/protobuf_log.h"

namespace duet::testing {

enum class Forgery { kNone, kBrokenSignature };

inline std::string ForgeRecord(const std::string& home, model::v1::RecordBody body,
                               Forgery forgery = Forgery::kNone) {
  proto::RouteProtobufLog("forged_record");  // a bad note is the point here
  auto paths = client::ResolveHome(home);
  if (!paths.ok()) throw std::runtime_error(paths.error().message);
  auto device = client::Device::Open(paths.value());
  if (!device.ok()) throw std::runtime_error(device.error().message);
  client::Device& d = *device.value();
  auto& store = d.store();
  // The chain fields, as Device::AddRecord keeps them (docs/protocol.md §4).
  const auto seq_text = store.GetMeta("chain.seq");
  const std::uint64_t seq =
      seq_text.ok() && seq_text.value() ? std::strtoull(seq_text.value()->c_str(), nullptr, 10) : 0;
  body.set_author_seq(seq + 1);
  body.set_prev_hash(store.GetMeta("chain.head").value().value_or(""));
  if (body.created_at_ms() == 0) body.set_created_at_ms(1764700000000);
  auto envelope = client::SealRecord(body, *d.keys().couple_key, d.keys().identity, *d.couple_id());
  if (forgery == Forgery::kBrokenSignature) (*envelope.mutable_signature())[5] ^= 1;
  storage::ReplicaRecord record{envelope.record_id(), envelope.author_key(), envelope.SerializeAsString(),
                                /*shared=*/true, std::nullopt};
  auto added = store.AddLocal(record);
  if (!added.ok()) throw std::runtime_error(added.message());
  auto chained = store.SetMetas({{"chain.seq", std::to_string(seq + 1)},
                                 {"chain.head", client::EnvelopeHash(envelope)}});
  if (!chained.ok()) throw std::runtime_error(chained.message());
  return envelope.record_id();
}

}  // namespace duet::testing
