// The relay's static X25519 key pair, kept in a file of mode 0600 holding the
// 32-byte secret. Clients pin the public half (docs/protocol.md §3, §5).
#pragma once

#include <string>

#include "base/result.h"
#include "crypto/crypto.h"

namespace duet::daemon {

// Loads the key at `path`, or creates it (mode 0600) when there is none.
// Refuses a key file that others can read, or one of the wrong size.
Result<crypto::KxKeyPair> LoadOrCreateRelayKey(const std::string& path);

}  // namespace duet::daemon
