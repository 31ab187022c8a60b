// Pairing (docs/protocol.md §5): invite codes, the identities each partner
// seals to the other under a key derived from the invite secret, the couple
// key, and the safety number both partners compare in person.
//
// Pure functions over their arguments (randomness only in the Seal* calls).
// Parsing is strict: a code that is not exactly a version-1 code with a good
// checksum is malformed, and the error says so without echoing the secret.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "crypto/crypto.h"
#include "model/record.pb.h"

namespace duet::client {

struct InviteCode {
  crypto::SymmetricKey secret;
  std::string relay_key;      // 32 bytes
  std::string relay_address;  // host:port
};

std::string FormatInviteCode(const InviteCode& code);
Result<InviteCode> ParseInviteCode(std::string_view text);

struct InviteKeys {
  std::string invite_id;  // 16 bytes, what the relay sees
  crypto::SymmetricKey seal_key;
  std::string couple_id;  // 16 bytes
};
InviteKeys DeriveInviteKeys(const crypto::SymmetricKey& secret);

enum class PairingRole { kCreator, kJoiner };

// The creator's identity is the offer, the joiner's the answer; each is bound
// to its role and the invite id, so one cannot be replayed as the other.
std::string SealIdentity(const InviteKeys& keys, PairingRole author,
                         const model::v1::PairingIdentity& identity);
Result<model::v1::PairingIdentity> OpenIdentity(const InviteKeys& keys, PairingRole author,
                                                std::string_view sealed);

Result<crypto::SymmetricKey> DeriveCoupleKey(const crypto::SymmetricKey& secret,
                                             const crypto::KxKeyPair& mine,
                                             std::string_view partner_kx_key, PairingRole role);

// A device's own short number (four groups of five digits), shown beside
// its label so a partner can tell one device from another.
std::string DeviceFingerprint(std::string_view sign_key);

// Link codes (protocol.md §5.1): an invite code of format 2, whose secret
// derives the invite id and seal key with the context "duetlnk1".
std::string FormatLinkCode(const InviteCode& code);
Result<InviteCode> ParseLinkCode(std::string_view text);
InviteKeys DeriveLinkKeys(const crypto::SymmetricKey& secret);

// Eight groups of five digits; the same for both partners.
std::string SafetyNumber(std::string_view sign_key_a, std::string_view sign_key_b);

}  // namespace duet::client
