#include "client/model/timeplan.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>

// The system libdate-tz is built to read /usr/share/zoneinfo, and the layout
// of date::time_zone depends on that choice, so this file must agree with it.
#ifndef USE_OS_TZDB
#define USE_OS_TZDB 1
#endif
#if !USE_OS_TZDB
#error "duet links the system libdate-tz, which is built with USE_OS_TZDB=1"
#endif
#include <date/date.h>
#include <date/tz.h>

namespace duet::model {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::uint32_t kAllDays = 0x7f;
constexpr std::uint32_t kMinutesPerDay = 1440;
constexpr const char* kDayNames[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
constexpr const char* kTitleDayNames[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

// Expansion never looks outside these years: no talk is planned there, and
// it keeps the day loop short and the day arithmetic far from overflow.
constexpr std::int64_t kEarliestInstant = -2208988800;  // 1900-01-01T00:00Z
constexpr std::int64_t kLatestInstant = 13569465600;    // 2400-01-01T00:00Z

// User text goes into one-line messages: keep it short and printable.
std::string Quote(std::string_view text) {
  constexpr std::size_t kMaxQuoted = 80;
  std::string out = "'";
  for (std::size_t i = 0; i < text.size() && i < kMaxQuoted; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    out.push_back(c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c));
  }
  if (text.size() > kMaxQuoted) out += "...";
  return out + "'";
}

Error Invalid(std::string message) {
  return MakeError(ErrorKind::kInvalidInput, std::move(message));
}

std::string TwoDigits(unsigned value) {
  return {static_cast<char>('0' + value / 10 % 10), static_cast<char>('0' + value % 10)};
}

std::string FormatMinute(std::uint32_t minute) {
  return TwoDigits(minute / 60) + ":" + TwoDigits(minute % 60);
}

std::string FormatDate(const date::year_month_day& ymd) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buffer;
}

std::string FormatOffset(seconds offset) {
  const char sign = offset < seconds{0} ? '-' : '+';
  const auto total = static_cast<std::uint32_t>(std::abs(offset.count()) / 60);
  return sign + FormatMinute(total);
}

// --- Lexing: each Take* consumes its exact form from the front of `s`. ---

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::optional<unsigned> TakeDigits(std::string_view& s, std::size_t count) {
  if (s.size() < count) return std::nullopt;
  unsigned value = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (!IsDigit(s[i])) return std::nullopt;
    value = value * 10 + static_cast<unsigned>(s[i] - '0');
  }
  s.remove_prefix(count);
  return value;
}

bool TakeChar(std::string_view& s, char c) {
  if (s.empty() || s.front() != c) return false;
  s.remove_prefix(1);
  return true;
}

struct Clock {
  unsigned hour = 0;
  unsigned minute = 0;
};

// "HH:MM", digits only; the range is checked by the caller.
std::optional<Clock> TakeClock(std::string_view& s) {
  std::string_view rest = s;
  const auto hour = TakeDigits(rest, 2);
  if (!hour || !TakeChar(rest, ':')) return std::nullopt;
  const auto minute = TakeDigits(rest, 2);
  if (!minute) return std::nullopt;
  s = rest;
  return Clock{*hour, *minute};
}

// A clock as minutes after midnight; 24:00 only where `allow_end_of_day`.
std::optional<std::uint32_t> ClockMinute(const Clock& clock, bool allow_end_of_day) {
  if (clock.hour < 24 && clock.minute < 60) return clock.hour * 60 + clock.minute;
  if (allow_end_of_day && clock.hour == 24 && clock.minute == 0) return kMinutesPerDay;
  return std::nullopt;
}

// "YYYY-MM-DD", digits only; whether the day exists is checked by the caller.
std::optional<date::year_month_day> TakeDate(std::string_view& s) {
  std::string_view rest = s;
  const auto year = TakeDigits(rest, 4);
  if (!year || !TakeChar(rest, '-')) return std::nullopt;
  const auto month = TakeDigits(rest, 2);
  if (!month || !TakeChar(rest, '-')) return std::nullopt;
  const auto day = TakeDigits(rest, 2);
  if (!day) return std::nullopt;
  s = rest;
  return date::year{static_cast<int>(*year)} / date::month{*month} / date::day{*day};
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::optional<unsigned> DayIndex(std::string_view name) {
  for (unsigned i = 0; i < 7; ++i) {
    if (EqualsIgnoreCase(name, kDayNames[i])) return i;
  }
  return std::nullopt;
}

// "daily", "weekdays", "weekends", or a comma list of days and wrapping day
// ranges ("mon,wed-fri", "fri-mon"). A day named twice is rejected as a typo.
std::optional<std::uint32_t> ParseDays(std::string_view text) {
  if (EqualsIgnoreCase(text, "daily")) return kAllDays;
  if (EqualsIgnoreCase(text, "weekdays")) return 0x1f;
  if (EqualsIgnoreCase(text, "weekends")) return 0x60;
  std::uint32_t mask = 0;
  while (true) {
    const std::size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    std::optional<unsigned> first;
    std::optional<unsigned> last;
    if (item.size() == 3) {
      first = last = DayIndex(item);
    } else if (item.size() == 7 && item[3] == '-') {
      first = DayIndex(item.substr(0, 3));
      last = DayIndex(item.substr(4));
      // "mon-mon" could mean one day or the whole week.
      if (first && first == last) return std::nullopt;
    }
    if (!first || !last) return std::nullopt;
    for (unsigned d = *first;; d = (d + 1) % 7) {
      if (mask & (1u << d)) return std::nullopt;
      mask |= 1u << d;
      if (d == *last) break;
    }
    if (comma == std::string_view::npos) return mask;
    text.remove_prefix(comma + 1);
  }
}

std::string FormatDays(std::uint32_t mask) {
  mask &= kAllDays;
  if (mask == kAllDays) return "daily";
  const auto has = [mask](unsigned d) { return (mask >> (d % 7)) & 1u; };
  unsigned runs = 0;
  unsigned run_start = 0;
  for (unsigned d = 0; d < 7; ++d) {
    if (has(d) && !has(d + 6)) {
      ++runs;
      run_start = d;
    }
  }
  const auto count = static_cast<unsigned>(std::popcount(mask));
  if (runs == 1 && count >= 2) {
    return std::string(kDayNames[run_start]) + "-" + kDayNames[(run_start + count - 1) % 7];
  }
  std::string out;
  for (unsigned d = 0; d < 7; ++d) {
    if (!has(d)) continue;
    if (!out.empty()) out += ",";
    out += kDayNames[d];
  }
  return out;
}

// --- Zone arithmetic. A null zone (no database at all) behaves as UTC. ---

date::sys_info UtcInfo() {
  date::sys_info info;
  info.begin = date::sys_seconds::min();
  info.end = date::sys_seconds::max();
  info.offset = seconds{0};
  info.save = minutes{0};
  info.abbrev = "UTC";
  return info;
}

date::sys_info InfoAt(const date::time_zone* zone, date::sys_seconds instant) {
  return zone == nullptr ? UtcInfo() : zone->get_info(instant);
}

date::local_info InfoAt(const date::time_zone* zone, date::local_seconds local) {
  if (zone == nullptr) return {date::local_info::unique, UtcInfo(), {}};
  return zone->get_info(local);
}

date::sys_seconds ToSys(std::int64_t unix_seconds) {
  return date::sys_seconds{seconds{unix_seconds}};
}

date::local_seconds ToLocal(std::int64_t unix_seconds, const date::time_zone* zone) {
  const date::sys_seconds instant = ToSys(unix_seconds);
  return date::local_seconds{instant.time_since_epoch() + InfoAt(zone, instant).offset};
}

// The earliest instant whose local time is at or after `local`: a time in
// the skipped hour maps to the jump, a repeated one to its first occurrence.
std::int64_t EarliestAtOrAfter(date::local_seconds local, const date::time_zone* zone) {
  const date::local_info info = InfoAt(zone, local);
  if (info.result == date::local_info::nonexistent) {
    return info.second.begin.time_since_epoch().count();
  }
  return (local.time_since_epoch() - info.first.offset).count();
}

// The end of a span ending at `local`: like EarliestAtOrAfter, except that a
// repeated time maps to its second occurrence so the span covers both passes.
std::int64_t LatestEnd(date::local_seconds local, const date::time_zone* zone) {
  const date::local_info info = InfoAt(zone, local);
  if (info.result == date::local_info::ambiguous) {
    return (local.time_since_epoch() - info.second.offset).count();
  }
  return EarliestAtOrAfter(local, zone);
}

// Forces the zone's rules to load here, where a failure can be reported,
// rather than on first use in a function that cannot fail.
const date::time_zone* Loaded(const date::time_zone* zone) {
  zone->get_info(date::sys_seconds{});
  return zone;
}

}  // namespace

Result<WeeklyWindow> ParseWeeklyWindow(std::string_view text) {
  const auto bad = [text] {
    return Invalid(Quote(text) +
                   " is not a weekly window; write days and times like 'mon-fri 19:00-21:00'");
  };
  const std::size_t space = text.find(' ');
  if (space == std::string_view::npos) return bad();
  const auto days = ParseDays(text.substr(0, space));
  std::string_view times = text.substr(space + 1);
  const auto start = TakeClock(times);
  if (!days || !start || !TakeChar(times, '-')) return bad();
  const auto end = TakeClock(times);
  if (!end || !times.empty()) return bad();
  const auto start_minute = ClockMinute(*start, /*allow_end_of_day=*/false);
  const auto end_minute = ClockMinute(*end, /*allow_end_of_day=*/true);
  if (!start_minute || !end_minute) return bad();
  // An end before the start runs past midnight; an end at the start would
  // be no time at all (or all day: either way not what was meant).
  if (*end_minute == *start_minute)
    return Invalid(Quote(text) + " starts and ends at the same time; give the window some length, "
                                 "e.g. '" + std::string(text.substr(0, space)) + " 19:00-21:00'");
  return WeeklyWindow{*days, *start_minute, *end_minute};
}

std::string FormatWeeklyWindow(const WeeklyWindow& window) {
  return FormatDays(window.weekdays) + " " + FormatMinute(window.start_minute) + "-" +
         FormatMinute(window.end_minute);
}

Result<LocalSpan> ParseLocalSpan(std::string_view text) {
  const auto bad = [text] {
    return Invalid(Quote(text) +
                   " is not a day or part of one; write '2026-12-24' or '2026-12-24 14:00-16:30'");
  };
  std::string_view rest = text;
  const auto ymd = TakeDate(rest);
  if (!ymd) return bad();
  LocalSpan span{static_cast<int>(ymd->year()), static_cast<unsigned>(ymd->month()),
                 static_cast<unsigned>(ymd->day()), 0, kMinutesPerDay};
  if (!rest.empty()) {
    if (!TakeChar(rest, ' ')) return bad();
    const auto start = TakeClock(rest);
    if (!start || !TakeChar(rest, '-')) return bad();
    const auto end = TakeClock(rest);
    if (!end || !rest.empty()) return bad();
    const auto start_minute = ClockMinute(*start, /*allow_end_of_day=*/false);
    const auto end_minute = ClockMinute(*end, /*allow_end_of_day=*/true);
    if (!start_minute || !end_minute) return bad();
    if (*end_minute <= *start_minute) {
      return Invalid(Quote(text) +
                     " ends before it starts; a span stays within one day, so end it by 24:00");
    }
    span.start_minute = *start_minute;
    span.end_minute = *end_minute;
  }
  if (!ymd->ok()) {
    return Invalid(Quote(text) + " names a day the calendar does not have; check the date");
  }
  return span;
}

std::string FormatLocalSpan(const LocalSpan& span) {
  const date::year_month_day ymd{date::year{span.year}, date::month{span.month},
                                 date::day{span.day}};
  std::string out = FormatDate(ymd);
  if (span.start_minute == 0 && span.end_minute == kMinutesPerDay) return out;
  return out + " " + FormatMinute(span.start_minute) + "-" + FormatMinute(span.end_minute);
}

Result<const date::time_zone*> FindZone(std::string_view name) {
  try {
    return Loaded(date::locate_zone(std::string(name)));
  } catch (const std::exception&) {
    return Invalid("unknown time zone " + Quote(name) + "; use an IANA name such as Europe/Berlin");
  }
}

const date::time_zone* LocalZone() {
  if (const char* tz = std::getenv("TZ"); tz != nullptr) {
    std::string_view name = tz;
    if (!name.empty() && name.front() == ':') name.remove_prefix(1);
    if (auto zone = FindZone(name); zone.ok()) return zone.value();
  }
  try {
    return Loaded(date::current_zone());
  } catch (const std::exception&) {
  }
  if (auto utc = FindZone("UTC"); utc.ok()) return utc.value();
  return nullptr;  // no database at all; every function treats null as UTC
}

const date::time_zone* ZoneOrUtc(std::string_view name) {
  if (auto zone = FindZone(name); zone.ok()) return zone.value();
  if (auto utc = FindZone("UTC"); utc.ok()) return utc.value();
  return nullptr;
}

std::string ZoneName(const date::time_zone* zone) {
  return zone == nullptr ? "UTC" : std::string(zone->name());
}

Result<std::int64_t> ParseLocalTime(std::string_view text, const date::time_zone* zone) {
  const auto bad = [text] {
    return Invalid(Quote(text) +
                   " is not a date and time; write it like '2026-12-02 19:30' or "
                   "'2026-12-02 19:30 +01:00'");
  };
  std::string_view rest = text;
  const auto ymd = TakeDate(rest);
  if (!ymd || !(TakeChar(rest, ' ') || TakeChar(rest, 'T'))) return bad();
  const auto clock = TakeClock(rest);
  if (!clock) return bad();

  std::optional<seconds> offset;
  if (!rest.empty()) {
    std::string_view suffix = rest;
    TakeChar(suffix, ' ');
    if (EqualsIgnoreCase(suffix, "Z") || EqualsIgnoreCase(suffix, "UTC")) {
      offset = seconds{0};
    } else {
      const bool negative = TakeChar(suffix, '-');
      if (!negative && !TakeChar(suffix, '+')) return bad();
      const auto hours = TakeDigits(suffix, 2);
      TakeChar(suffix, ':');
      const auto mins = TakeDigits(suffix, 2);
      if (!hours || !mins || !suffix.empty() || *hours > 23 || *mins > 59) return bad();
      offset = seconds{(*hours * 60 + *mins) * 60};
      if (negative) offset = -*offset;
    }
  }

  if (!ymd->ok()) {
    return Invalid(Quote(text) + " names a day the calendar does not have; check the date");
  }
  const auto minute = ClockMinute(*clock, /*allow_end_of_day=*/false);
  if (!minute) {
    return Invalid(Quote(text) + " has no such time of day; use 00:00 to 23:59");
  }
  const date::local_seconds local = date::local_days{*ymd} + minutes{*minute};
  if (offset) return (local.time_since_epoch() - *offset).count();

  const date::local_info info = InfoAt(zone, local);
  const std::string day = FormatDate(*ymd);
  const std::string in_zone = " in " + ZoneName(zone);
  switch (info.result) {
    case date::local_info::unique:
      return (local.time_since_epoch() - info.first.offset).count();
    case date::local_info::nonexistent: {
      // Suggest the same instant the user probably meant: shifted past the jump.
      const auto after = date::floor<minutes>(local + (info.second.offset - info.first.offset));
      const date::local_days after_day = date::floor<date::days>(after);
      const auto after_minute = static_cast<std::uint32_t>((after - after_day).count());
      return Invalid(Quote(text) + " does not exist" + in_zone +
                     " (clocks go forward); pick another time, or add the offset, e.g. '" +
                     FormatDate(date::year_month_day{after_day}) + " " +
                     FormatMinute(after_minute) + " " + FormatOffset(info.second.offset) + "'");
    }
    case date::local_info::ambiguous:
      break;
  }
  const std::string as_typed = day + " " + FormatMinute(*minute) + " ";
  return Invalid(Quote(text) + " happens twice" + in_zone + " (clocks go back); add the offset: '" +
                 as_typed + FormatOffset(info.first.offset) + "' for the first, '" + as_typed +
                 FormatOffset(info.second.offset) + "' for the second");
}

std::string FormatLocalTime(std::int64_t unix_seconds, const date::time_zone* zone) {
  const date::local_seconds local = ToLocal(unix_seconds, zone);
  const date::local_days day = date::floor<date::days>(local);
  const auto minute = static_cast<std::uint32_t>(date::floor<minutes>(local - day).count());
  return FormatDate(date::year_month_day{day}) + " " + FormatMinute(minute);
}

std::string FormatLocalDayTime(std::int64_t unix_seconds, const date::time_zone* zone) {
  const date::local_days day = date::floor<date::days>(ToLocal(unix_seconds, zone));
  const unsigned weekday = date::weekday{day}.iso_encoding() - 1;
  return std::string(kTitleDayNames[weekday]) + " " + FormatLocalTime(unix_seconds, zone);
}

std::string FormatLocalClock(std::int64_t unix_seconds, const date::time_zone* zone) {
  const date::local_seconds local = ToLocal(unix_seconds, zone);
  const date::local_days day = date::floor<date::days>(local);
  return FormatMinute(static_cast<std::uint32_t>(date::floor<minutes>(local - day).count()));
}

std::string ZoneAbbreviation(std::int64_t unix_seconds, const date::time_zone* zone) {
  return InfoAt(zone, ToSys(unix_seconds)).abbrev;
}

std::vector<Interval> ExpandWeekly(const std::vector<WeeklyWindow>& windows,
                                   const date::time_zone* zone, Interval range) {
  range.start = std::max(range.start, kEarliestInstant);
  range.end = std::min(range.end, kLatestInstant);
  if (range.end <= range.start) return {};
  // An occurrence lasts at most a day, so one starting two local days before
  // range.start is already over; the spare day absorbs any DST oddity.
  const date::local_days first =
      date::floor<date::days>(ToLocal(range.start, zone)) - date::days{2};
  const date::local_days last = date::floor<date::days>(ToLocal(range.end, zone)) + date::days{1};
  std::vector<Interval> out;
  for (date::local_days day = first; day <= last; day += date::days{1}) {
    const std::uint32_t bit = 1u << (date::weekday{day}.iso_encoding() - 1);
    for (const WeeklyWindow& window : windows) {
      if ((window.weekdays & bit) == 0) continue;
      const date::local_days end_day =
          window.end_minute > window.start_minute ? day : day + date::days{1};
      Interval occurrence{EarliestAtOrAfter(day + minutes{window.start_minute}, zone),
                          LatestEnd(end_day + minutes{window.end_minute}, zone)};
      occurrence.start = std::max(occurrence.start, range.start);
      occurrence.end = std::min(occurrence.end, range.end);
      if (occurrence.start < occurrence.end) out.push_back(occurrence);
    }
  }
  return Normalize(std::move(out));
}

Interval SpanToInterval(const LocalSpan& span, const date::time_zone* zone) {
  const date::local_days day{date::year{span.year} / date::month{span.month} / date::day{span.day}};
  return {EarliestAtOrAfter(day + minutes{span.start_minute}, zone),
          LatestEnd(day + minutes{span.end_minute}, zone)};
}

std::vector<Interval> Normalize(std::vector<Interval> intervals) {
  std::erase_if(intervals, [](const Interval& i) { return i.end <= i.start; });
  std::sort(intervals.begin(), intervals.end(),
            [](const Interval& a, const Interval& b) { return a.start < b.start; });
  std::vector<Interval> out;
  for (const Interval& i : intervals) {
    if (!out.empty() && i.start <= out.back().end) {
      out.back().end = std::max(out.back().end, i.end);
    } else {
      out.push_back(i);
    }
  }
  return out;
}

std::vector<Interval> Intersect(const std::vector<Interval>& a, const std::vector<Interval>& b) {
  const std::vector<Interval> x = Normalize(a);
  const std::vector<Interval> y = Normalize(b);
  std::vector<Interval> out;
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < x.size() && j < y.size()) {
    const std::int64_t start = std::max(x[i].start, y[j].start);
    const std::int64_t end = std::min(x[i].end, y[j].end);
    if (start < end) out.push_back({start, end});
    if (x[i].end < y[j].end) {
      ++i;
    } else {
      ++j;
    }
  }
  return out;
}

std::vector<Interval> Subtract(const std::vector<Interval>& from,
                               const std::vector<Interval>& remove) {
  const std::vector<Interval> keep = Normalize(from);
  const std::vector<Interval> holes = Normalize(remove);
  std::vector<Interval> out;
  std::size_t first_hole = 0;
  for (const Interval& piece : keep) {
    while (first_hole < holes.size() && holes[first_hole].end <= piece.start) ++first_hole;
    std::int64_t cursor = piece.start;
    for (std::size_t h = first_hole; h < holes.size() && holes[h].start < piece.end; ++h) {
      if (holes[h].start > cursor) out.push_back({cursor, holes[h].start});
      cursor = std::max(cursor, holes[h].end);
    }
    if (cursor < piece.end) out.push_back({cursor, piece.end});
  }
  return out;
}

std::vector<Interval> AtLeast(const std::vector<Interval>& intervals, std::int64_t seconds) {
  std::vector<Interval> out;
  for (const Interval& i : intervals) {
    if (i.end - i.start >= seconds) out.push_back(i);
  }
  return out;
}

bool Contains(const std::vector<Interval>& set, std::int64_t start, std::int64_t seconds) {
  // An empty or negative stretch is no meeting: never "contained".
  if (seconds <= 0) return false;
  return std::any_of(set.begin(), set.end(), [&](const Interval& i) {
    return start >= i.start && start < i.end && seconds <= i.end - start;
  });
}

}  // namespace duet::model
