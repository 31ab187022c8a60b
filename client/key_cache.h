// Remembering an unlocked key file for a while (`duet unlock`), so a
// passphrase-locked device answers as fast as an unlocked one.
//
// What is kept is the key derived from the passphrase (argon2id's output),
// not the device's keys: alone it opens nothing, and it stops fitting when
// the passphrase changes (a new salt). It lives in the Linux kernel's session
// keyring (keyrings(7)), never on disk, readable only by processes of this
// login session, and the kernel drops it when its time runs out or the
// session ends (without a PAM login session, the user's session keyring
// stands in: shared by the user's processes, bounded only by the time
// given); `duet lock` drops it at once. One entry per key file, named
// by a hash of the file's absolute path.
//
// Errors are values; nothing here throws or prints.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"
#include "crypto/crypto.h"

namespace duet::client {

struct RememberedKey {
  crypto::PassphraseKey key;
  std::int64_t expires_at = 0;  // unix seconds
};

// Keeps `key` for the key file at `key_file` for `ttl` from `now`, replacing
// an earlier entry. kUnavailable when the kernel keeps no keyrings here.
Status RememberUnlockedKey(const std::string& key_file, const crypto::PassphraseKey& key,
                           std::chrono::seconds ttl, std::int64_t now);
// The entry for `key_file`, if one is kept and readable.
std::optional<RememberedKey> RecallUnlockedKey(const std::string& key_file);
// Drops the entry; true if there was one.
bool ForgetUnlockedKey(const std::string& key_file);

}  // namespace duet::client
