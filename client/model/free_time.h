// Shared free time for `duet talk suggest` and the checks of `duet talk
// propose`: inside both partners' weekly windows (each in its author's own
// zone), outside either one's busy times, talks already agreed and agreed
// quiet hours.
//
// Pure: state and range in, intervals out (unix seconds, half-open). A zone
// this machine does not know is read as UTC. Any thread.
#pragma once

#include <optional>
#include <vector>

#include "client/model/fold.h"
#include "client/model/timeplan.h"

namespace duet::model {

// Where one partner (mine = true: this device's) said they are free.
std::vector<Interval> AvailableTime(const CoupleState& state, bool mine, Interval range);
// Busy times of both partners, agreed talks, and agreed quiet hours.
std::vector<Interval> TakenTime(const CoupleState& state, Interval range);
// The agreed quiet-hours boundary that [start, end) touches, if any.
const BoundaryView* QuietHoursTouching(const CoupleState& state, std::int64_t start,
                                       std::int64_t end);
// When the agreed quiet hours that hold at `now` end: the end of the run
// of quiet time that contains `now` (two boundaries back to back are one
// run); nullopt when `now` is not quiet. Looks at most 8 days ahead.
std::optional<std::int64_t> QuietUntil(const CoupleState& state, std::int64_t now);
// Shared free time at least `min_seconds` long.
std::vector<Interval> SharedFreeTime(const CoupleState& state, Interval range,
                                     std::int64_t min_seconds);

}  // namespace duet::model
