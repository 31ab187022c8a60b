// End-to-end sealing of records (docs/protocol.md §4).
//
// SealRecord pads the body to a 256-byte bucket, encrypts it with
// XChaCha20-Poly1305 under the given key (random nonce; the envelope's
// visible fields as associated data) and signs the envelope with the author's
// Ed25519 key. OpenRecord checks, cheapest first: exact field lengths, the
// couple, that the author is one the caller trusts, the signature, then the
// AEAD; only a record that passes all of them is parsed, and then judged by
// the record rules (client/model/validate.h). Pure apart from the random
// nonce and record id.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "crypto/crypto.h"
#include "duet/v1/wire.pb.h"
#include "client/model/validate.h"
#include "model/record.pb.h"

namespace duet::client {

inline constexpr std::size_t kPaddingBlock = 256;

// The 8-byte id that names a symmetric key in envelopes: the first bytes of
// BLAKE2b keyed with the key, so it reveals nothing of it.
std::string KeyId(const crypto::SymmetricKey& key);

// `record_id`: empty for a new random one; a record sealed again (a kept
// note moving under the own key, protocol.md §5.1) keeps its id.
v1::RecordEnvelope SealRecord(const model::v1::RecordBody& body, const crypto::SymmetricKey& key,
                              const crypto::SigningKeyPair& author, const std::string& couple_id,
                              const std::string& record_id = {});

enum class SignatureCheck { kVerify, kVerifiedOnReceipt };

// An authentic record's body and whether it keeps the rules. A body that
// authenticates but does not parse (text that is not UTF-8) is still the
// author's record: `body` then holds its header fields (schema, time and
// chain) and `verdict` says it is unreadable.
struct OpenedBody {
  model::v1::RecordBody body;
  model::Verdict verdict;
};

// `kVerifiedOnReceipt` skips only the Ed25519 check, for a record this
// device verified before storing it (every stored record was); the AEAD
// under the couple key still authenticates it, so a database changed by
// someone without the keys still fails to open.
Result<OpenedBody> OpenRecord(const v1::RecordEnvelope& envelope,
                                         const crypto::SymmetricKey& key,
                                         const std::string& couple_id,
                                         const std::vector<std::string>& trusted_authors,
                                         SignatureCheck check = SignatureCheck::kVerify);

// OpenRecord in two steps, so a device can keep what its records decrypt
// to (device.cc) and read them again without the cost of the AEAD: the
// same checks and decryption, giving the plaintext with its padding
// removed (nullopt when the padding is malformed) ...
Result<std::optional<std::string>> DecryptRecord(const v1::RecordEnvelope& envelope,
                                                 const crypto::SymmetricKey& key, const std::string& couple_id,
                                                 const std::vector<std::string>& trusted_authors,
                                                 SignatureCheck check = SignatureCheck::kVerify);
// ... and what that plaintext says. The caller wipes the plaintext.
OpenedBody ReadRecordBody(const std::optional<std::string>& plaintext);

// BLAKE2b-256 over the signed bytes and the signature: what the author's
// next record names as its predecessor. Computed from the fields, not from
// a serialization the relay could re-encode.
std::string EnvelopeHash(const v1::RecordEnvelope& envelope);

}  // namespace duet::client
