// The relay's log: one line per event on stderr, for journald or a terminal.
// Text lines read "duetd: warning: closed ..."; JSON lines are one object
// each ({"time", "level", "event", "message"}). Nothing a partner wrote and
// no key is ever logged; text that came from the network is escaped before
// it is written (Untrusted()), and each kind of line is rate-limited: past
// `burst` lines of one kind within a minute the rest are counted, and the
// next line of that kind says how many were left out. So an attacker who
// provokes the same event a million times cannot fill the disk through the
// log. Network thread only (and the thread that creates the relay).
#pragma once

#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "daemon/clock.h"

namespace duet::daemon {

enum class LogLevel { kError, kWarning, kInfo, kDebug };
enum class LogFormat { kText, kJson };

// "error", "warning", "info", "debug"; nullopt for anything else.
std::optional<LogLevel> ParseLogLevel(std::string_view name);

class RelayLog {
 public:
  // Receives each finished line, without its newline.
  using Sink = std::function<void(const std::string& line)>;

  // Writes to stderr unless a sink is given (tests read what was written).
  explicit RelayLog(const Clock& clock, Sink sink = {}, int burst = 10);

  void Configure(LogLevel least_important, LogFormat format);
  bool Enabled(LogLevel level) const { return level <= level_; }

  // `kind` names the event ("shed", "quota", ...); `line` is already escaped
  // where it holds untrusted text.
  void Write(LogLevel level, std::string_view kind, const std::string& line);
  static std::string Untrusted(std::string_view text);
  // A couple's id shortened for a log line: enough to follow one couple
  // through the log, too short to stand in for the id anywhere else.
  static std::string CoupleTag(const std::string& couple_id);

 private:
  struct Window {
    Clock::TimePoint started{};
    int written = 0;
    std::uint64_t suppressed = 0;
  };
  std::string Format(LogLevel level, std::string_view kind, const std::string& message) const;

  const Clock& clock_;
  Sink sink_;
  int burst_;
  LogLevel level_ = LogLevel::kInfo;
  LogFormat format_ = LogFormat::kText;
  std::unordered_map<std::string, Window> windows_;  // one per kind: bounded by the code
};

}  // namespace duet::daemon
