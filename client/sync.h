// The sync engine and the pairing exchanges: the thin shell that moves
// sealed records between the local replica and the relay.
//
// Sync() completes a pairing this device started (when the partner has
// joined), pushes the outbox, and pulls everything after the cursor,
// verifying each record: a record that fails verification is refused and
// reported, the others are stored, and the cursor moves past both in one
// transaction. Nothing here prints; results and warnings come back as values.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "client/device.h"

namespace duet::client {

inline constexpr std::chrono::milliseconds kDefaultTimeout{5000};

struct SyncReport {
  std::size_t pushed = 0;
  std::size_t pulled = 0;  // new records from the partner
  std::size_t refused = 0;  // records that failed verification
  std::vector<std::string> warnings;
  std::optional<std::string> paired_with;  // this sync completed pairing
  bool waiting_for_partner = false;        // an invite is still open
  bool not_paired = false;
  bool relay_rolled_back = false;  // the relay's log is behind what we saw
  std::size_t new_chain_findings = 0;  // dropped, reordered or forked records
};
Result<SyncReport> Sync(Device& device, std::chrono::milliseconds timeout = kDefaultTimeout);

struct CreatedInvite {
  std::string code;
  std::int64_t expires_at = 0;
};
// Refuses while another invite of this device is open unless `replace`:
// a partner who joins with the old code could otherwise never be completed.
Result<CreatedInvite> CreateInvite(Device& device, std::uint32_t ttl_seconds, bool replace,
                                   std::chrono::milliseconds timeout = kDefaultTimeout);

struct JoinedCouple {
  std::string partner_name;
  std::string safety_number;
};
Result<JoinedCouple> JoinInvite(Device& device, const std::string& code_text,
                                std::chrono::milliseconds timeout = kDefaultTimeout);

}  // namespace duet::client
