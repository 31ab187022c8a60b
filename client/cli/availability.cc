// duet availability add WINDOW | busy DAY[ HH:MM-HH:MM] | list | remove ID
//
// Windows are weekly, in the author's own zone (--tz, TZ or the system's),
// and synced to the partner, who sees them in that zone.
#include "client/cli/cli.h"
#include "client/model/timeplan.h"
#include "crypto/crypto.h"

namespace duet::client::cli {
namespace {

struct AvailabilityOptions {
  std::string text;
  std::string id;
};

// Adds a record, says so, and syncs it.
int AddAndSync(Device& d, const Cli& cli, const model::v1::RecordBody& body,
               const std::string& what) {
  return ShareAndSync(d, cli, body, what + ", shared with " + PartnerLabel(d), /*show_id=*/true);
}

Result<std::unique_ptr<Device>> OpenPaired(const Cli& cli) {
  auto device = OpenDevice(cli);
  if (!device.ok()) return device;
  if (!PairedNow(*device.value()))
    return NotPairedYet(*device.value(), "availability is shared with your partner");
  return device;
}

int RunAdd(const Cli& cli, const AvailabilityOptions& options) {
  auto window = model::ParseWeeklyWindow(options.text);
  if (!window.ok()) return Fail(window.error());
  auto zone = CliZone(cli);
  if (!zone.ok()) return Fail(zone.error());
  auto device = OpenPaired(cli);
  if (!device.ok()) return Fail(device.error());
  model::v1::RecordBody body;
  auto* w = body.mutable_availability();
  w->set_weekdays(window->weekdays);
  w->set_start_minute(window->start_minute);
  w->set_end_minute(window->end_minute);
  w->set_time_zone(model::ZoneName(zone.value()));
  return AddAndSync(*device.value(), cli, body,
                    "available " + model::FormatWeeklyWindow(window.value()) + " (" +
                        model::ZoneName(zone.value()) + ")");
}

int RunBusy(const Cli& cli, const AvailabilityOptions& options) {
  auto span = model::ParseLocalSpan(options.text);
  if (!span.ok()) return Fail(span.error());
  auto zone = CliZone(cli);
  if (!zone.ok()) return Fail(zone.error());
  const model::Interval when = model::SpanToInterval(span.value(), zone.value());
  if (when.end <= NowSeconds())
    return Fail(MakeError(ErrorKind::kInvalidInput,
                          "'" + options.text + "' is over already; give a day or time to come"));
  auto device = OpenPaired(cli);
  if (!device.ok()) return Fail(device.error());
  model::v1::RecordBody body;
  auto* b = body.mutable_busy();
  char date[16];
  std::snprintf(date, sizeof date, "%04d-%02u-%02u", span->year, span->month, span->day);
  b->set_date(date);
  b->set_start_minute(span->start_minute);
  b->set_end_minute(span->end_minute);
  b->set_time_zone(model::ZoneName(zone.value()));
  return AddAndSync(*device.value(), cli, body,
                    "busy " + model::FormatLocalSpan(span.value()) + " (" +
                        model::ZoneName(zone.value()) + ")");
}

int RunRemove(const Cli& cli, const AvailabilityOptions& options) {
  auto device = OpenPaired(cli);
  if (!device.ok()) return Fail(device.error());
  Device& d = *device.value();
  auto loaded = LoadState(d);
  if (!loaded.ok()) return Fail(loaded.error());
  const auto& state = loaded->state;
  std::vector<std::string> ids;
  for (const auto& w : state.windows) ids.push_back(w.record_id);
  for (const auto& b : state.busy) ids.push_back(b.record_id);
  auto id = ResolveId(options.id, ids, "window or busy time", "duet availability list");
  if (!id.ok()) return Fail(id.error());
  // What is removed, in the words it was added with: the id means nothing
  // to a person.
  bool mine = false;
  std::string what;
  for (const auto& w : state.windows)
    if (w.record_id == id.value()) {
      mine = w.mine;
      what = "your window " + model::FormatWeeklyWindow(w.window) + " (" + w.time_zone + ")";
    }
  for (const auto& b : state.busy)
    if (b.record_id == id.value()) {
      mine = b.mine;
      what = "your busy time " + model::FormatLocalSpan(b.span) + " (" + b.time_zone + ")";
    }
  if (!mine)
    return Fail(MakeError(ErrorKind::kInvalidInput,
                          ShortId(id.value()) + " is " + PartnerLabel(d) +
                              "'s; only they can remove it"));
  model::v1::RecordBody body;
  body.mutable_withdraw()->set_target_id(id.value());
  return ShareAndSync(d, cli, body, "removed " + ForTerminal(what) + ", for " + PartnerLabel(d) + " too",
                      /*show_id=*/false);
}

int RunListAvailability(const Cli& cli) {
  auto device = OpenDevice(cli);
  if (!device.ok()) return Fail(device.error());
  Device& d = *device.value();
  auto loaded = LoadState(d);
  if (!loaded.ok()) return Fail(loaded.error());
  const auto& state = loaded->state;
  const std::string me = d.name();
  const std::string partner = d.partner() ? d.partner()->name : "partner";
  if (cli.json) {
    nlohmann::json windows = nlohmann::json::array();
    for (const auto& w : state.windows)
      windows.push_back({{"id", crypto::Hex(w.record_id)},
                         {"author", w.mine ? me : partner},
                         {"mine", w.mine},
                         {"window", model::FormatWeeklyWindow(w.window)},
                         {"weekdays", w.window.weekdays},
                         {"start_minute", w.window.start_minute},
                         {"end_minute", w.window.end_minute},
                         {"time_zone", w.time_zone}});
    nlohmann::json busy = nlohmann::json::array();
    for (const auto& b : state.busy)
      busy.push_back({{"id", crypto::Hex(b.record_id)},
                      {"author", b.mine ? me : partner},
                      {"mine", b.mine},
                      {"busy", model::FormatLocalSpan(b.span)},
                      {"time_zone", b.time_zone}});
    PrintJson({{"windows", windows}, {"busy", busy}});
    return 0;
  }
  if (state.windows.empty() && state.busy.empty()) {
    std::printf("no availability shared yet; add yours: duet availability add \"mon-fri 19:00-21:00\"\n");
    return 0;
  }
  for (bool mine : {true, false}) {
    const std::string who = mine ? ForTerminal(me) + " (you)" : ForTerminal(partner);
    std::printf("%s:\n", who.c_str());
    bool any = false;
    for (const auto& w : state.windows) {
      if (w.mine != mine) continue;
      any = true;
      std::printf("  %s  available %s (%s)\n", ShortId(w.record_id).c_str(),
                  model::FormatWeeklyWindow(w.window).c_str(), ForTerminal(w.time_zone).c_str());
    }
    for (const auto& b : state.busy) {
      if (b.mine != mine) continue;
      any = true;
      std::printf("  %s  busy %s (%s)\n", ShortId(b.record_id).c_str(),
                  model::FormatLocalSpan(b.span).c_str(), ForTerminal(b.time_zone).c_str());
    }
    if (!any) std::printf("  nothing shared yet\n");
  }
  return 0;
}

}  // namespace

void SetupAvailability(CLI::App& root, Cli& cli) {
  auto options = std::make_shared<AvailabilityOptions>();
  auto* sub = root.add_subcommand("availability", "when you are free to talk, week by week");
  sub->require_subcommand(1);
  auto* add = sub->add_subcommand("add", "add a weekly window, e.g. \"mon-fri 19:00-21:00\"");
  add->add_option("window", options->text, "days and times, in your time zone")->required();
  add->callback([&cli, options] { cli.run = [&cli, options] { return RunAdd(cli, *options); }; });
  auto* busy = sub->add_subcommand("busy", "mark a day (2026-12-24) or part of one (\"2026-12-24 14:00-16:00\") busy");
  busy->add_option("when", options->text, "a date, or a date and times")->required();
  busy->callback([&cli, options] { cli.run = [&cli, options] { return RunBusy(cli, *options); }; });
  auto* list = sub->add_subcommand("list", "your windows and your partner's");
  list->callback([&cli] { cli.run = [&cli] { return RunListAvailability(cli); }; });
  auto* remove = sub->add_subcommand("remove", "remove one of your windows or busy times");
  remove->add_option("id", options->id, "its id, as `duet availability list` shows it")->required();
  remove->callback([&cli, options] { cli.run = [&cli, options] { return RunRemove(cli, *options); }; });
}

}  // namespace duet::client::cli
