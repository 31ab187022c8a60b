#include "client/model/timeplan.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace duet::model {
namespace {

// Instants below are unix seconds checked with `date -u -d '...' +%s`.
constexpr std::int64_t kHour = 3600;
constexpr std::int64_t kDay = 86400;

const date::time_zone* Zone(const char* name) {
  auto zone = FindZone(name);
  EXPECT_TRUE(zone.ok()) << name;
  return zone.ok() ? zone.value() : nullptr;
}

WeeklyWindow Window(const char* text) {
  auto window = ParseWeeklyWindow(text);
  EXPECT_TRUE(window.ok()) << text << ": " << (window.ok() ? "" : window.error().message);
  return window.ok() ? window.value() : WeeklyWindow{};
}

// --- Weekly windows ---

TEST(Timeplan, ParsesWeekdayRangeWindow) {
  EXPECT_EQ(Window("mon-fri 19:00-21:00"), (WeeklyWindow{0x1f, 19 * 60, 21 * 60}));
}

TEST(Timeplan, ParsesSingleDayAndDayList) {
  EXPECT_EQ(Window("sat 10:00-12:00"), (WeeklyWindow{0x20, 600, 720}));
  EXPECT_EQ(Window("mon,wed,fri 07:30-08:00"), (WeeklyWindow{0x15, 450, 480}));
  EXPECT_EQ(Window("mon,wed-fri 07:30-08:00"), (WeeklyWindow{0x1d, 450, 480}));
}

TEST(Timeplan, ParsesNamedDaySets) {
  EXPECT_EQ(Window("daily 12:00-13:00").weekdays, 0x7fu);
  EXPECT_EQ(Window("weekdays 12:00-13:00").weekdays, 0x1fu);
  EXPECT_EQ(Window("weekends 12:00-13:00").weekdays, 0x60u);
}

TEST(Timeplan, DayRangesWrapRoundTheWeek) {
  // fri, sat, sun, mon
  EXPECT_EQ(Window("fri-mon 10:00-11:00").weekdays, 0x71u);
  EXPECT_EQ(Window("sun-thu 22:00-07:00"), (WeeklyWindow{0x4f, 22 * 60, 7 * 60}));
}

TEST(Timeplan, DayNamesIgnoreCase) {
  EXPECT_EQ(Window("Mon-FRI 19:00-21:00").weekdays, 0x1fu);
  EXPECT_EQ(Window("Daily 19:00-21:00").weekdays, 0x7fu);
}

TEST(Timeplan, WindowMayEndAtMidnightAsTwentyFour) {
  EXPECT_EQ(Window("sat 20:00-24:00"), (WeeklyWindow{0x20, 20 * 60, 1440}));
  EXPECT_EQ(Window("daily 00:00-24:00"), (WeeklyWindow{0x7f, 0, 1440}));
}

TEST(Timeplan, MalformedWindowsAreRejected) {
  for (const char* text : {
           "",
           "mon",
           "mon 19:00",
           "19:00-21:00",
           "mon-fry 19:00-21:00",
           "monday 19:00-21:00",
           "mon 19:00-21:00 ",
           " mon 19:00-21:00",
           "mon  19:00-21:00",
           "mon 19:00-21:00x",
           "mon 19:00 - 21:00",
           "mon 9:00-10:00",
           "mon 19:00-21:0",
           "mon 25:00-26:00",
           "mon 24:00-01:00",
           "mon 19:60-21:00",
           "mon 19:00-24:01",
           "mon 19:00-25:00",
           "mon,,tue 19:00-21:00",
           "mon, 19:00-21:00",
           ",mon 19:00-21:00",
           "mon-mon 19:00-21:00",
           "mon,mon 19:00-21:00",
           "mon-wed,tue 19:00-21:00",
           "daily,mon 19:00-21:00",
           "mon-tue-wed 19:00-21:00",
           "mon\t19:00-21:00",
       }) {
    auto window = ParseWeeklyWindow(text);
    ASSERT_FALSE(window.ok()) << "'" << text << "'";
    EXPECT_EQ(window.error().kind, ErrorKind::kInvalidInput);
  }
}

TEST(Timeplan, WindowErrorQuotesTheInputAndShowsTheForm) {
  auto window = ParseWeeklyWindow("mon-fry 19:00-21:00");
  ASSERT_FALSE(window.ok());
  EXPECT_EQ(window.error().message,
            "'mon-fry 19:00-21:00' is not a weekly window; write days and times like "
            "'mon-fri 19:00-21:00'");
  auto hours = ParseWeeklyWindow("sat 25:00-26:00");
  ASSERT_FALSE(hours.ok());
  EXPECT_NE(hours.error().message.find("'sat 25:00-26:00'"), std::string::npos);
}

TEST(Timeplan, AnEmptyWindowIsRefusedAndOneAcrossMidnightEndsTheNextDay) {
  auto empty = ParseWeeklyWindow("mon-fri 19:00-19:00");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("starts and ends at the same time"), std::string::npos)
      << empty.error().message;
  EXPECT_FALSE(ParseWeeklyWindow("daily 00:00-00:00").ok());
  auto night = ParseWeeklyWindow("fri 23:00-01:00");
  ASSERT_TRUE(night.ok());
  EXPECT_EQ(night.value(), (WeeklyWindow{0x10, 23 * 60, 60}));
  EXPECT_TRUE(ParseWeeklyWindow("sun 00:00-24:00").ok()) << "the whole day";
}

TEST(Timeplan, WindowErrorKeepsControlCharactersOutOfTheMessage) {
  auto window = ParseWeeklyWindow("mon\n19:00-21:00");
  ASSERT_FALSE(window.ok());
  EXPECT_EQ(window.error().message.find('\n'), std::string::npos);
}

TEST(Timeplan, FormatsCanonicalDayForms) {
  EXPECT_EQ(FormatWeeklyWindow({0x7f, 720, 780}), "daily 12:00-13:00");
  EXPECT_EQ(FormatWeeklyWindow({0x1f, 1140, 1260}), "mon-fri 19:00-21:00");
  EXPECT_EQ(FormatWeeklyWindow({0x60, 600, 720}), "sat-sun 10:00-12:00");
  EXPECT_EQ(FormatWeeklyWindow({0x4f, 1320, 420}), "sun-thu 22:00-07:00");
  EXPECT_EQ(FormatWeeklyWindow({0x41, 600, 720}), "sun-mon 10:00-12:00");
  EXPECT_EQ(FormatWeeklyWindow({0x20, 600, 720}), "sat 10:00-12:00");
  EXPECT_EQ(FormatWeeklyWindow({0x15, 450, 480}), "mon,wed,fri 07:30-08:00");
  EXPECT_EQ(FormatWeeklyWindow({0x0b, 450, 480}), "mon,tue,thu 07:30-08:00");
  EXPECT_EQ(FormatWeeklyWindow({0x20, 1200, 1440}), "sat 20:00-24:00");
}

TEST(Timeplan, EveryWeekdayMaskRoundTrips) {
  const std::vector<std::pair<std::uint32_t, std::uint32_t>> times = {
      {19 * 60, 21 * 60}, {22 * 60, 7 * 60}, {0, 1440}, {9 * 60 + 30, 9 * 60 + 31}, {1439, 0}};
  for (std::uint32_t mask = 1; mask <= 0x7f; ++mask) {
    for (const auto& [start, end] : times) {
      const WeeklyWindow window{mask, start, end};
      const std::string text = FormatWeeklyWindow(window);
      auto parsed = ParseWeeklyWindow(text);
      ASSERT_TRUE(parsed.ok()) << text;
      EXPECT_EQ(parsed.value(), window) << text;
    }
  }
}

// --- Local spans ---

TEST(Timeplan, ParsesWholeDaySpan) {
  auto span = ParseLocalSpan("2026-12-24");
  ASSERT_TRUE(span.ok());
  EXPECT_EQ(span.value(), (LocalSpan{2026, 12, 24, 0, 1440}));
  EXPECT_EQ(FormatLocalSpan(span.value()), "2026-12-24");
}

TEST(Timeplan, ParsesPartOfDaySpan) {
  auto span = ParseLocalSpan("2026-12-24 14:00-16:30");
  ASSERT_TRUE(span.ok());
  EXPECT_EQ(span.value(), (LocalSpan{2026, 12, 24, 14 * 60, 16 * 60 + 30}));
  EXPECT_EQ(FormatLocalSpan(span.value()), "2026-12-24 14:00-16:30");
}

TEST(Timeplan, SpanToMidnightFormatsAsTwentyFour) {
  auto span = ParseLocalSpan("2028-02-29 20:00-24:00");
  ASSERT_TRUE(span.ok());
  EXPECT_EQ(span.value(), (LocalSpan{2028, 2, 29, 1200, 1440}));
  EXPECT_EQ(FormatLocalSpan(span.value()), "2028-02-29 20:00-24:00");
}

TEST(Timeplan, MalformedSpansAreRejected) {
  for (const char* text : {
           "",
           "2026-02-30",
           "2026-02-29",
           "2026-13-01",
           "2026-00-10",
           "2026-12-00",
           "26-12-24",
           "2026-12-2",
           "2026/12/24",
           "2026-12-24 ",
           "2026-12-24 14:00",
           "2026-12-24T14:00-16:30",
           "2026-12-24 14:00-16:30 ",
           "2026-12-24 16:00-14:00",
           "2026-12-24 14:00-14:00",
           "2026-12-24 24:00-24:00",
           "2026-12-24 22:00-02:00",
           "2026-12-24 14:00-25:00",
           "2026-12-24 14:60-15:00",
       }) {
    auto span = ParseLocalSpan(text);
    ASSERT_FALSE(span.ok()) << "'" << text << "'";
    EXPECT_EQ(span.error().kind, ErrorKind::kInvalidInput);
    EXPECT_NE(span.error().message.find(std::string("'") + text + "'"), std::string::npos)
        << span.error().message;
  }
}

// --- Zones ---

TEST(Timeplan, FindsIanaZones) {
  for (const char* name : {"Europe/Berlin", "America/New_York", "Asia/Kathmandu", "UTC"}) {
    auto zone = FindZone(name);
    ASSERT_TRUE(zone.ok()) << name;
    EXPECT_EQ(ZoneName(zone.value()), name);
  }
}

TEST(Timeplan, UnknownZoneIsAnErrorNamingIt) {
  auto zone = FindZone("Mars/Base");
  ASSERT_FALSE(zone.ok());
  EXPECT_EQ(zone.error().kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(zone.error().message,
            "unknown time zone 'Mars/Base'; use an IANA name such as Europe/Berlin");
  EXPECT_FALSE(FindZone("").ok());
  EXPECT_FALSE(FindZone("europe/berlin ").ok());
  EXPECT_FALSE(FindZone("../../etc/passwd").ok());
}

class ScopedTz {
 public:
  explicit ScopedTz(const char* value) {
    if (const char* old = std::getenv("TZ")) old_ = old;
    setenv("TZ", value, 1);
  }
  ~ScopedTz() {
    if (old_) {
      setenv("TZ", old_->c_str(), 1);
    } else {
      unsetenv("TZ");
    }
  }

 private:
  std::optional<std::string> old_;
};

TEST(Timeplan, LocalZoneHonoursTzWithOrWithoutColon) {
  {
    ScopedTz tz("Asia/Tokyo");
    EXPECT_EQ(ZoneName(LocalZone()), "Asia/Tokyo");
  }
  {
    ScopedTz tz(":America/New_York");
    EXPECT_EQ(ZoneName(LocalZone()), "America/New_York");
  }
}

TEST(Timeplan, LocalZoneIgnoresUnknownTz) {
  ScopedTz tz("Mars/Base");
  const date::time_zone* zone = LocalZone();
  ASSERT_NE(zone, nullptr);
  EXPECT_NE(ZoneName(zone), "Mars/Base");
}

// --- Single instants ---

constexpr std::int64_t k20261202At1830Utc = 1796236200;

TEST(Timeplan, ParsesLocalTimeInZone) {
  const auto* berlin = Zone("Europe/Berlin");
  for (const char* text : {"2026-12-02 19:30", "2026-12-02T19:30"}) {
    auto instant = ParseLocalTime(text, berlin);
    ASSERT_TRUE(instant.ok()) << text;
    EXPECT_EQ(instant.value(), k20261202At1830Utc) << text;
  }
  auto summer = ParseLocalTime("2026-07-01 14:00", berlin);
  ASSERT_TRUE(summer.ok());
  EXPECT_EQ(summer.value(), 1782907200);  // 2026-07-01T12:00Z, CEST
}

TEST(Timeplan, ExplicitOffsetOverridesZone) {
  const auto* new_york = Zone("America/New_York");
  const std::vector<std::pair<const char*, std::int64_t>> cases = {
      {"2026-12-02 19:30 +01:00", k20261202At1830Utc},
      {"2026-12-02 19:30+01:00", k20261202At1830Utc},
      {"2026-12-02 19:30 +0100", k20261202At1830Utc},
      {"2026-12-02T19:30+0100", k20261202At1830Utc},
      {"2026-12-02 13:30 -05:00", k20261202At1830Utc},
      {"2026-12-02 00:15 +05:45", k20261202At1830Utc - kDay},
  };
  for (const auto& [text, expected] : cases) {
    auto instant = ParseLocalTime(text, new_york);
    ASSERT_TRUE(instant.ok()) << text;
    EXPECT_EQ(instant.value(), expected) << text;
  }
}

TEST(Timeplan, ZuluAndUtcSuffixesMeanUtc) {
  const auto* berlin = Zone("Europe/Berlin");
  for (const char* text : {"2026-12-02T18:30Z", "2026-12-02 18:30Z", "2026-12-02 18:30 Z",
                           "2026-12-02 18:30 UTC", "2026-12-02 18:30UTC"}) {
    auto instant = ParseLocalTime(text, berlin);
    ASSERT_TRUE(instant.ok()) << text;
    EXPECT_EQ(instant.value(), k20261202At1830Utc) << text;
  }
}

TEST(Timeplan, SkippedLocalTimeIsAnErrorSuggestingTheOffset) {
  auto instant = ParseLocalTime("2026-03-29 02:30", Zone("Europe/Berlin"));
  ASSERT_FALSE(instant.ok());
  EXPECT_EQ(instant.error().kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(instant.error().message,
            "'2026-03-29 02:30' does not exist in Europe/Berlin (clocks go forward); pick another "
            "time, or add the offset, e.g. '2026-03-29 03:30 +02:00'");
}

TEST(Timeplan, RepeatedLocalTimeIsAnErrorOfferingBothOffsets) {
  auto instant = ParseLocalTime("2026-10-25 02:30", Zone("Europe/Berlin"));
  ASSERT_FALSE(instant.ok());
  const std::string& message = instant.error().message;
  EXPECT_NE(message.find("'2026-10-25 02:30'"), std::string::npos) << message;
  EXPECT_NE(message.find("twice"), std::string::npos) << message;
  EXPECT_NE(message.find("'2026-10-25 02:30 +02:00'"), std::string::npos) << message;
  EXPECT_NE(message.find("'2026-10-25 02:30 +01:00'"), std::string::npos) << message;
}

TEST(Timeplan, RepeatedLocalTimeWithOffsetPicksEitherPass) {
  const auto* berlin = Zone("Europe/Berlin");
  auto first = ParseLocalTime("2026-10-25 02:30 +02:00", berlin);
  auto second = ParseLocalTime("2026-10-25 02:30 +01:00", berlin);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first.value(), 1792888200);   // 2026-10-25T00:30Z
  EXPECT_EQ(second.value(), 1792891800);  // 2026-10-25T01:30Z
}

TEST(Timeplan, MalformedOrImpossibleLocalTimesAreRejected) {
  const auto* berlin = Zone("Europe/Berlin");
  for (const char* text : {
           "",
           "2026-12-02",
           "2026-02-30 10:00",
           "2026-02-29 10:00",
           "2026-12-02 25:00",
           "2026-12-02 24:00",
           "2026-12-02 19:60",
           "2026-12-02 9:30",
           "2026-12-02  19:30",
           "2026-12-02 19:30 ",
           "2026-12-02 19:30:00",
           "2026-12-02 19:30 garbage",
           "2026-12-02 19:30x",
           "2026-12-02 19:30 +1:00",
           "2026-12-02 19:30 +01",
           "2026-12-02 19:30 +01:0",
           "2026-12-02 19:30 +25:00",
           "2026-12-02 19:30 +01:60",
           "2026-12-02 19:30 01:00",
           "2026-12-02 19:30ZZ",
           "2026-12-2 19:30",
           "2026-12-02t19:30",
       }) {
    auto instant = ParseLocalTime(text, berlin);
    ASSERT_FALSE(instant.ok()) << "'" << text << "'";
    EXPECT_EQ(instant.error().kind, ErrorKind::kInvalidInput);
    EXPECT_NE(instant.error().message.find(std::string("'") + text + "'"), std::string::npos)
        << instant.error().message;
  }
}

TEST(Timeplan, LeapDayIsAValidDate) {
  auto instant = ParseLocalTime("2028-02-29 12:00Z", Zone("UTC"));
  ASSERT_TRUE(instant.ok());
  EXPECT_EQ(instant.value(), 1835438400);  // 2028-02-29T12:00Z
}

// --- Formatting instants ---

TEST(Timeplan, FormatsInstantInBerlin) {
  const auto* berlin = Zone("Europe/Berlin");
  EXPECT_EQ(FormatLocalTime(k20261202At1830Utc, berlin), "2026-12-02 19:30");
  EXPECT_EQ(FormatLocalDayTime(k20261202At1830Utc, berlin), "Wed 2026-12-02 19:30");
  EXPECT_EQ(FormatLocalClock(k20261202At1830Utc, berlin), "19:30");
  EXPECT_EQ(ZoneAbbreviation(k20261202At1830Utc, berlin), "CET");
  EXPECT_EQ(ZoneAbbreviation(1782907200, berlin), "CEST");  // 2026-07-01T12:00Z
  EXPECT_EQ(FormatLocalClock(1782907200, berlin), "14:00");
}

TEST(Timeplan, FormatsInstantInKathmanduAcrossMidnight) {
  const auto* kathmandu = Zone("Asia/Kathmandu");
  EXPECT_EQ(FormatLocalTime(k20261202At1830Utc, kathmandu), "2026-12-03 00:15");
  EXPECT_EQ(FormatLocalDayTime(k20261202At1830Utc, kathmandu), "Thu 2026-12-03 00:15");
  EXPECT_EQ(FormatLocalClock(k20261202At1830Utc, kathmandu), "00:15");
  EXPECT_EQ(ZoneAbbreviation(k20261202At1830Utc, kathmandu), "+0545");
}

TEST(Timeplan, FormatsInstantInNewYorkAndLondon) {
  EXPECT_EQ(FormatLocalDayTime(k20261202At1830Utc, Zone("America/New_York")),
            "Wed 2026-12-02 13:30");
  EXPECT_EQ(ZoneAbbreviation(k20261202At1830Utc, Zone("America/New_York")), "EST");
  EXPECT_EQ(ZoneAbbreviation(k20261202At1830Utc, Zone("Europe/London")), "GMT");
}

TEST(Timeplan, FormattingDropsSecondsAndHandlesTimesBefore1970) {
  const auto* utc = Zone("UTC");
  EXPECT_EQ(FormatLocalTime(k20261202At1830Utc + 59, utc), "2026-12-02 18:30");
  EXPECT_EQ(FormatLocalDayTime(-1, utc), "Wed 1969-12-31 23:59");
}

TEST(Timeplan, NullZoneActsAsUtc) {
  EXPECT_EQ(ZoneName(nullptr), "UTC");
  EXPECT_EQ(FormatLocalTime(k20261202At1830Utc, nullptr), "2026-12-02 18:30");
  EXPECT_EQ(ZoneAbbreviation(k20261202At1830Utc, nullptr), "UTC");
  auto instant = ParseLocalTime("2026-12-02 18:30", nullptr);
  ASSERT_TRUE(instant.ok());
  EXPECT_EQ(instant.value(), k20261202At1830Utc);
}

// --- Weekly expansion ---

constexpr std::int64_t k20260328 = 1774656000;  // Sat 2026-03-28T00:00Z
constexpr std::int64_t k20260331 = 1774915200;
constexpr std::int64_t k20261024 = 1792800000;  // Sat 2026-10-24T00:00Z
constexpr std::int64_t k20261027 = 1793059200;

TEST(Timeplan, WindowOnSpringForwardDayIsOneHourShorter) {
  auto free =
      ExpandWeekly({Window("sun 01:00-04:00")}, Zone("Europe/Berlin"), {k20260328, k20260331});
  // 01:00 CET = 00:00Z to 04:00 CEST = 02:00Z.
  EXPECT_EQ(free, (std::vector<Interval>{{1774742400, 1774749600}}));
}

TEST(Timeplan, WindowOnFallBackDayIsOneHourLonger) {
  auto free =
      ExpandWeekly({Window("sun 01:00-04:00")}, Zone("Europe/Berlin"), {k20261024, k20261027});
  // 01:00 CEST = Sat 23:00Z to 04:00 CET = 03:00Z.
  EXPECT_EQ(free, (std::vector<Interval>{{1792882800, 1792897200}}));
  EXPECT_EQ(free[0].end - free[0].start, 4 * kHour);
}

TEST(Timeplan, WindowInsideTheSkippedHourVanishes) {
  EXPECT_TRUE(
      ExpandWeekly({Window("sun 02:00-03:00")}, Zone("Europe/Berlin"), {k20260328, k20260331})
          .empty());
}

TEST(Timeplan, WindowStartingInTheSkippedHourStartsAtTheJump) {
  auto free =
      ExpandWeekly({Window("sun 02:30-03:30")}, Zone("Europe/Berlin"), {k20260328, k20260331});
  // The jump is 01:00Z; 03:30 CEST is 01:30Z.
  EXPECT_EQ(free, (std::vector<Interval>{{1774746000, 1774747800}}));
}

TEST(Timeplan, WholeDaySpansFollowDaylightSaving) {
  const auto* berlin = Zone("Europe/Berlin");
  // 2026-03-28T23:00Z to 2026-03-29T22:00Z: 23 hours.
  EXPECT_EQ(SpanToInterval({2026, 3, 29, 0, 1440}, berlin), (Interval{1774738800, 1774821600}));
  // 2026-10-24T22:00Z to 2026-10-25T23:00Z: 25 hours.
  EXPECT_EQ(SpanToInterval({2026, 10, 25, 0, 1440}, berlin), (Interval{1792879200, 1792969200}));
}

TEST(Timeplan, WindowCrossingMidnightEndsNextDay) {
  // Sun 2026-01-04 22:00 CET = 21:00Z to Mon 02:00 CET = 01:00Z.
  auto free =
      ExpandWeekly({Window("sun 22:00-02:00")}, Zone("Europe/Berlin"), {1767484800, 1767657600});
  EXPECT_EQ(free, (std::vector<Interval>{{1767560400, 1767574800}}));
}

TEST(Timeplan, OccurrenceStartedBeforeRangeIsClipped) {
  // The range opens Mon 2026-01-05T00:00Z, inside Sunday's window.
  constexpr std::int64_t kMondayMidnightUtc = 1767571200;
  auto free = ExpandWeekly({Window("sun 22:00-02:00")}, Zone("Europe/Berlin"),
                           {kMondayMidnightUtc, kMondayMidnightUtc + kDay});
  EXPECT_EQ(free, (std::vector<Interval>{{kMondayMidnightUtc, 1767574800}}));
}

TEST(Timeplan, SameWindowIsFourHoursApartWhileOnlyTheUsHasSwitched) {
  const WeeklyWindow window = Window("daily 09:00-10:00");
  // Wed 2026-03-11: New York on EDT (13:00Z), London still on GMT (09:00Z).
  const Interval wednesday{1773187200, 1773273600};
  EXPECT_EQ(ExpandWeekly({window}, Zone("America/New_York"), wednesday),
            (std::vector<Interval>{{1773234000, 1773237600}}));
  EXPECT_EQ(ExpandWeekly({window}, Zone("Europe/London"), wednesday),
            (std::vector<Interval>{{1773219600, 1773223200}}));
  // A week earlier both are on standard time: five hours apart.
  const Interval week_before{1772582400, 1772668800};
  EXPECT_EQ(ExpandWeekly({window}, Zone("America/New_York"), week_before),
            (std::vector<Interval>{{1772632800, 1772636400}}));
  EXPECT_EQ(ExpandWeekly({window}, Zone("Europe/London"), week_before),
            (std::vector<Interval>{{1772614800, 1772618400}}));
}

TEST(Timeplan, EveryDayBetweenTheTwoDstChangesIsShifted) {
  const WeeklyWindow window = Window("daily 09:00-10:00");
  // Mon 2026-03-09T00:00Z to Sat 2026-03-28T00:00Z: 19 days.
  const Interval range{1773014400, 1774656000};
  const auto new_york = ExpandWeekly({window}, Zone("America/New_York"), range);
  const auto london = ExpandWeekly({window}, Zone("Europe/London"), range);
  ASSERT_EQ(new_york.size(), 19u);
  ASSERT_EQ(london.size(), 19u);
  constexpr std::int64_t kFirstLondonStart = 1773046800;  // 2026-03-09T09:00Z
  for (std::size_t i = 0; i < 19; ++i) {
    const std::int64_t london_start = kFirstLondonStart + static_cast<std::int64_t>(i) * kDay;
    EXPECT_EQ(london[i], (Interval{london_start, london_start + kHour})) << i;
    EXPECT_EQ(new_york[i], (Interval{london_start + 4 * kHour, london_start + 5 * kHour})) << i;
  }
}

TEST(Timeplan, WindowOutsideTheRangeGivesNothing) {
  // Mon 2026-01-05 to Wed 2026-01-07 UTC holds no Saturday.
  EXPECT_TRUE(
      ExpandWeekly({Window("sat 10:00-12:00")}, Zone("UTC"), {1767571200, 1767571200 + 2 * kDay})
          .empty());
  EXPECT_TRUE(ExpandWeekly({}, Zone("UTC"), {1767571200, 1767571200 + 7 * kDay}).empty());
  EXPECT_TRUE(
      ExpandWeekly({Window("daily 00:00-24:00")}, Zone("UTC"), {1767571200, 1767571200}).empty());
}

TEST(Timeplan, TouchingWindowsMergeIntoOne) {
  // Mon 2026-01-05 UTC.
  auto free = ExpandWeekly({Window("mon 10:00-12:00"), Window("mon 12:00-13:00")}, Zone("UTC"),
                           {1767571200, 1767571200 + kDay});
  EXPECT_EQ(free, (std::vector<Interval>{{1767571200 + 10 * kHour, 1767571200 + 13 * kHour}}));
}

TEST(Timeplan, DailyAllDayWindowCoversTheWholeRange) {
  auto free = ExpandWeekly({Window("daily 00:00-24:00")}, Zone("Asia/Kathmandu"),
                           {1767571200 + 123, 1767571200 + 9 * kDay + 7});
  EXPECT_EQ(free, (std::vector<Interval>{{1767571200 + 123, 1767571200 + 9 * kDay + 7}}));
}

// --- Interval algebra ---

TEST(Timeplan, NormalizeSortsMergesAndDropsEmpty) {
  EXPECT_EQ(Normalize({{50, 60}, {10, 20}, {20, 30}, {25, 40}, {45, 45}, {70, 65}}),
            (std::vector<Interval>{{10, 40}, {50, 60}}));
  EXPECT_EQ(Normalize({{0, 100}, {10, 20}}), (std::vector<Interval>{{0, 100}}));
  EXPECT_TRUE(Normalize({}).empty());
}

TEST(Timeplan, IntersectKeepsOnlySharedTime) {
  EXPECT_EQ(Intersect({{0, 10}, {20, 30}, {40, 50}}, {{5, 25}, {28, 45}}),
            (std::vector<Interval>{{5, 10}, {20, 25}, {28, 30}, {40, 45}}));
  EXPECT_TRUE(Intersect({{0, 10}}, {{10, 20}}).empty());
  EXPECT_TRUE(Intersect({{0, 10}}, {}).empty());
}

TEST(Timeplan, SubtractCutsHoles) {
  EXPECT_EQ(Subtract({{0, 100}}, {{10, 20}, {50, 60}}),
            (std::vector<Interval>{{0, 10}, {20, 50}, {60, 100}}));
  EXPECT_EQ(Subtract({{0, 10}, {20, 30}}, {{5, 25}}), (std::vector<Interval>{{0, 5}, {25, 30}}));
  EXPECT_EQ(Subtract({{0, 10}}, {{20, 30}}), (std::vector<Interval>{{0, 10}}));
}

TEST(Timeplan, SubtractCanRemoveEverything) {
  EXPECT_TRUE(Subtract({{0, 10}, {20, 30}}, {{0, 30}}).empty());
  EXPECT_TRUE(Subtract({{10, 20}}, {{0, 10}, {10, 20}}).empty());
  EXPECT_TRUE(Subtract({}, {{0, 10}}).empty());
}

TEST(Timeplan, AtLeastKeepsLongEnoughIntervals) {
  EXPECT_EQ(AtLeast({{0, 10}, {20, 50}, {60, 90}}, 30),
            (std::vector<Interval>{{20, 50}, {60, 90}}));
  EXPECT_TRUE(AtLeast({{0, 10}}, 11).empty());
}

TEST(Timeplan, ContainsNeedsOneIntervalToHoldTheWholeStretch) {
  const std::vector<Interval> set = {{0, 10}, {10, 20}, {30, 40}};
  EXPECT_TRUE(Contains(set, 30, 10));
  EXPECT_TRUE(Contains(set, 0, 10));
  EXPECT_FALSE(Contains(set, 31, 10));
  EXPECT_FALSE(Contains(set, 5, 10));  // spans two intervals of an unnormalized set
  EXPECT_FALSE(Contains(set, 25, 1));
  EXPECT_FALSE(Contains(set, 40, 1));
  EXPECT_FALSE(Contains(set, 30, 0));
}

}  // namespace
}  // namespace duet::model
