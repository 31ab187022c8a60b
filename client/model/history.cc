#include "client/model/history.h"

#include <date/date.h>
#include <date/tz.h>

#include <map>

namespace duet::model {
namespace {

using LocalDays = date::local_days;

LocalDays DayOf(std::int64_t unix_seconds, const date::time_zone* zone) {
  const date::sys_seconds instant{std::chrono::seconds{unix_seconds}};
  // A null zone is UTC, as everywhere in timeplan.h.
  const auto local = zone != nullptr ? zone->to_local(instant)
                                     : date::local_seconds{instant.time_since_epoch()};
  return date::floor<date::days>(local);
}

std::string Text(LocalDays day) { return date::format("%Y-%m-%d", day); }

LocalDays MondayOf(LocalDays day) {
  const date::weekday wd{day};
  return day - (wd - date::Monday);
}

}  // namespace

History BuildHistory(const CoupleState& state, const date::time_zone* zone, std::int64_t now,
                     int days) {
  History history;

  if (days < 1) return history;
  const LocalDays last = DayOf(now, zone);
  const LocalDays first = last - date::days{days - 1};
  struct Sum {
    double total = 0;
    int count = 0;
  };
  std::map<LocalDays, std::pair<Sum, Sum>> moods;  // day -> (mine, theirs)
  std::map<LocalDays, HistoryWeek> weeks;
  for (LocalDays week = MondayOf(first); week <= last; week += date::days{7}) weeks[week].start = Text(week);
  for (const auto& c : state.checkins) {
    if (c.waiting) continue;  // not opened: its mood is not known here yet
    if (!c.shared || c.mood < 1 || c.mood > 5) continue;
    const LocalDays day = DayOf(c.created_at_ms / 1000, zone);
    if (day < first || day > last) continue;
    Sum& sum = c.mine ? moods[day].first : moods[day].second;
    sum.total += c.mood;
    ++sum.count;
    ++(c.mine ? weeks[MondayOf(day)].my_checkins : weeks[MondayOf(day)].their_checkins);
  }
  for (const auto& t : state.talks) {
    if (t.state != TalkState::kAgreed || t.end() > now) continue;
    const LocalDays day = DayOf(t.start(), zone);
    if (day >= first && day <= last) ++weeks[MondayOf(day)].talks_held;
  }
  for (LocalDays day = first; day <= last; day += date::days{1}) {
    MoodDay entry{Text(day), 0, 0};
    if (auto it = moods.find(day); it != moods.end()) {
      if (it->second.first.count) entry.mine = it->second.first.total / it->second.first.count;
      if (it->second.second.count) entry.theirs = it->second.second.total / it->second.second.count;
    }
    history.days.push_back(entry);
  }
  for (auto& [monday, week] : weeks) history.weeks.push_back(week);
  return history;
}

}  // namespace duet::model
