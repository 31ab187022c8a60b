// The sync engine and the pairing exchanges: the thin shell that moves
// sealed records between the local replica and the relay.
//
// Sync() completes a pairing this device started (when the partner has
// joined), pushes the outbox, and pulls everything after the cursor,
// verifying each record: a record that fails verification is refused and
// reported, the others are stored, and the cursor moves past both in one
// transaction. Once both partners' sealed reflections on a talk are in, it
// releases this device's key for its own (docs/protocol.md §7.3). Nothing
// here prints; results and warnings come back as values.
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
  // Linking devices (protocol.md §5.1): this new device still waits for its
  // keys; it received them in this sync; this sync handed them to a device.
  bool waiting_for_device = false;
  bool linked = false;
  std::optional<std::string> linked_device;
  bool not_paired = false;
  bool relay_rolled_back = false;  // the relay's log is behind what we saw
  // The relay paced or capped this couple: what stays queued and why, in
  // plain words. Nothing is lost; a later sync
  // sends it.
  std::optional<std::string> held_back;
  bool over_quota = false;  // held back for good, until the relay's owner acts
  std::size_t new_chain_findings = 0;  // dropped, reordered or forked records
  std::size_t keys_released = 0;       // reflections revealed to the partner
  std::size_t notices_sent = 0;        // partner records this device told it cannot show
  std::size_t purged = 0;              // records deleted here that the relay erased
  // The pairing has ended (either partner ran `duet unpair`), at this unix
  // time: this sync fetched what was sent before the end, and nothing moves
  // from now on.
  std::optional<std::int64_t> unpaired_at;
  // Another device of mine revoked this one, at this unix time: nothing
  // moves from now on.
  std::optional<std::int64_t> revoked_at;
  std::size_t devices_revoked = 0;  // the relay confirmed revocations made here
};
Result<SyncReport> Sync(Device& device, std::chrono::milliseconds timeout = kDefaultTimeout);

class RelaySession;
// Opens an authenticated session to the device's relay, pinning its key on
// first use.
Result<std::unique_ptr<RelaySession>> OpenRelay(Device& device, std::chrono::milliseconds timeout);
// One sync over a session that is already open (for `duet watch`, which
// stays connected): push, pull, chain checks, reflection keys. The device
// must be paired.
Result<SyncReport> SyncOver(Device& device, RelaySession& session);

struct Unpairing {
  std::int64_t ended_at = 0;
  bool partner_first = false;  // the partner had ended it already
};
// Ends the pairing (docs/protocol.md §4, Unpair): sends what is queued and
// fetches what is new first, so both keep what was written before the end;
// then the relay is told, and this device shares nothing from then on.
Result<Unpairing> Unpair(Device& device, std::chrono::milliseconds timeout = kDefaultTimeout);

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
