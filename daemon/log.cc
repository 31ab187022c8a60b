#include "daemon/log.h"

#include "proto/protobuf_log.h"

namespace duet::daemon {

RelayLog::RelayLog(const Clock& clock, Sink sink, int burst)
    : clock_(clock), sink_(std::move(sink)), burst_(burst) {
  if (!sink_)
    sink_ = [](const std::string& line) { std::fprintf(stderr, "duetd: %s\n", line.c_str()); };
}

void RelayLog::Write(std::string_view kind, const std::string& line) {
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
    sink_(line + " (and " + std::to_string(window.suppressed) + " similar " +
          (window.suppressed == 1 ? "line" : "lines") + " left out)");
    window.suppressed = 0;
  } else {
    sink_(line);
  }
}

std::string RelayLog::Untrusted(std::string_view text) { return proto::EscapeForLog(text, 64); }

}  // namespace duet::daemon
