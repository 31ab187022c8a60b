// The device's secrets, in one file of mode 0600 (docs/protocol.md §5):
// its Ed25519 identity, its X25519 key, the local key that seals records kept
// on this device, and once paired the couple key (or, while an invite is
// open, the invite secret).
//
// Layout (version 2), 233 bytes, strict: "DUETKEY2" | flags (bit 0 couple
// key, bit 1 invite secret) | sign secret (64) | kx secret (32) | local key
// (32) | couple key (32, zero when absent) | invite secret (32, zero when
// absent) | checksum (32). A locked key file wraps those 233 bytes:
// "DUETLCK2" | opslimit (8, BE) | memlimit (8, BE) | salt (16) |
// crypto_secretbox of the plain file under the argon2id key of the
// passphrase (nonce 24 | MAC 16 | 233) | checksum (32), 345 bytes. Each
// checksum is BLAKE2b-256 keyed with ASCII "duet/v1/key-file" over every
// byte before it, so damage is reported as damage on first use, before
// anything is written (and before a passphrase is asked for or blamed).
// Version 1 files (the same without checksums, "DUETKEY1"/"DUETLCK1") are
// read, and Device::Open rewrites them as version 2.
//
// Saving writes a fresh temporary file, fsyncs it, renames it over the old
// one and fsyncs the folder, so a crash or power cut leaves the old or the
// new file, never half of one. Loading refuses a file that group or others
// can read.
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
  bool older_format = false;  // read from a version 1 file: save it again

  static DeviceKeys Generate();
};

// Asked for the passphrase only when the file is locked; nullopt: none given.
using PassphraseSource = std::function<std::optional<std::string>()>;
// A key derived from the passphrase earlier (`duet unlock`), tried before
// the passphrase is asked for; one that no longer opens the file (the
// passphrase changed) is passed over.
using RememberedKeySource = std::function<std::optional<crypto::PassphraseKey>()>;
Result<DeviceKeys> LoadKeys(const std::string& path, const PassphraseSource& passphrase = {},
                            const RememberedKeySource& remembered = {});
// The parser behind LoadKeys, with no I/O (so it is fuzzed directly);
// `path` only names the file in errors.
Result<DeviceKeys> ParseKeyFile(std::string_view bytes, const std::string& path,
                                const PassphraseSource& passphrase = {},
                                const RememberedKeySource& remembered = {});
// Whether the key file at `path` is sealed with a passphrase, from its
// header alone (nothing is asked for or derived).
Result<bool> KeyFileLocked(const std::string& path);
// `exclusive`: fail if the file exists (for init).
Status SaveKeys(const std::string& path, const DeviceKeys& keys, bool exclusive);
// The checksum that ends each form of the file, over `covered`.
std::string KeyFileChecksum(std::string_view covered);

}  // namespace duet::client
