// Shared free time across two zones, busy days, agreed talks and quiet hours.
#include "client/model/free_time.h"

#include <gtest/gtest.h>

#include "crypto/crypto.h"

namespace duet::model {
namespace {

constexpr std::int64_t kHour = 3600;
// Monday 2027-03-15T00:00Z: New York is on summer time (since 03-14), Berlin
// not yet (from 03-28), so the two are 5 hours apart instead of 6.
constexpr std::int64_t kMonday = 1805068800;

void AddWindow(CoupleState& s, bool mine, WeeklyWindow w, const std::string& zone) {
  std::string id(1, 'w');
  id.append(std::to_string(s.windows.size()));
  s.windows.push_back({id, mine ? "me" : "you", mine, w, zone});
}

TEST(FreeTime, TheSameHourWhileOnlyOneSideMovedItsClocks) {
  CoupleState s;
  AddWindow(s, true, {0x7f, 18 * 60, 20 * 60}, "Europe/Berlin");     // 17:00-19:00Z in March
  AddWindow(s, false, {0x7f, 13 * 60, 14 * 60}, "America/New_York");  // 17:00-18:00Z (EDT)
  auto free = SharedFreeTime(s, {kMonday, kMonday + 86400}, 20 * 60);
  ASSERT_EQ(free.size(), 1u);
  EXPECT_EQ(free[0], (Interval{kMonday + 17 * kHour, kMonday + 18 * kHour}));
  // Two weeks later Berlin moved too: 16:00-18:00Z against 17:00-18:00Z.
  const std::int64_t later = kMonday + 14 * 86400;
  free = SharedFreeTime(s, {later, later + 86400}, 20 * 60);
  ASSERT_EQ(free.size(), 1u);
  EXPECT_EQ(free[0], (Interval{later + 17 * kHour, later + 18 * kHour}));
}

TEST(FreeTime, BusyDaysAgreedTalksAndShortGapsAreLeftOut) {
  CoupleState s;
  AddWindow(s, true, {0x7f, 9 * 60, 17 * 60}, "UTC");
  AddWindow(s, false, {0x7f, 9 * 60, 17 * 60}, "UTC");
  s.busy.push_back({"b", "you", false, LocalSpan{2027, 3, 16, 0, 1440}, "UTC"});  // Tuesday
  TalkView talk;
  talk.state = TalkState::kAgreed;
  talk.options = {kMonday + 10 * kHour};
  talk.chosen = 1;
  talk.minutes = 60;
  s.talks.push_back(talk);
  auto free = SharedFreeTime(s, {kMonday, kMonday + 3 * 86400}, 30 * 60);
  ASSERT_EQ(free.size(), 3u);
  EXPECT_EQ(free[0], (Interval{kMonday + 9 * kHour, kMonday + 10 * kHour}));
  EXPECT_EQ(free[1], (Interval{kMonday + 11 * kHour, kMonday + 17 * kHour}));
  EXPECT_EQ(free[2].start, kMonday + 2 * 86400 + 9 * kHour) << "Tuesday is busy";
  EXPECT_TRUE(SharedFreeTime(s, {kMonday, kMonday + 86400}, 9 * kHour).empty());
}

TEST(FreeTime, NoTimeWhenOnlyOnePartnerSharedWindows) {
  CoupleState s;
  AddWindow(s, true, {0x7f, 0, 1440}, "UTC");
  EXPECT_TRUE(SharedFreeTime(s, {kMonday, kMonday + 86400}, 60).empty());
}

TEST(FreeTime, AgreedQuietHoursAreTakenAndNamed) {
  ASSERT_TRUE(crypto::Init());
  CoupleState s;
  AddWindow(s, true, {0x7f, 20 * 60, 24 * 60}, "UTC");
  AddWindow(s, false, {0x7f, 20 * 60, 24 * 60}, "UTC");
  BoundaryView quiet;
  quiet.boundary_id = "quiet-boundary-1";
  BoundaryVersion v;
  v.kind = v1::BOUNDARY_KIND_QUIET_HOURS;
  v.quiet = WeeklyWindow{0x7f, 22 * 60, 7 * 60};
  v.time_zone = "UTC";
  quiet.versions.push_back(v);
  quiet.pending = 0;
  s.boundaries.push_back(quiet);
  EXPECT_EQ(QuietHoursTouching(s, kMonday + 22 * kHour, kMonday + 23 * kHour), nullptr)
      << "a proposed boundary binds nobody yet";
  s.boundaries[0].pending = -1;
  s.boundaries[0].agreed = 0;
  auto free = SharedFreeTime(s, {kMonday, kMonday + 86400}, 20 * 60);
  ASSERT_EQ(free.size(), 1u);
  EXPECT_EQ(free[0], (Interval{kMonday + 20 * kHour, kMonday + 22 * kHour}));
  EXPECT_NE(QuietHoursTouching(s, kMonday + 21 * kHour + 50 * 60, kMonday + 22 * kHour + 10 * 60), nullptr);
  EXPECT_EQ(QuietHoursTouching(s, kMonday + 21 * kHour, kMonday + 22 * kHour), nullptr);
  s.boundaries[0].retired = true;
  EXPECT_EQ(QuietHoursTouching(s, kMonday + 23 * kHour, kMonday + 23 * kHour + 60), nullptr);
}

}  // namespace
}  // namespace duet::model

namespace duet::model {
namespace {

TEST(FreeTime, QuietUntilIsTheEndOfTheQuietHoursThatHoldNow) {
  ASSERT_TRUE(crypto::Init());
  CoupleState s;
  auto add_quiet = [&](WeeklyWindow w, const std::string& zone) {
    BoundaryView b;
    b.boundary_id = std::string("quiet-").append(std::to_string(s.boundaries.size()));
    BoundaryVersion v;
    v.kind = v1::BOUNDARY_KIND_QUIET_HOURS;
    v.quiet = w;
    v.time_zone = zone;
    b.versions.push_back(v);
    b.agreed = 0;
    s.boundaries.push_back(b);
  };
  EXPECT_FALSE(QuietUntil(s, kMonday).has_value()) << "no boundary, never quiet";
  add_quiet({0x7f, 22 * 60, 7 * 60}, "UTC");
  EXPECT_EQ(QuietUntil(s, kMonday + 23 * kHour + 30 * 60), kMonday + 31 * kHour) << "23:30 to 07:00 next day";
  EXPECT_EQ(QuietUntil(s, kMonday + 22 * kHour), kMonday + 31 * kHour) << "from its first minute";
  EXPECT_FALSE(QuietUntil(s, kMonday + 7 * kHour).has_value()) << "over at 07:00";
  EXPECT_FALSE(QuietUntil(s, kMonday + 21 * kHour + 59 * 60).has_value());
  // A second agreed quiet time that starts where the first ends makes one run.
  add_quiet({0x7f, 7 * 60, 8 * 60}, "UTC");
  EXPECT_EQ(QuietUntil(s, kMonday + 23 * kHour), kMonday + 32 * kHour);
  // In Berlin's zone (UTC+1 in March 2027): 22:00-07:00 there is 21:00-06:00Z.
  CoupleState berlin;
  s = berlin;
  add_quiet({0x7f, 22 * 60, 7 * 60}, "Europe/Berlin");
  EXPECT_EQ(QuietUntil(s, kMonday + 21 * kHour + 30 * 60), kMonday + 30 * kHour);
}

}  // namespace
}  // namespace duet::model

