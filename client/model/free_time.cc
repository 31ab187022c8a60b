#include "client/model/free_time.h"

#include <map>

namespace duet::model {
namespace {

// The agreed quiet hours of one boundary over `range`.
std::vector<Interval> QuietTime(const BoundaryView& b, Interval range) {
  if (b.retired || b.agreed < 0) return {};
  const BoundaryVersion& v = b.versions[b.agreed];
  if (v.kind != v1::BOUNDARY_KIND_QUIET_HOURS || !v.quiet) return {};
  return ExpandWeekly({*v.quiet}, ZoneOrUtc(v.time_zone), range);
}

}  // namespace

const BoundaryView* QuietHoursTouching(const CoupleState& state, std::int64_t start,
                                       std::int64_t end) {
  for (const auto& b : state.boundaries)
    if (!QuietTime(b, {start, end}).empty()) return &b;
  return nullptr;
}

std::optional<std::int64_t> QuietUntil(const CoupleState& state, std::int64_t now) {
  const Interval range{now, now + 8 * 86400};
  std::vector<Interval> quiet;
  for (const auto& b : state.boundaries) {
    auto times = QuietTime(b, range);
    quiet.insert(quiet.end(), times.begin(), times.end());
  }
  quiet = Normalize(std::move(quiet));
  if (quiet.empty() || quiet.front().start > now || quiet.front().end <= now) return std::nullopt;
  return quiet.front().end;
}

std::vector<Interval> AvailableTime(const CoupleState& state, bool mine, Interval range) {
  // Windows are expanded per zone: one partner may have written some while
  // travelling.
  std::map<std::string, std::vector<WeeklyWindow>> by_zone;
  for (const auto& w : state.windows)
    if (w.mine == mine) by_zone[w.time_zone].push_back(w.window);
  std::vector<Interval> all;
  for (const auto& [zone, windows] : by_zone) {
    auto expanded = ExpandWeekly(windows, ZoneOrUtc(zone), range);
    all.insert(all.end(), expanded.begin(), expanded.end());
  }
  return Normalize(std::move(all));
}

std::vector<Interval> TakenTime(const CoupleState& state, Interval range) {
  std::vector<Interval> taken;
  for (const auto& b : state.busy) taken.push_back(SpanToInterval(b.span, ZoneOrUtc(b.time_zone)));
  for (const auto& t : state.talks)
    if (t.state == TalkState::kAgreed) taken.push_back({t.start(), t.end()});
  for (const auto& b : state.boundaries) {
    auto quiet = QuietTime(b, range);
    taken.insert(taken.end(), quiet.begin(), quiet.end());
  }
  return Intersect(Normalize(std::move(taken)), {range});
}

std::vector<Interval> SharedFreeTime(const CoupleState& state, Interval range,
                                     std::int64_t min_seconds) {
  const auto both = Intersect(AvailableTime(state, true, range), AvailableTime(state, false, range));
  return AtLeast(Subtract(both, TakenTime(state, range)), min_seconds);
}

}  // namespace duet::model
