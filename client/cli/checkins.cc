// duet checkins [--last N] [--since DATE] [--by me|partner] [--json]
#include <algorithm>

#include "client/cli/cli.h"
#include "client/model/timeplan.h"
#include "crypto/crypto.h"

namespace duet::client::cli {
namespace {

constexpr int kDefaultLast = 20;  // a screen or two; --json lists all unless asked

struct CheckinsOptions {
  int last = 0;  // 0: the default
  std::string since;
  std::string by;
  bool kept = false;
};

// A note as typed, paragraphs and all: each line indented under its
// check-in and wrapped at the terminal's width; a tab is four spaces.
void PrintNote(const std::string& note, std::size_t columns) {
  constexpr std::size_t kIndent = 4;
  const std::size_t width = columns == 0 ? 0 : std::max<std::size_t>(20, columns - kIndent);
  std::size_t start = 0;
  while (start <= note.size()) {
    const auto end = note.find('\n', start);
    std::string line = note.substr(start, end == std::string::npos ? std::string::npos : end - start);
    for (std::size_t tab = line.find('\t'); tab != std::string::npos; tab = line.find('\t', tab))
      line.replace(tab, 1, "    ");
    for (const auto& piece : WrapLine(ForTerminal(line), width)) std::printf("    %s\n", piece.c_str());
    if (end == std::string::npos) break;
    start = end + 1;
  }
}

int RunCheckins(const Cli& cli, const CheckinsOptions& o) {
  auto opened = OpenState(cli);
  if (!opened.ok()) return Fail(opened.error());
  Device& d = *opened->device;
  std::int64_t since_ms = 0;
  if (!o.since.empty()) {
    auto day = model::ParseLocalTime(o.since + " 00:00", opened->zone);
    if (!day.ok())
      return Fail(MakeError(ErrorKind::kInvalidInput,
                            "--since '" + o.since + "' is not a date; give it as 2026-12-01"));
    since_ms = day.value() * 1000;
  }
  // Oldest first, as the fold keeps them; the filters keep that order.
  std::vector<model::CheckInView> chosen;
  for (const auto& c : opened->loaded.state.checkins) {
    if (c.created_at_ms < since_ms) continue;
    if (o.by == "me" && !c.mine) continue;
    if (o.by == "partner" && c.mine) continue;
    if (o.kept && (c.shared || !c.mine)) continue;
    chosen.push_back(c);
  }
  const std::size_t limit =
      o.last > 0 ? static_cast<std::size_t>(o.last) : cli.json ? chosen.size() : static_cast<std::size_t>(kDefaultLast);
  const std::size_t older = chosen.size() > limit ? chosen.size() - limit : 0;
  chosen.erase(chosen.begin(), chosen.begin() + static_cast<std::ptrdiff_t>(older));
  const std::vector<model::CheckInView>& shown = chosen;
  const std::string me = d.name();
  const std::string partner = d.partner() ? d.partner()->name : "partner";
  const std::string shown_me = ForTerminal(me);
  const std::string shown_partner = ForTerminal(partner);

  if (cli.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& c : shown) {
      if (c.waiting) {
        // Nothing of it until its reader chooses to open it.
        list.push_back({{"id", crypto::Hex(c.record_id)}, {"author", partner}, {"mine", false}, {"shared", true},
                        {"time", c.created_at_ms / 1000}, {"waiting", true}});
        continue;
      }
      nlohmann::json item = {{"id", crypto::Hex(c.record_id)},
                             {"author", c.mine ? me : partner},
                             {"mine", c.mine},
                             {"shared", c.shared},
                             {"synced", c.synced},
                             {"time", c.created_at_ms / 1000},
                             {"mood", c.mood},
                             {"energy", c.energy == 0 ? nlohmann::json() : nlohmann::json(c.energy)},
                             {"need", c.need == model::v1::NEED_UNSPECIFIED
                                          ? nlohmann::json()
                                          : nlohmann::json(model::NeedName(c.need))},
                             {"note", TextOrNull(c.note)},
                             {"shared_later", c.shared_later_at_ms == 0 ? nlohmann::json()
                                                                        : nlohmann::json(c.shared_later_at_ms / 1000)},
                             {"note_kept", c.note_kept},
                             {"when_ready", c.when_ready},
                             {"waiting", false}};
      list.push_back(std::move(item));
    }
    PrintJson(list);
  } else if (shown.empty()) {
    if (!o.since.empty() || !o.by.empty() || o.kept)
      std::printf("no check-ins match\n");
    else
      std::printf("no check-ins yet; start small: duet checkin --mood 3\n");
  } else {
    if (older > 0)
      std::printf("(%zu older: duet checkins --last %zu, or --since DATE)\n", older,
                  static_cast<std::size_t>(limit + older));
    const std::size_t columns = TerminalColumns();
    for (const auto& c : shown) {
      if (c.waiting) {
        std::printf("%s  %s has something to share, whenever you're ready: duet open %s\n",
                    model::FormatLocalTime(c.created_at_ms / 1000, opened->zone).c_str(), shown_partner.c_str(),
                    ShortId(c.record_id).c_str());
        continue;
      }
      std::string line =
          model::FormatLocalTime(c.created_at_ms / 1000, opened->zone) + "  " + (c.mine ? shown_me + " (you)" : shown_partner);
      line += "  mood " + std::to_string(c.mood) + "/5";
      if (c.energy != 0) line += "  energy " + std::to_string(c.energy) + "/5";
      if (c.need != model::v1::NEED_UNSPECIFIED) line += "  needs: " + model::NeedName(c.need);
      if (!c.shared) line += "  [just for you]";
      else if (c.shared_later_at_ms != 0)
        line += "  [shared later, on " + model::FormatLocalTime(c.shared_later_at_ms / 1000, opened->zone).substr(0, 10) +
                (c.note_kept ? (c.mine ? ", without the note" : "; the note stayed with them") : "") + "]";
      else if (c.mine && !c.synced) line += "  [queued]";
      if (c.mine && c.when_ready) line += "  [for when " + shown_partner + " is ready]";
      std::printf("%s\n", line.c_str());
      if (!c.note.empty()) PrintNote(c.note, columns);
    }
  }
  return 0;
}

}  // namespace

void SetupCheckins(CLI::App& root, Cli& cli) {
  auto o = std::make_shared<CheckinsOptions>();
  auto* sub = root.add_subcommand("checkins", "list your check-ins and your partner's shared ones");
  sub->add_option("--last", o->last, "the newest N (default 20; --json: all)")->check(CLI::Range(1, 1'000'000));
  sub->add_option("--since", o->since, "from this day on (2026-12-01, in your time zone)");
  sub->add_option("--by", o->by, "only yours (me) or only your partner's (partner)")
      ->check(CLI::IsMember({"me", "partner"}));
  sub->add_flag("--kept", o->kept, "only the ones kept on this device (to share later: duet share ID)");
  sub->callback([&cli, o] { cli.run = [&cli, o] { return RunCheckins(cli, *o); }; });
}

}  // namespace duet::client::cli
