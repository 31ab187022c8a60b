// The relay's log: one line per event on stderr (journald adds the time).
// Text that came from the network is escaped before it is written
// (proto::EscapeForLog), and each kind of line is rate-limited: past `burst`
// lines of one kind within a minute the rest are counted, and the next line
// of that kind says how many were left out. So an attacker who provokes the
// same event a million times cannot fill the disk through the log.
#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "daemon/clock.h"

namespace duet::daemon {

class RelayLog {
 public:
  using Sink = std::function<void(const std::string& line)>;

  // Writes to stderr unless a sink is given (tests read what was written).
  explicit RelayLog(const Clock& clock, Sink sink = {}, int burst = 10);

  // `kind` names the event ("shed", "quota", ...); `line` is already escaped
  // where it holds untrusted text (use Untrusted()).
  void Write(std::string_view kind, const std::string& line);
  static std::string Untrusted(std::string_view text);

 private:
  struct Window {
    Clock::TimePoint started{};
    int written = 0;
    std::uint64_t suppressed = 0;
  };
  const Clock& clock_;
  Sink sink_;
  int burst_;
  std::unordered_map<std::string, Window> windows_;  // one per kind: bounded by the code
};

}  // namespace duet::daemon
