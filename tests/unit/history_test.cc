// Day-by-day moods and week-by-week counts, in one zone's calendar.
#include "client/model/history.h"

#include <gtest/gtest.h>

namespace duet::model {
namespace {

// Wednesday 2027-01-13T12:00Z.
constexpr std::int64_t kNow = 1799841600;

CheckInView Checkin(bool mine, std::int64_t at, std::uint32_t mood, bool shared = true) {
  CheckInView c;
  c.mine = mine;
  c.shared = shared;
  c.created_at_ms = at * 1000;
  c.mood = mood;
  return c;
}

TEST(History, MoodsAreAveragedPerLocalDayAndPrivateOnesLeftOut) {
  CoupleState s;
  s.checkins = {Checkin(true, kNow - 3600, 4), Checkin(true, kNow - 7200, 2),
                Checkin(false, kNow - 86400, 5), Checkin(true, kNow - 60, 1, /*shared=*/false)};
  const auto h = BuildHistory(s, FindZone("UTC").value(), kNow, 7);
  ASSERT_EQ(h.days.size(), 7u);
  EXPECT_EQ(h.days.front().date, "2027-01-07");
  EXPECT_EQ(h.days.back().date, "2027-01-13");
  EXPECT_DOUBLE_EQ(h.days.back().mine, 3.0);
  EXPECT_DOUBLE_EQ(h.days.back().theirs, 0.0);
  EXPECT_DOUBLE_EQ(h.days[5].theirs, 5.0);
}

TEST(History, TheLocalCalendarDecidesTheDay) {
  CoupleState s;
  // 2027-01-13T02:00Z is still the 12th in New York.
  s.checkins = {Checkin(false, kNow - 10 * 3600, 3)};
  const auto h = BuildHistory(s, FindZone("America/New_York").value(), kNow, 7);
  EXPECT_EQ(h.days.back().date, "2027-01-13");
  EXPECT_DOUBLE_EQ(h.days[5].theirs, 3.0);
  EXPECT_DOUBLE_EQ(h.days.back().theirs, 0.0);
}

TEST(History, WeeksStartOnMondayAndCountOnlyTalksHeld) {
  CoupleState s;
  s.checkins = {Checkin(true, kNow, 3), Checkin(false, kNow - 2 * 86400, 3), Checkin(false, kNow - 3 * 86400, 3)};
  TalkView held;
  held.state = TalkState::kAgreed;
  held.options = {kNow - 86400};
  held.chosen = 1;
  held.minutes = 20;
  TalkView coming = held;
  coming.options = {kNow + 3600};
  TalkView cancelled = held;
  cancelled.state = TalkState::kCancelled;
  s.talks = {held, coming, cancelled};
  const auto h = BuildHistory(s, FindZone("UTC").value(), kNow, 7);
  ASSERT_EQ(h.weeks.size(), 2u);
  EXPECT_EQ(h.weeks[0].start, "2027-01-04");
  EXPECT_EQ(h.weeks[1].start, "2027-01-11");
  EXPECT_EQ(h.weeks[1].my_checkins, 1);
  EXPECT_EQ(h.weeks[1].their_checkins, 1);
  EXPECT_EQ(h.weeks[0].their_checkins, 1) << "Sunday the 10th belongs to the week before";
  EXPECT_EQ(h.weeks[1].talks_held, 1);
}

}  // namespace
}  // namespace duet::model
