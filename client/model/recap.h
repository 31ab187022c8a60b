// What `duet recap` looks back on: what the two of them did together in one
// month of the reader's calendar. Worded as progress by the CLI, never as a
// score, a streak or a comparison: it counts what happened, and its figures
// are the same on both devices (no "you", no "me").
//
// Pure: records, state, zone and month in, values out. Any thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "client/model/fold.h"

namespace duet::model {

struct Recap {
  std::string month;             // "YYYY-MM"
  int talks_held = 0;            // agreed talks that started in the month and have ended
  int talks_both_reflected = 0;  // ... on which both wrote a reflection
  int checkins_shared = 0;       // shared check-ins written in the month, both partners'
  int shared_later = 0;          // kept check-ins shared later, in the month
  std::map<std::string, int> thanks_from;  // author key -> thanks written in the month
  int boundaries_agreed = 0;     // agreements reached in the month
  int questions_together = 0;    // questions both answered, the second answer in the month
  std::vector<std::string> highlights;  // kinds: "first-talk", "talk-after-not-now",
                                        // "first-boundary", "shared-later",
                                        // "first-question-together", "first-deep-question"
};

// The month `year`-`month` (1..12) in `zone`, as it stands at `now`.
Recap BuildRecap(const std::vector<OpenedRecord>& records, const CoupleState& state, const date::time_zone* zone,
                 int year, unsigned month, std::int64_t now);

}  // namespace duet::model
