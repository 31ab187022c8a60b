// duet (no command) and duet status: the dashboard. What this device knows,
// on one screen, without waiting for the network: the partner and their
// readiness, the next agreed talk, what waits for my answer, what is new
// since I last looked, and the sync and log checks.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "client/cli/cli.h"
#include "client/model/could_not_read.h"
#include "client/model/timeplan.h"
#include "crypto/crypto.h"

namespace duet::client::cli {
namespace {

constexpr std::size_t kNewShown = 5;  // one screen: the rest is a count

// Bold headings only for a person at a terminal that wants them
// (https://no-color.org).
bool UseColor() {
  const char* no_color = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  return ::isatty(STDOUT_FILENO) && (no_color == nullptr || *no_color == '\0') &&
         !(term != nullptr && std::string(term) == "dumb");
}

std::string Ago(std::int64_t then, std::int64_t now) {
  const std::int64_t s = std::max<std::int64_t>(0, now - then);
  if (s < 90) return "just now";
  if (s < 90 * 60) return std::to_string(s / 60) + " min ago";
  if (s < 36 * 3600) return std::to_string(s / 3600) + " h ago";
  return std::to_string(s / 86400) + " days ago";
}

std::string In(std::int64_t when, std::int64_t now) {
  const std::int64_t s = when - now;
  if (s < 90 * 60) return "in " + std::to_string(std::max<std::int64_t>(1, s / 60)) + " min";
  if (s < 36 * 3600) {
    // "in 9 h 51 min": the minutes matter to someone planning their evening.
    const std::int64_t minutes = (s % 3600) / 60;
    return "in " + std::to_string(s / 3600) + " h" + (minutes > 0 ? " " + std::to_string(minutes) + " min" : "");
  }
  return "in " + std::to_string(s / 86400) + " days";
}

int RunStatus(const Cli& cli, bool mark_read) {
  auto zone = CliZone(cli);
  if (!zone.ok()) return Fail(zone.error());
  auto device = OpenDevice(cli);
  if (!device.ok()) return Fail(device.error());
  Device& d = *device.value();
  auto partner = d.partner();
  const bool paired = d.paired() && partner.has_value();
  const bool verified = paired && d.safety_number_verified();
  const std::optional<std::int64_t> ended = d.unpaired_at();
  auto queued = d.store().Outbox();
  if (!queued.ok()) return Fail(queued.error());
  auto refused = d.store().Rejected();
  if (!refused.ok()) return Fail(refused.error());
  auto last_sync = d.store().GetMeta("sync.last");
  std::int64_t last_sync_s = 0;
  if (last_sync.ok() && last_sync.value()) last_sync_s = std::strtoll(last_sync.value()->c_str(), nullptr, 10);
  auto loaded = LoadState(d);
  if (!loaded.ok()) return Fail(loaded.error());
  std::vector<std::string> findings;
  if (paired) {
    auto chains = d.CheckChains(loaded->records);
    if (!chains.ok()) return Fail(chains.error());
    findings = chains->findings;
  }
  const auto& state = loaded->state;
  const std::int64_t now = NowSeconds();
  const std::string who = PartnerLabel(d);
  // Records kept but not shown: against the rules, or from a newer duet.
  std::vector<std::string> unshown;
  for (const auto& r : loaded->records)
    if (!r.verdict.valid()) {
      const bool theirs = r.author_key != d.my_key();
      unshown.push_back(model::DescribeUnshown(r.body, r.verdict, theirs ? who : "you", theirs));
    }
  // And what the partner's device told us it could not show of mine.
  const std::vector<std::string> unread =
      paired ? model::CouldNotReadByPartner(loaded->records, d.my_key(), who) : std::vector<std::string>{};

  // Partner's readiness, the next talk, what waits for me.
  const auto readiness = model::ReadinessAt(state.their_readiness, now);
  const model::TalkView* next = nullptr;
  for (const auto& t : state.talks)
    if (t.state == model::TalkState::kAgreed && t.end() > now && (!next || t.start() < next->start())) next = &t;
  std::vector<std::string> waiting_lines;
  nlohmann::json waiting = nlohmann::json::array();
  for (const auto& t : state.talks) {
    if (t.state != model::TalkState::kProposed || t.mine) continue;
    waiting.push_back({{"kind", "talk"}, {"id", crypto::Hex(t.talk_id)}});
    waiting_lines.push_back("talk " + ShortId(t.talk_id) + ": " + who + " proposed " +
                            std::to_string(t.options.size()) + (t.options.size() == 1 ? " time" : " times") +
                            " (duet talk list)");
  }
  for (const auto& b : state.boundaries) {
    if (b.retired || b.pending < 0 || b.versions[b.pending].author_key == d.my_key()) continue;
    waiting.push_back({{"kind", "boundary"}, {"id", crypto::Hex(b.boundary_id)}});
    waiting_lines.push_back("boundary " + ShortId(b.boundary_id) + ": \"" +
                            ForTerminal(Clip(b.versions[b.pending].text, 60)) + "\" (duet boundary accept " +
                            ShortId(b.boundary_id) + ")");
  }
  // New since I last looked, newest first.
  const News news = CollectNews(d, loaded.value(), zone.value(), /*only_unseen=*/true);
  std::size_t new_checkins = 0, new_thanks = 0;
  for (const auto& n : news.items) {
    new_checkins += n.kind == "checkin";
    new_thanks += n.kind == "thanks";
  }
  const model::ThanksView* latest_thanks = nullptr;
  for (const auto& t : state.thanks)
    if (!t.mine) latest_thanks = &t;
  // Only a person who saw it has read it (a status bar's --json has not).
  if (ShouldMarkRead(cli, mark_read)) MarkNewsRead(d, news);

  if (cli.json) {
    nlohmann::json refused_list = nlohmann::json::array();
    for (const auto& r : refused.value()) refused_list.push_back({{"relay_seq", r.seq}, {"reason", r.reason}});
    nlohmann::json ready;
    if (readiness)
      ready = {{"state", model::ReadinessName(readiness->state)},
               {"until", readiness->until == 0 ? nlohmann::json() : nlohmann::json(readiness->until)},
               {"note", TextOrNull(readiness->note)}};
    nlohmann::json next_talk;
    if (next)
      next_talk = {{"id", crypto::Hex(next->talk_id)}, {"start", next->start()}, {"end", next->end()}, {"place", TextOrNull(next->place)}};
    PrintJson({{"name", d.name()},
               {"partner", paired ? nlohmann::json(partner->name) : nlohmann::json()},
               {"unpaired_at", ended ? nlohmann::json(*ended) : nlohmann::json()},
               {"archive", d.archive()},
               {"verified", verified},
               {"invite_open", !paired && d.pending_invite().has_value()},
               {"partner_readiness", ready},
               {"next_talk", next_talk},
               {"waiting_for_you", waiting},
               {"new", [&] {
                  nlohmann::json items = nlohmann::json::array();
                  for (const auto& n : news.items) items.push_back(NewsJson(n));
                  return items;
                }()},
               {"new_checkins", new_checkins},
               {"new_thanks", new_thanks},
               {"latest_thanks", latest_thanks ? nlohmann::json(latest_thanks->text) : nlohmann::json()},
               {"last_sync", last_sync_s == 0 ? nlohmann::json() : nlohmann::json(last_sync_s)},
               {"queued", queued->size()},
               {"refused", refused_list},
               {"findings", findings},
               {"not_shown", unshown},
               {"not_read_by_partner", unread}});
    return 0;
  }

  const bool color = UseColor();
  auto heading = [&](const std::string& text) {
    return color ? "\033[1m" + text + "\033[0m" : text;
  };
  if (d.archive()) {
    std::printf("an archive of %s & %s, restored with `duet import`: to read (duet checkins, duet talk list, "
                "duet boundary list, duet export); it syncs nothing\n",
                ForTerminal(d.name()).c_str(), who.c_str());
    return 0;
  }
  if (!paired) {
    std::printf("%s\n", d.pending_invite() ? "not paired yet: your invite is open (`duet sync` once your partner joined)"
                                           : "not paired yet: `duet invite`, or `duet join CODE`");
    std::printf("queued: %s\n", Counted(queued->size(), "change", "changes").c_str());
    return 0;
  }
  if (ended) {
    // All that is said of the end: that it came, and when.
    std::printf("%s\n", UnpairedLine(d, zone.value(), *ended).c_str());
    if (!queued->empty())
      std::printf("not sent: %s written before the end\n", Counted(queued->size(), "change", "changes").c_str());
    return 0;
  }
  std::printf("%s\n", heading(ForTerminal(d.name()) + " & " + who + "  (last sync: " +
                              (last_sync_s == 0 ? std::string("never") : Ago(last_sync_s, now) + ", " +
                                                                             model::FormatLocalTime(last_sync_s, zone.value())) +
                              ")").c_str());
  if (readiness) {
    std::string line = who + " said: " + model::ReadinessName(readiness->state);
    if (readiness->until != 0) line += " until " + model::FormatLocalDayTime(readiness->until, zone.value());
    if (!readiness->note.empty()) line += ": \"" + ForTerminal(Clip(readiness->note, 100)) + "\"";
    std::printf("%s\n", line.c_str());
  } else {
    std::printf("%s has not said how ready they are to talk\n", who.c_str());
  }
  if (next) {
    std::string line = "next talk: " + model::FormatLocalDayTime(next->start(), zone.value()) + " (" +
                       (next->start() <= now ? std::string("now") : In(next->start(), now)) + ", " +
                       std::to_string(next->minutes) + " min long)";
    if (!next->place.empty()) line += ", " + ForTerminal(next->place);
    std::printf("%s\n", line.c_str());
  } else {
    std::printf("no talk agreed yet (duet talk suggest)\n");
  }
  if (!waiting_lines.empty()) {
    std::printf("%s\n", heading("waiting for you:").c_str());
    for (const auto& line : waiting_lines) std::printf("  %s\n", line.c_str());
  }
  if (!news.items.empty()) {
    // The newest, and every thanks or shared question however many came
    // after it: those are never folded into a count.
    std::printf("%s\n", heading("new since you last looked:").c_str());
    std::size_t shown = 0;
    for (const auto& n : news.items) {
      if (shown >= kNewShown && !n.keep_visible) continue;
      std::printf("  %s\n", n.text.c_str());
      ++shown;
    }
    if (news.items.size() > shown)
      std::printf("  ... and %zu older (duet news)\n", news.items.size() - shown);
  } else if (latest_thanks) {
    std::printf("latest thanks from %s: \"%s\"\n", who.c_str(), ForTerminal(Clip(latest_thanks->text, 120)).c_str());
  }
  std::printf("partner: %s (safety number %s)\n", who.c_str(),
              verified ? "verified" : "not verified: compare it, then `duet partner verify`");
  std::printf("queued: %s\n", Counted(queued->size(), "change", "changes").c_str());
  if (!refused->empty())
    std::printf("refused: %s from the relay failed verification\n", Counted(refused->size(), "record", "records").c_str());
  if (findings.empty()) std::printf("log: both chains complete and in order\n");
  for (const auto& f : findings) std::printf("log: %s\n", ForTerminal(f).c_str());
  for (const auto& u : unshown) std::printf("not shown: %s\n", ForTerminal(u).c_str());
  for (const auto& u : unread) std::printf("not read: %s\n", ForTerminal(u).c_str());
  return 0;
}

}  // namespace

int RunDashboard(const Cli& cli) { return RunStatus(cli, /*mark_read=*/false); }

void SetupStatus(CLI::App& root, Cli& cli) {
  auto mark_read = std::make_shared<bool>(false);
  auto* sub = root.add_subcommand("status", "the dashboard: partner, next talk, what waits for you, what is new");
  sub->add_flag("--mark-read", *mark_read,
                "mark the news read even when not at a terminal (--json and pipes leave it unread)");
  sub->callback([&cli, mark_read] { cli.run = [&cli, mark_read] { return RunStatus(cli, *mark_read); }; });
}

}  // namespace duet::client::cli
