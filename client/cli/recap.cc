// duet recap [--month YYYY-MM] [--json]: what the two of them did together
// in a month, as progress: talks held and reflected on, check-ins shared,
// thanks each way, boundaries agreed, and a highlight or two. Never a score,
// a streak or a comparison, and the same words on both devices: the
// partners are named (in alphabetical order), never "you".
#include <algorithm>
#include <charconv>

#include "client/cli/cli.h"
#include "client/model/recap.h"
#include "client/model/timeplan.h"

namespace duet::client::cli {
namespace {

std::string Highlight(const std::string& kind) {
  if (kind == "first-talk") return "your first talk together";
  if (kind == "talk-after-not-now") return "a talk after a \"not now\": the quiet was respected, and then you talked";
  if (kind == "first-boundary") return "the first boundary you agreed on";
  if (kind == "shared-later") return "a check-in that was kept, shared when its author was ready";
  if (kind == "first-question-together") return "the first question you both answered";
  if (kind == "first-deep-question") return "the first deep question you both answered";
  return kind;
}

int RunRecap(const Cli& cli, const std::string& month_text) {
  auto opened = OpenState(cli, "a recap looks back on what the two of you did");
  if (!opened.ok()) return Fail(opened.error());
  Device& d = *opened->device;
  // This month by default, in the reader's calendar: "YYYY-MM".
  const std::string text =
      month_text.empty() ? model::FormatLocalTime(opened->now, opened->zone).substr(0, 7) : month_text;
  int year = 0;
  unsigned month = 0;
  auto whole_number = [](std::string_view digits, auto& value) {
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    return ec == std::errc() && end == digits.data() + digits.size();
  };
  const bool shaped = text.size() == 7 && text[4] == '-' && whole_number(std::string_view(text).substr(0, 4), year) &&
                      whole_number(std::string_view(text).substr(5, 2), month);
  if (!shaped || month < 1 || month > 12 || year < 2000 || year > 2399)
    return Fail(MakeError(ErrorKind::kInvalidInput,
                          "--month '" + ForTerminal(text) + "' is not a month; give it as 2026-12"));
  const auto recap = model::BuildRecap(opened->loaded.records, opened->loaded.state, opened->zone, year, month,
                                       opened->now);
  // The two names in one order on both devices.
  std::vector<std::pair<std::string, std::string>> people = {{d.name(), d.my_key()},
                                                             {d.partner()->name, d.partner()->sign_key}};
  std::sort(people.begin(), people.end());
  auto thanks_from = [&](const std::string& key) {
    auto it = recap.thanks_from.find(key);
    return it == recap.thanks_from.end() ? 0 : it->second;
  };
  if (cli.json) {
    nlohmann::json thanks = nlohmann::json::object();
    for (const auto& [name, key] : people) thanks[name] = thanks_from(key);
    PrintJson({{"month", recap.month},
               {"talks_held", recap.talks_held},
               {"talks_both_reflected", recap.talks_both_reflected},
               {"checkins_shared", recap.checkins_shared},
               {"shared_later", recap.shared_later},
               {"thanks_from", thanks},
               {"boundaries_agreed", recap.boundaries_agreed},
               {"questions_together", recap.questions_together},
               {"highlights", recap.highlights}});
    return 0;
  }
  const std::string a = ForTerminal(people[0].first), b = ForTerminal(people[1].first);
  static const char* const kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                        "July",    "August",   "September", "October", "November", "December"};
  std::printf("%s %d, %s and %s:\n", kMonths[month - 1], year, a.c_str(), b.c_str());
  std::vector<std::string> lines;
  if (recap.talks_held > 0)
    lines.push_back("held " + Counted(recap.talks_held, "talk", "talks") +
                    (recap.talks_both_reflected > 0
                         ? " (both reflected on " + std::to_string(recap.talks_both_reflected) + ")"
                         : ""));
  if (recap.checkins_shared > 0 || recap.shared_later > 0)
    lines.push_back("shared " + Counted(recap.checkins_shared, "check-in", "check-ins") +
                    (recap.shared_later > 0 ? ", and " + std::to_string(recap.shared_later) + " kept one" +
                                                  (recap.shared_later == 1 ? "" : "s") + " shared later"
                                            : ""));
  const int ab = thanks_from(people[0].second), ba = thanks_from(people[1].second);
  if (ab + ba > 0)
    lines.push_back("gave " + Counted(ab + ba, "thanks", "thanks") + " (" + std::to_string(ab) + " from " + a +
                    " to " + b + ", " + std::to_string(ba) + " from " + b + " to " + a + ")");
  if (recap.boundaries_agreed > 0)
    lines.push_back("agreed on " + Counted(recap.boundaries_agreed, "boundary", "boundaries"));
  if (recap.questions_together > 0)
    lines.push_back("answered " + Counted(recap.questions_together, "question", "questions") + " together");
  if (lines.empty()) {
    std::printf("  a quiet month so far; small steps count: a check-in, a thanks, ten minutes to talk\n");
    return 0;
  }
  for (const auto& line : lines) std::printf("  %s\n", line.c_str());
  for (const auto& h : recap.highlights) std::printf("  worth celebrating: %s\n", Highlight(h).c_str());
  return 0;
}

}  // namespace

void SetupRecap(CLI::App& root, Cli& cli) {
  auto month = std::make_shared<std::string>();
  auto* sub = root.add_subcommand("recap", "look back on what the two of you did together in a month");
  sub->add_option("--month", *month, "which month (2026-12; default: this one, in your time zone)");
  sub->callback([&cli, month] { cli.run = [&cli, month] { return RunRecap(cli, *month); }; });
}

}  // namespace duet::client::cli
