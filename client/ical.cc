#include "client/ical.h"

#include "base/utf8.h"

#include <date/date.h>

#include <algorithm>
#include <chrono>
#include <string_view>

namespace duet::client {
namespace {

// RFC 5545 3.1: lines SHOULD NOT exceed 75 octets, not counting the CRLF.
constexpr std::size_t kMaxLineOctets = 75;

// Invalid UTF-8 becomes U+FFFD, one per bad byte, rather than being dropped:
// the reader sees that something was lost instead of two words silently
// joined, and the output is always valid UTF-8 so folding stays safe.
constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";

// DATE-TIME has a four-digit year, so times are clamped to the years it can
// hold; this also keeps the day arithmetic far from overflow.
constexpr std::int64_t kEarliestTime = -62135596800;  // 0001-01-01T00:00:00Z
constexpr std::int64_t kLatestTime = 253402300799;    // 9999-12-31T23:59:59Z

// A TEXT value (RFC 5545 3.3.11). Any line break (CRLF, CR or LF) becomes one
// "\n"; other controls are not allowed in TEXT and a partner's text has no
// use for them, so they are dropped.
std::string EscapeText(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size();) {
    const std::size_t length = Utf8SequenceLength(in.substr(i));
    if (length == 0) {
      out += kReplacementCharacter;
      ++i;
      continue;
    }
    if (length > 1) {
      out += in.substr(i, length);
      i += length;
      continue;
    }
    const char c = in[i++];
    switch (c) {
      case '\\': out += "\\\\"; break;
      case ';': out += "\\;"; break;
      case ',': out += "\\,"; break;
      case '\r':
        if (i < in.size() && in[i] == '\n') ++i;
        out += "\\n";
        break;
      case '\n': out += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7F) out += c;
    }
  }
  return out;
}

// Appends one content line and its CRLF, folded (RFC 5545 3.1). `line` must be
// valid UTF-8: a fold moves back to the start of a character so that no
// reader ever sees half of one on either side of the break. It also keeps an
// escape such as "\," on one line: RFC 5545 unfolds before unescaping, so this
// is only insurance against importers that work line by line.
void AppendFolded(std::string& out, std::string_view line) {
  std::size_t room = kMaxLineOctets;
  while (line.size() > room) {
    std::size_t cut = room;
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
    std::size_t backslashes = 0;
    while (backslashes < cut && line[cut - 1 - backslashes] == '\\') ++backslashes;
    if (backslashes % 2 == 1) --cut;  // the last one escapes line[cut]
    if (cut == 0) cut = room;  // not UTF-8 after all; a split beats looping forever
    out += line.substr(0, cut);
    out += "\r\n ";
    line.remove_prefix(cut);
    room = kMaxLineOctets - 1;  // the leading space is part of the line
  }
  out += line;
  out += "\r\n";
}

void AppendProperty(std::string& out, std::string_view name, std::string_view value) {
  std::string line(name);
  line += ':';
  line += value;
  AppendFolded(out, line);
}

// "YYYYMMDDTHHMMSSZ" in UTC, from the date library: no time zone state or
// libc locking is involved.
std::string UtcDateTime(std::int64_t unix_seconds) {
  const std::int64_t t = std::clamp(unix_seconds, kEarliestTime, kLatestTime);
  return date::format("%Y%m%dT%H%M%SZ", date::sys_seconds{std::chrono::seconds{t}});
}

void AppendEvent(std::string& out, const CalendarEvent& event) {
  const std::string summary = EscapeText(event.summary);
  const std::string location = EscapeText(event.location);
  const std::string description = EscapeText(event.description);

  AppendProperty(out, "BEGIN", "VEVENT");
  AppendProperty(out, "UID", EscapeText(event.uid));
  AppendProperty(out, "DTSTAMP", UtcDateTime(event.stamp));
  AppendProperty(out, "DTSTART", UtcDateTime(event.start));
  AppendProperty(out, "DTEND", UtcDateTime(event.end));
  if (!summary.empty()) AppendProperty(out, "SUMMARY", summary);
  if (!location.empty()) AppendProperty(out, "LOCATION", location);
  if (!description.empty()) AppendProperty(out, "DESCRIPTION", description);
  AppendProperty(out, "STATUS", event.cancelled ? "CANCELLED" : "CONFIRMED");
  // RFC 5545 3.8.7.4 allows only non-negative sequence numbers.
  AppendProperty(out, "SEQUENCE", std::to_string(std::max(event.sequence, 0)));
  AppendProperty(out, "TRANSP", "OPAQUE");
  if (event.alarm_minutes > 0) {
    AppendProperty(out, "BEGIN", "VALARM");
    AppendProperty(out, "ACTION", "DISPLAY");
    // A DISPLAY alarm must carry a DESCRIPTION (RFC 5545 3.6.6).
    AppendProperty(out, "DESCRIPTION", summary.empty() ? "Reminder" : summary);
    AppendProperty(out, "TRIGGER", "-PT" + std::to_string(event.alarm_minutes) + "M");
    AppendProperty(out, "END", "VALARM");
  }
  AppendProperty(out, "END", "VEVENT");
}

}  // namespace

std::string WriteCalendar(const std::vector<CalendarEvent>& events) {
  std::string out;
  AppendProperty(out, "BEGIN", "VCALENDAR");
  AppendProperty(out, "VERSION", "2.0");
  AppendProperty(out, "PRODID", "-//duet//duet 0.1//EN");
  AppendProperty(out, "CALSCALE", "GREGORIAN");
  for (const CalendarEvent& event : events) AppendEvent(out, event);
  AppendProperty(out, "END", "VCALENDAR");
  return out;
}

}  // namespace duet::client
