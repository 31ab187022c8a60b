// Time arithmetic for talk times: weekly availability windows kept in each
// partner's own IANA time zone, one-off busy spans, and the interval algebra
// that turns both partners' windows into shared free time.
//
// Pure: values in, values out. No clock is read (callers pass `now` and the
// range) and nothing is written; the only outside input is the system's
// time-zone database, read through Howard Hinnant's date/tz, which is
// immutable once loaded. Instants are unix seconds (UTC). Every interval is
// half-open [start, end). Safe to call from any thread.
//
// Daylight-saving rules: a local time that does not exist (the hour skipped
// when clocks go forward) or exists twice (when they go back) is an error
// for a single instant the user typed, with a message that says which and
// what to do. For a window, each day's local span covers every instant whose
// local time falls inside it: the skipped hour shortens it, the repeated
// hour lengthens it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace date {
class time_zone;
}

namespace duet::model {

struct Interval {
  std::int64_t start = 0;  // unix seconds, inclusive
  std::int64_t end = 0;    // unix seconds, exclusive
  friend bool operator==(const Interval&, const Interval&) = default;
};

// A window that repeats every week, in local time.
struct WeeklyWindow {
  std::uint32_t weekdays = 0;      // bit 0 Monday ... bit 6 Sunday; never 0
  std::uint32_t start_minute = 0;  // 0..1439 after local midnight
  std::uint32_t end_minute = 0;    // 0..1440; at or before start: ends the next day
  friend bool operator==(const WeeklyWindow&, const WeeklyWindow&) = default;
};

// "mon-fri 19:00-21:00", "sat 10:00-12:00", "sun-thu 22:00-07:00" (crosses
// midnight; day ranges wrap round the week), "mon,wed,fri 07:30-08:00",
// "daily 12:00-13:00", "weekdays ...", "weekends ...". Day names are the
// first three letters, any case; "24:00" is allowed as an end. A window
// that starts and ends at the same minute is refused. The error quotes the
// text and shows the expected form.
Result<WeeklyWindow> ParseWeeklyWindow(std::string_view text);
// The canonical text of a window: "mon-fri 19:00-21:00", "sat-sun ...",
// "daily ...". ParseWeeklyWindow(FormatWeeklyWindow(w)) == w.
std::string FormatWeeklyWindow(const WeeklyWindow& window);

// A day, or part of a day, in local time: the date and a minute span.
struct LocalSpan {
  int year = 0;
  unsigned month = 0;   // 1..12
  unsigned day = 0;     // 1..31
  std::uint32_t start_minute = 0;   // 0..1439
  std::uint32_t end_minute = 1440;  // start+1..1440 (a span never crosses midnight)
  friend bool operator==(const LocalSpan&, const LocalSpan&) = default;
};
// "2026-12-24" (the whole day) or "2026-12-24 14:00-16:30".
Result<LocalSpan> ParseLocalSpan(std::string_view text);
std::string FormatLocalSpan(const LocalSpan& span);  // the same forms

// An IANA zone by name ("Europe/Berlin", "UTC"); the error names the input
// and gives an example.
Result<const date::time_zone*> FindZone(std::string_view name);
// This machine's zone: TZ (an IANA name, with or without a leading ':')
// when set and known, else /etc/localtime, else UTC.
const date::time_zone* LocalZone();
// The zone by name, else UTC (null when there is no database at all, which
// every function here reads as UTC): for zones named in a partner's records.
const date::time_zone* ZoneOrUtc(std::string_view name);
std::string ZoneName(const date::time_zone* zone);

// "2026-12-02 19:30" in `zone`, or with an explicit offset
// "2026-12-02 19:30 +01:00" / "2026-12-02T19:30Z", to unix seconds.
// A local time skipped or repeated by a daylight-saving change is an error
// that says so and suggests adding the offset.
Result<std::int64_t> ParseLocalTime(std::string_view text, const date::time_zone* zone);
// "2026-12-02 19:30" in `zone`.
std::string FormatLocalTime(std::int64_t unix_seconds, const date::time_zone* zone);
// "Wed 2026-12-02 19:30".
std::string FormatLocalDayTime(std::int64_t unix_seconds, const date::time_zone* zone);
// "19:30".
std::string FormatLocalClock(std::int64_t unix_seconds, const date::time_zone* zone);
// The zone's abbreviation at that instant ("CET", "GMT", "+0545").
std::string ZoneAbbreviation(std::int64_t unix_seconds, const date::time_zone* zone);

// Every occurrence of the windows, in `zone`, that overlaps `range`, clipped
// to it; sorted and merged.
std::vector<Interval> ExpandWeekly(const std::vector<WeeklyWindow>& windows,
                                   const date::time_zone* zone, Interval range);
// The instants a local span covers in `zone`.
Interval SpanToInterval(const LocalSpan& span, const date::time_zone* zone);

// Interval sets: sorted, non-overlapping, non-adjacent, no empty intervals.
std::vector<Interval> Normalize(std::vector<Interval> intervals);
std::vector<Interval> Intersect(const std::vector<Interval>& a, const std::vector<Interval>& b);
std::vector<Interval> Subtract(const std::vector<Interval>& from, const std::vector<Interval>& remove);
// The intervals at least `seconds` long.
std::vector<Interval> AtLeast(const std::vector<Interval>& intervals, std::int64_t seconds);
// True when [start, start+seconds) lies inside one interval of the set.
bool Contains(const std::vector<Interval>& set, std::int64_t start, std::int64_t seconds);

}  // namespace duet::model
