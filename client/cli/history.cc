// duet history [--days 30]: both partners' shared moods as a terminal chart,
// then check-ins and talks held week by week.
#include <cmath>

#include "client/cli/cli.h"
#include "client/model/history.h"
#include "client/model/timeplan.h"

namespace duet::client::cli {
namespace {

constexpr int kMaxColumns = 60;  // with the axis, fits an 80-column terminal

int RunHistory(const Cli& cli, int days) {
  auto opened = OpenState(cli);
  if (!opened.ok()) return Fail(opened.error());
  Device& d = *opened->device;
  const Loaded* loaded = &opened->loaded;
  const date::time_zone* zone = opened->zone;
  const auto history = model::BuildHistory(loaded->state, zone, NowSeconds(), days);
  const std::string partner = PartnerLabel(d);

  if (cli.json) {
    nlohmann::json out_days = nlohmann::json::array();
    for (const auto& day : history.days)
      out_days.push_back({{"date", day.date},
                          {"mine", day.mine == 0 ? nlohmann::json() : nlohmann::json(day.mine)},
                          {"theirs", day.theirs == 0 ? nlohmann::json() : nlohmann::json(day.theirs)}});
    nlohmann::json out_weeks = nlohmann::json::array();
    for (const auto& w : history.weeks)
      out_weeks.push_back({{"start", w.start},
                           {"my_checkins", w.my_checkins},
                           {"their_checkins", w.their_checkins},
                           {"talks_held", w.talks_held}});
    PrintJson({{"days", out_days}, {"weeks", out_weeks}});
    return 0;
  }
  // Columns of one or more days each; a column shows the mean of its days.
  const int per_column = (days + kMaxColumns - 1) / kMaxColumns;
  struct Column {
    double mine = 0, theirs = 0;
    int mine_n = 0, theirs_n = 0;
  };
  std::vector<Column> columns((history.days.size() + per_column - 1) / per_column);
  for (std::size_t i = 0; i < history.days.size(); ++i) {
    Column& c = columns[i / per_column];
    if (history.days[i].mine > 0) c.mine += history.days[i].mine, ++c.mine_n;
    if (history.days[i].theirs > 0) c.theirs += history.days[i].theirs, ++c.theirs_n;
  }
  bool any = false;
  for (const auto& c : columns) any |= c.mine_n > 0 || c.theirs_n > 0;
  // A day with several check-ins shows their average, and so does a column
  // of several days: say so, or a 3 reads as one check-in's mood.
  std::printf("average mood, last %d days (o you, x %s, * both; %s)\n", days, partner.c_str(),
              per_column > 1 ? ("each column averages " + std::to_string(per_column) + " days").c_str()
                             : "each column averages a day");
  if (!any) {
    std::printf("  no shared check-ins in these days; start small: duet checkin --mood 3\n");
  } else {
    for (int level = 5; level >= 1; --level) {
      std::string row = "  " + std::to_string(level) + " |";
      for (const auto& c : columns) {
        const bool me = c.mine_n > 0 && std::lround(c.mine / c.mine_n) == level;
        const bool them = c.theirs_n > 0 && std::lround(c.theirs / c.theirs_n) == level;
        row.push_back(me && them ? '*' : me ? 'o' : them ? 'x' : ' ');
      }
      std::printf("%s\n", row.c_str());
    }
    std::printf("    +%s\n", std::string(columns.size(), '-').c_str());
    const std::string from = history.days.front().date, to = history.days.back().date;
    const int gap = std::max(1, static_cast<int>(columns.size()) - static_cast<int>(from.size()) - static_cast<int>(to.size()));
    std::printf("     %s%s%s\n", from.c_str(), std::string(gap, ' ').c_str(), to.c_str());
  }
  std::printf("week of       check-ins (you / %s)   talks held\n", partner.c_str());
  for (const auto& w : history.weeks)
    std::printf("%s    %2d / %-2d                  %d\n", w.start.c_str(), w.my_checkins, w.their_checkins,
                w.talks_held);
  return 0;
}

}  // namespace

void SetupHistory(CLI::App& root, Cli& cli) {
  auto days = std::make_shared<int>(30);
  auto* sub = root.add_subcommand("history", "moods over time, check-ins and talks held per week");
  sub->add_option("--days", *days, "how many days back (default 30)")->check(CLI::Range(7, 366));
  sub->callback([&cli, days] { cli.run = [&cli, days] { return RunHistory(cli, *days); }; });
}

}  // namespace duet::client::cli
