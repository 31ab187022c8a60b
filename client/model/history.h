// What `duet history` shows: both partners' shared moods day by day, and
// check-ins and talks held week by week, in one zone's calendar.
//
// Pure: state, zone and range in, values out. Any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client/model/fold.h"

namespace duet::model {

struct MoodDay {
  std::string date;          // "YYYY-MM-DD", local
  double mine = 0;           // mean mood 1..5 of the day's shared check-ins; 0: none
  double theirs = 0;
};

struct HistoryWeek {
  std::string start;         // the Monday, "YYYY-MM-DD"
  int my_checkins = 0;
  int their_checkins = 0;
  int talks_held = 0;
};

struct History {
  std::vector<MoodDay> days;    // every day of the range, oldest first
  std::vector<HistoryWeek> weeks;
};

// The `days` local days that end with the day of `now` (private check-ins
// are left out: the history is what both can see).
History BuildHistory(const CoupleState& state, const date::time_zone* zone, std::int64_t now,
                     int days);

}  // namespace duet::model
