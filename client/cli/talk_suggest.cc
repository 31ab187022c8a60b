// duet talk suggest [--minutes 20] [--days 7]: times inside both partners'
// weekly windows, outside busy times and talks already agreed, shown in
// this device's zone and in the partner's.
#include <set>

#include "client/cli/talk.h"
#include "client/model/free_time.h"
#include "client/model/timeplan.h"

namespace duet::client::cli {
namespace {

constexpr std::int64_t kQuarterHour = 15 * 60;

// The partner's zone, as their latest window names it.
const date::time_zone* PartnerZone(const model::CoupleState& state) {
  for (auto it = state.windows.rbegin(); it != state.windows.rend(); ++it)
    if (!it->mine) return RecordZone(it->time_zone);
  return nullptr;
}

}  // namespace

int RunTalkSuggest(const Cli& cli, const TalkOptions& options) {
  auto opened = OpenState(cli, "suggestions need both partners' availability");
  if (!opened.ok()) return Fail(opened.error());
  Device& d = *opened->device;
  const Loaded* loaded = &opened->loaded;
  const date::time_zone* zone = opened->zone;
  const auto& state = loaded->state;
  const std::string partner = PartnerLabel(d);
  const std::int64_t minutes = options.minutes != 0 ? options.minutes : 20;
  // From the next quarter hour: a suggestion for "in 3 minutes" helps nobody.
  const std::int64_t now = NowSeconds();
  const std::int64_t from = (now / kQuarterHour + 1) * kQuarterHour;
  const model::Interval range{from, now + std::int64_t{options.days} * 86400};
  // Windows in a zone this machine does not know are read as UTC: say so.
  std::set<std::string> zones;
  for (const auto& w : state.windows) zones.insert(w.time_zone);
  for (const auto& b : state.busy) zones.insert(b.time_zone);
  for (const auto& b : state.boundaries)
    if (b.agreed >= 0 && b.versions[b.agreed].quiet) zones.insert(b.versions[b.agreed].time_zone);
  for (const auto& z : zones) RecordZone(z);
  const auto slots = model::SharedFreeTime(state, range, minutes * 60);

  bool mine = false, theirs = false;
  for (const auto& w : state.windows) (w.mine ? mine : theirs) = true;
  std::string missing;
  if (!mine) missing = "you have not shared when you are free: duet availability add \"mon-fri 19:00-21:00\"";
  else if (!theirs) missing = partner + " has not shared when they are free yet; ask them to run duet availability add";

  const date::time_zone* their_zone = PartnerZone(state);
  if (cli.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& slot : slots) {
      nlohmann::json item = {{"start", slot.start},
                             {"end", slot.end},
                             {"start_local", model::FormatLocalTime(slot.start, zone)},
                             {"end_local", model::FormatLocalTime(slot.end, zone)}};
      if (their_zone) {
        item["partner_start_local"] = model::FormatLocalTime(slot.start, their_zone);
        item["partner_end_local"] = model::FormatLocalTime(slot.end, their_zone);
      }
      list.push_back(std::move(item));
    }
    PrintJson({{"minutes", minutes},
               {"time_zone", model::ZoneName(zone)},
               {"slots", list},
               {"missing", missing.empty() ? nlohmann::json() : nlohmann::json(missing)}});
    return 0;
  }
  if (!missing.empty()) {
    std::printf("no suggestions: %s\n", missing.c_str());
    return 0;
  }
  if (slots.empty()) {
    std::printf("no shared free time of %lld min in the next %d days; add a window (duet "
                "availability add), or try --minutes %lld or --days %d\n",
                static_cast<long long>(minutes), options.days,
                static_cast<long long>(std::max<std::int64_t>(model::kMinTalkMinutes, minutes / 2)),
                std::min(31, options.days * 2));
    return 0;
  }
  std::printf("times you are both free for %lld min (your time, %s):\n", static_cast<long long>(minutes),
              model::ZoneName(zone).c_str());
  const bool show_theirs = their_zone != nullptr && model::ZoneName(their_zone) != model::ZoneName(zone);
  for (const auto& slot : slots) {
    std::string line = "  " + FormatSpan(slot.start, slot.end, zone);
    if (show_theirs)
      line += "   (" + partner + ": " + FormatSpan(slot.start, slot.end, their_zone) + " " +
              model::ZoneAbbreviation(slot.start, their_zone) + ")";
    std::printf("%s\n", line.c_str());
  }
  std::printf("propose up to 3: duet talk propose --at \"%s\" --minutes %lld\n",
              model::FormatLocalTime(slots.front().start, zone).c_str(),
              static_cast<long long>(minutes));
  return 0;
}

}  // namespace duet::client::cli
