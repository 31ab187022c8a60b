// iCalendar (RFC 5545) output for agreed talks, so any calendar can import
// them and remind both partners.
//
// Pure: events in, text out. Times are written in UTC ("...Z" form), which
// every importer shows in its own zone and which is never ambiguous across
// daylight-saving changes (a TZID would need a VTIMEZONE built from the zone
// rules). TEXT values are escaped (\\ \; \, \n), control characters dropped,
// lines folded at 75 octets without splitting a UTF-8 sequence, and every
// line ends in CRLF. Safe to call from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace duet::client {

struct CalendarEvent {
  std::string uid;            // stable across exports: the same talk, the same UID
  std::int64_t start = 0;     // unix seconds
  std::int64_t end = 0;       // unix seconds, after start
  std::int64_t stamp = 0;     // DTSTAMP: when this version of the event was made
  std::string summary;        // may hold any text a partner wrote
  std::string location;       // empty: no LOCATION
  std::string description;    // empty: no DESCRIPTION
  int alarm_minutes = 15;     // VALARM this many minutes before; 0: no alarm
  bool cancelled = false;     // STATUS:CANCELLED instead of CONFIRMED
  int sequence = 0;           // SEQUENCE: bumped when an event changes
};

// A whole VCALENDAR (PRODID "-//duet//duet 0.1//EN", VERSION 2.0) holding the
// events in the order given.
std::string WriteCalendar(const std::vector<CalendarEvent>& events);

}  // namespace duet::client
