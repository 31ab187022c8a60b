// Linking another device of the same partner (docs/protocol.md §5.1): the
// exchanges with the relay on both sides. The linking device makes a code,
// learns who answered it, tells the couple (a DeviceLinked record) and hands
// the new device its keys; the new device answers the code and waits for
// them. Each step is safe to repeat after a crash or a lost connection.
// Errors are values; nothing here prints.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "base/result.h"
#include "client/device.h"
#include "client/sync.h"

namespace duet::client {

class RelaySession;

struct LinkCode {
  std::string code;
  std::int64_t expires_at = 0;
};
// Makes a one-time link code on a paired device (replacing any open one).
// `confirmed`: the keys go to whichever device answers, without asking.
Result<LinkCode> StartLink(Device& device, std::uint32_t ttl_seconds, bool confirmed,
                           std::chrono::milliseconds timeout = kDefaultTimeout);

// Asks the person whether the device that answered is theirs (they compare
// its fingerprint with the one it shows).
using ConfirmDevice = std::function<bool(const model::v1::PairingIdentity& device)>;

// On the linking device, with a link code open: nullopt while nobody has
// answered it. Once a device has, and the person agreed (up front, or now
// through `confirm`), tells the couple, sends what is queued and hands the
// new device its keys, and returns it. A device the person does not know
// is shut out at the relay. Without `confirm` (a plain sync) an answer not
// agreed up front waits, with a warning that says what to run.
Result<std::optional<model::v1::PairingIdentity>> ContinueLink(Device& device, RelaySession& session,
                                                               SyncReport& report, const ConfirmDevice& confirm = {});

struct JoinedDevice {
  std::string name;      // whose device this is now
  bool complete = false;  // the keys arrived; false: still waiting for them
};
// On a new device (set up with duet init, not paired): answers the code,
// then waits up to `wait` for the keys from the linking device.
Result<JoinedDevice> JoinAsDevice(Device& device, const std::string& code_text, const std::string& label,
                                  std::chrono::milliseconds wait,
                                  std::chrono::milliseconds timeout = kDefaultTimeout);
// On a new device whose keys have not arrived yet: fetches them if they
// are there. Returns whether the device is linked now.
Result<bool> FetchLinkKeys(Device& device, RelaySession& session);

}  // namespace duet::client
