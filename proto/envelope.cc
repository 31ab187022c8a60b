#include "proto/envelope.h"

#include <google/protobuf/unknown_field_set.h>

namespace duet::proto {

std::string EnvelopeAssociatedData(const v1::RecordEnvelope& envelope) {
  std::string out = "duet/v1/record";
  out.append(envelope.couple_id()).append(envelope.record_id()).append(envelope.author_key());
  out.append(envelope.key_id());
  return out;
}

std::string EnvelopeSignedBytes(const v1::RecordEnvelope& envelope) {
  std::string out = EnvelopeAssociatedData(envelope);
  out.append(envelope.nonce()).append(envelope.ciphertext());
  return out;
}

std::string EnvelopeShapeError(const v1::RecordEnvelope& envelope) {
  if (envelope.couple_id().size() != kIdBytes) return "couple_id must be 16 bytes";
  if (envelope.record_id().size() != kIdBytes) return "record_id must be 16 bytes";
  if (envelope.author_key().size() != kKeyBytes) return "author_key must be 32 bytes";
  if (envelope.nonce().size() != kNonceBytes) return "nonce must be 24 bytes";
  if (envelope.signature().size() != kSignatureBytes) return "signature must be 64 bytes";
  if (envelope.key_id().size() != kKeyIdBytes) return "key_id must be 8 bytes";
  if (envelope.ciphertext().size() < kMinCiphertextBytes ||
      envelope.ciphertext().size() > kMaxCiphertextBytes)
    return "ciphertext must be 17 to 65536 bytes";
  if (!envelope.GetReflection()->GetUnknownFields(envelope).empty())
    return "envelope has fields this version does not know";
  return {};
}

}  // namespace duet::proto
