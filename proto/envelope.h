// The byte layouts both sides derive from a RecordEnvelope (docs/protocol.md
// §4): what the author signs, what the AEAD authenticates, and the shape
// checks (exact lengths) the relay and the partner apply before any crypto.
// Pure functions of their arguments.
#pragma once

#include <cstddef>
#include <string>

#include "duet/v1/wire.pb.h"

namespace duet::proto {

inline constexpr std::size_t kIdBytes = 16;          // couple_id, record_id, invite_id
inline constexpr std::size_t kKeyBytes = 32;         // public keys
inline constexpr std::size_t kNonceBytes = 24;
inline constexpr std::size_t kSignatureBytes = 64;
inline constexpr std::size_t kKeyIdBytes = 8;
inline constexpr std::size_t kMinCiphertextBytes = 17;
inline constexpr std::size_t kMaxCiphertextBytes = 64 * 1024;
inline constexpr std::size_t kMaxSealedInviteBytes = 1024;
// The keys a linking device hands a new device (protocol.md §5.1).
inline constexpr std::size_t kMaxSealedLinkKeysBytes = 16384;
inline constexpr int kMaxRecordsPerPush = 100;
inline constexpr std::uint32_t kMaxPullLimit = 500;

std::string EnvelopeAssociatedData(const v1::RecordEnvelope& envelope);
std::string EnvelopeSignedBytes(const v1::RecordEnvelope& envelope);
// Empty when every field has its exact length and there is nothing else
// (no unknown fields: a relay must not be able to pad or tag a stored
// record); otherwise what is wrong.
std::string EnvelopeShapeError(const v1::RecordEnvelope& envelope);

}  // namespace duet::proto
