#include "client/sealing.h"

#include <algorithm>

#include "proto/envelope.h"

namespace duet::client {

std::string KeyId(const crypto::SymmetricKey& key) {
  return crypto::Hash(16, "duet/v1/key-id", key.view()).substr(0, proto::kKeyIdBytes);
}

v1::RecordEnvelope SealRecord(const model::v1::RecordBody& body, const crypto::SymmetricKey& key,
                              const crypto::SigningKeyPair& author, const std::string& couple_id,
                              const std::string& record_id) {
  v1::RecordEnvelope envelope;
  envelope.set_couple_id(couple_id);
  envelope.set_record_id(record_id.empty() ? crypto::RandomBytes(proto::kIdBytes) : record_id);
  envelope.set_author_key(author.public_key);
  envelope.set_nonce(crypto::RandomBytes(crypto::kNonceBytes));
  envelope.set_key_id(KeyId(key));
  std::string plain = body.SerializeAsString();
  std::string padded = crypto::Pad(plain, kPaddingBlock);
  envelope.set_ciphertext(crypto::AeadSeal(key, envelope.nonce(),
                                           proto::EnvelopeAssociatedData(envelope), padded));
  crypto::WipeString(plain);
  crypto::WipeString(padded);
  envelope.set_signature(crypto::Sign(author, proto::EnvelopeSignedBytes(envelope)));
  return envelope;
}

Result<std::optional<std::string>> DecryptRecord(const v1::RecordEnvelope& envelope,
                                                 const crypto::SymmetricKey& key, const std::string& couple_id,
                                                 const std::vector<std::string>& trusted_authors,
                                                 SignatureCheck check) {
  const std::string shape = proto::EnvelopeShapeError(envelope);
  if (!shape.empty()) return MakeError(ErrorKind::kVerification, "malformed record: " + shape);
  if (envelope.couple_id() != couple_id)
    return MakeError(ErrorKind::kVerification, "record belongs to another couple");
  if (std::find(trusted_authors.begin(), trusted_authors.end(), envelope.author_key()) ==
      trusted_authors.end())
    return MakeError(ErrorKind::kVerification, "record is signed by a device that is not paired");
  if (check == SignatureCheck::kVerify &&
      !crypto::Verify(envelope.author_key(), proto::EnvelopeSignedBytes(envelope),
                      envelope.signature()))
    return MakeError(ErrorKind::kVerification, "record signature does not verify");
  if (envelope.key_id() != KeyId(key))
    return MakeError(ErrorKind::kVerification,
                     "record is sealed under key " + crypto::Hex(envelope.key_id()) +
                         ", which this device does not have");
  auto padded = crypto::AeadOpen(key, envelope.nonce(), proto::EnvelopeAssociatedData(envelope),
                                 envelope.ciphertext());
  if (!padded) return MakeError(ErrorKind::kVerification, "record ciphertext does not decrypt");
  auto plain = crypto::Unpad(*padded, kPaddingBlock);
  crypto::WipeString(*padded);
  return plain;
}

OpenedBody ReadRecordBody(const std::optional<std::string>& plaintext) {
  // The author's key sealed it: whatever is wrong with it is theirs to hear
  // about, never the relay's fault (protocol §7.0).
  OpenedBody opened;
  if (!plaintext) {
    opened.verdict = {model::Validity::kInvalid, "padding", "its padding is malformed"};
    return opened;
  }
  model::v1::RecordHeader header;
  if (opened.body.ParseFromString(*plaintext)) {
    opened.verdict = model::ValidateBody(opened.body);
  } else if (header.ParseFromString(*plaintext)) {
    opened.body.Clear();
    opened.body.set_schema(header.schema());
    opened.body.set_created_at_ms(header.created_at_ms());
    opened.body.set_author_seq(header.author_seq());
    opened.body.set_prev_hash(header.prev_hash());
    opened.body.set_partner_seq(header.partner_seq());
    opened.body.set_partner_hash(header.partner_hash());
    opened.body.set_relay_cursor(header.relay_cursor());
    opened.verdict = model::UnreadableBody(header.schema());
  } else {
    opened.verdict = {model::Validity::kInvalid, "body", "its body is not a duet record"};
  }
  return opened;
}

Result<OpenedBody> OpenRecord(const v1::RecordEnvelope& envelope, const crypto::SymmetricKey& key,
                              const std::string& couple_id, const std::vector<std::string>& trusted_authors,
                              SignatureCheck check) {
  auto plain = DecryptRecord(envelope, key, couple_id, trusted_authors, check);
  if (!plain.ok()) return plain.error();
  OpenedBody opened = ReadRecordBody(plain.value());
  if (plain.value()) crypto::WipeString(*plain.value());
  return opened;
}

std::string EnvelopeHash(const v1::RecordEnvelope& envelope) {
  return crypto::Hash(32, proto::EnvelopeSignedBytes(envelope) + envelope.signature());
}

}  // namespace duet::client
