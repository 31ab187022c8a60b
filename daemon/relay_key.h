// The relay's static X25519 key pair, kept in a file of mode 0600 holding the
// 32-byte secret. Clients pin the public half (docs/protocol.md §3, §5).
//
// Moving to a new key (protocol.md §3.1) uses two more files beside it:
// KEY.next, the key the relay announces while clients learn it, and KEY.old,
// the key replaced by the last promotion (kept so an owner can step back).
// Every file is written whole (a temporary file, fsync, rename) or not at all.
#pragma once

#include <optional>
#include <string>

#include "base/result.h"
#include "crypto/crypto.h"

namespace duet::daemon {

// Loads the key at `path`, or creates it (mode 0600) when there is none.
// Refuses a key file that others can read, or one of the wrong size.
Result<crypto::KxKeyPair> LoadOrCreateRelayKey(const std::string& path);
// Loads the key at `path`; none when there is no such file.
Result<std::optional<crypto::KxKeyPair>> LoadRelayKey(const std::string& path);

std::string NextKeyPath(const std::string& key_path);

// `duetd key rotate`: makes KEY.next and returns its public key. Refused
// when a rotation is already under way, or the relay has no key yet.
Result<std::string> StartRelayKeyRotation(const std::string& key_path);
// `duetd key promote`: KEY becomes KEY.old and KEY.next becomes KEY; returns
// the new public key. The relay uses it from its next start.
Result<std::string> PromoteNextRelayKey(const std::string& key_path);

}  // namespace duet::daemon
