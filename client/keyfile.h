// The device's secrets, in one file of mode 0600 (docs/protocol.md §5):
// its Ed25519 identity, its X25519 key, the local key that seals records kept
// on this device, and once paired the couple key (or, while an invite is
// open, the invite secret).
//
// Layout, 201 bytes, strict: "DUETKEY1" | flags (bit 0 couple key, bit 1
// invite secret) | sign secret (64) | kx secret (32) | local key (32) |
// couple key (32, zero when absent) | invite secret (32, zero when absent).
// A locked key file wraps those 201 bytes: "DUETLCK1" | opslimit (8, BE) |
// memlimit (8, BE) | salt (16) | crypto_secretbox of the plain file under
// the argon2id key of the passphrase (nonce 24 | MAC 16 | 201), 281 bytes.
// Saving writes a temporary file, fsyncs it and renames it over the old one,
// so a crash leaves the old or the new file, never half of one. Loading
// refuses a file that group or others can read.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "base/result.h"
#include "crypto/crypto.h"

namespace duet::client {

struct DeviceKeys {
  crypto::SigningKeyPair identity;
  crypto::KxKeyPair exchange;
  crypto::SymmetricKey local_key;
  std::optional<crypto::SymmetricKey> couple_key;
  std::optional<crypto::SymmetricKey> invite_secret;
  // Set when the file is sealed with a passphrase; kept so that saving again
  // does not derive the key again.
  std::optional<crypto::PassphraseKey> lock;

  static DeviceKeys Generate();
};

// Asked for the passphrase only when the file is locked; nullopt: none given.
using PassphraseSource = std::function<std::optional<std::string>()>;
Result<DeviceKeys> LoadKeys(const std::string& path, const PassphraseSource& passphrase = {});
// `exclusive`: fail if the file exists (for init).
Status SaveKeys(const std::string& path, const DeviceKeys& keys, bool exclusive);

}  // namespace duet::client
