// One-time tokens of an invite-only relay (docs/protocol.md §4): the owner
// runs `duetd token create`, gives the token to a couple, and their first
// invite spends it. The store keeps only a keyed hash of each token.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace duet::daemon {

// A fresh token: 24 URL-safe characters (144 random bits).
std::string NewRelayToken();
// What the store keeps of a token.
std::string RelayTokenHash(std::string_view token);
// Makes a token and records it in the relay's store, the SQLite file at
// `db_path` or the PostgreSQL database `postgres` when given (the relay may
// be running); returns the token to hand out.
Result<std::string> CreateRelayToken(const std::string& db_path, const std::string& postgres, std::int64_t now);

}  // namespace duet::daemon
