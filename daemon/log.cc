#include "daemon/log.h"

#include <ctime>

#include <nlohmann/json.hpp>

#include "crypto/crypto.h"
#include "proto/protobuf_log.h"

namespace duet::daemon {
namespace {

constexpr const char* kLevelNames[] = {"error", "warning", "info", "debug"};

std::string Rfc3339(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace

std::optional<LogLevel> ParseLogLevel(std::string_view name) {
  for (int i = 0; i < 4; ++i)
    if (name == kLevelNames[i]) return static_cast<LogLevel>(i);
  return std::nullopt;
}

RelayLog::RelayLog(const Clock& clock, Sink sink, int burst)
    : clock_(clock), sink_(std::move(sink)), burst_(burst) {
  if (!sink_) sink_ = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
}

void RelayLog::Configure(LogLevel least_important, LogFormat format) {
  level_ = least_important;
  format_ = format;
}

void RelayLog::Write(LogLevel level, std::string_view kind, const std::string& line) {
  if (!Enabled(level)) return;
  const auto now = clock_.steady();
  Window& window = windows_[std::string(kind)];
  if (now - window.started >= std::chrono::minutes(1)) {
    window.started = now;
    window.written = 0;
  }
  if (window.written >= burst_) {
    ++window.suppressed;
    return;
  }
  ++window.written;
  if (window.suppressed > 0) {
    sink_(Format(level, kind,
                 line + " (and " + std::to_string(window.suppressed) + " similar " +
                     (window.suppressed == 1 ? "line" : "lines") + " left out)"));
    window.suppressed = 0;
  } else {
    sink_(Format(level, kind, line));
  }
}

std::string RelayLog::Format(LogLevel level, std::string_view kind, const std::string& message) const {
  const char* name = kLevelNames[static_cast<int>(level)];
  if (format_ == LogFormat::kJson) {
    const nlohmann::json line = {{"time", Rfc3339(clock_.unix_seconds())},
                                 {"level", name},
                                 {"event", kind},
                                 {"message", message}};
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  if (level == LogLevel::kInfo) return "duetd: " + message;
  return std::string("duetd: ") + name + ": " + message;
}

std::string RelayLog::CoupleTag(const std::string& couple_id) {
  return crypto::Base64UrlEncode(couple_id.substr(0, 6));
}

std::string RelayLog::Untrusted(std::string_view text) { return proto::EscapeForLog(text, 64); }

}  // namespace duet::daemon
