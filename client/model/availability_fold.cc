// Availability windows and busy times (docs/protocol.md §7.1).
#include <algorithm>

#include "client/model/fold_parts.h"

namespace duet::model {
namespace {

bool ValidWindow(const v1::AvailabilityWindow& w) {
  return w.weekdays() >= 1 && w.weekdays() <= 127 && w.start_minute() < 1440 &&
         w.end_minute() <= 1440 && !w.time_zone().empty() && w.time_zone().size() <= kMaxZoneNameBytes;
}

// "YYYY-MM-DD" with a month and day in range; the calendar itself (30 or 31
// days) is checked where the span is turned into instants.
bool ParseDate(const std::string& text, LocalSpan* span) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (text[i] < '0' || text[i] > '9') return false;
  span->year = std::stoi(text.substr(0, 4));
  span->month = static_cast<unsigned>(std::stoi(text.substr(5, 2)));
  span->day = static_cast<unsigned>(std::stoi(text.substr(8, 2)));
  return span->month >= 1 && span->month <= 12 && span->day >= 1 && span->day <= 31;
}

}  // namespace

void FoldAvailability(const Ordered& records, const std::string& my_key, CoupleState* state) {
  for (const OpenedRecord* record : records) {
    const auto& body = record->body;
    const bool mine = record->author_key == my_key;
    if (body.has_availability() && ValidWindow(body.availability())) {
      const auto& w = body.availability();
      state->windows.push_back({record->record_id, record->author_key, mine,
                                WeeklyWindow{w.weekdays(), w.start_minute(), w.end_minute()},
                                w.time_zone()});
    } else if (body.has_busy()) {
      const auto& b = body.busy();
      LocalSpan span;
      span.start_minute = b.start_minute();
      span.end_minute = b.end_minute();
      if (!ParseDate(b.date(), &span) || span.start_minute >= span.end_minute ||
          span.end_minute > 1440 || b.time_zone().empty() || b.time_zone().size() > kMaxZoneNameBytes)
        continue;
      state->busy.push_back({record->record_id, record->author_key, mine, span, b.time_zone()});
    } else if (body.has_withdraw()) {
      // Only the author may withdraw what they wrote.
      const std::string& target = body.withdraw().target_id();
      auto same = [&](const auto& v) {
        return v.record_id == target && v.author_key == record->author_key;
      };
      std::erase_if(state->windows, same);
      std::erase_if(state->busy, same);
    }
  }
}

}  // namespace duet::model
