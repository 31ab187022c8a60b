// The time texts people type: weekly windows, days and spans, local times
// and durations. Whatever parses must format back to something that parses
// to the same value; errors stay one line.
#include <cstdint>
#include <string>

#include "client/cli/cli.h"
#include "client/model/timeplan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto one_line = [](const duet::Error& e) {
    if (e.message.find('\n') != std::string::npos) __builtin_trap();
  };
  if (auto window = duet::model::ParseWeeklyWindow(text); window.ok()) {
    auto again = duet::model::ParseWeeklyWindow(duet::model::FormatWeeklyWindow(window.value()));
    if (!again.ok() || !(again.value() == window.value())) __builtin_trap();
  } else {
    one_line(window.error());
  }
  if (auto span = duet::model::ParseLocalSpan(text); !span.ok()) one_line(span.error());
  static const date::time_zone* berlin = duet::model::FindZone("Europe/Berlin").value();
  if (auto at = duet::model::ParseLocalTime(text, berlin); !at.ok()) one_line(at.error());
  (void)duet::client::cli::ParseDuration(text);
  return 0;
}
