// Availability windows and busy times (docs/protocol.md §7.1).
#include <algorithm>

#include "client/model/fold_parts.h"

namespace duet::model {
namespace {

// "YYYY-MM-DD", which the validator (validate.h) already checked is a day
// of the calendar.
void ReadDate(const std::string& text, LocalSpan* span) {
  span->year = std::stoi(text.substr(0, 4));
  span->month = static_cast<unsigned>(std::stoi(text.substr(5, 2)));
  span->day = static_cast<unsigned>(std::stoi(text.substr(8, 2)));
}

}  // namespace

void FoldAvailability(const Ordered& records, const std::string& my_key, CoupleState* state) {
  for (const OpenedRecord* record : records) {
    const auto& body = record->body;
    const bool mine = record->author_key == my_key;
    if (body.has_availability()) {
      const auto& w = body.availability();
      state->windows.push_back({record->record_id, record->author_key, mine,
                                WeeklyWindow{w.weekdays(), w.start_minute(), w.end_minute()},
                                w.time_zone()});
    } else if (body.has_busy()) {
      const auto& b = body.busy();
      LocalSpan span;
      span.start_minute = b.start_minute();
      span.end_minute = b.end_minute();
      ReadDate(b.date(), &span);
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
