// duet sync
#include "client/cli/cli.h"

namespace duet::client::cli {
namespace {

int RunSync(const Cli& cli) {
  auto device = OpenDevice(cli);
  if (!device.ok()) return Fail(device.error());
  Device& d = *device.value();
  auto report = Sync(d);
  if (!report.ok()) {
    auto queued = d.store().Outbox();
    std::string tail;
    if (queued.ok() && !queued->empty())
      tail = "; " + Counted(queued->size(), "change stays", "changes stay") + " queued";
    return Fail(MakeError(report.error().kind, report.error().message + tail));
  }
  for (const auto& warning : report->warnings) Warn(ForTerminal(warning));
  if (report->unpaired_at) {
    if (cli.json) {
      PrintJson({{"sent", 0}, {"received", report->pulled}, {"unpaired_at", *report->unpaired_at}});
    } else {
      auto zone = CliZone(cli);
      if (!zone.ok()) return Fail(zone.error());
      std::printf("%s\n", UnpairedLine(d, zone.value(), *report->unpaired_at).c_str());
    }
    return 0;
  }
  if (report->revoked_at) {
    if (cli.json) {
      PrintJson({{"sent", report->pushed}, {"received", report->pulled}, {"revoked_at", *report->revoked_at}});
    } else {
      std::printf("another device of yours revoked this one: it keeps what it has and syncs nothing more; to use "
                  "duet here again: duet wipe, duet init, then duet device join with a new code\n");
    }
    return 0;
  }
  std::optional<std::string> safety;
  if (report->paired_with && d.partner())
    safety = d.safety_number();
  if (cli.json) {
    PrintJson({{"sent", report->pushed},
               {"received", report->pulled},
               {"refused", report->refused},
               {"paired_with", report->paired_with ? nlohmann::json(*report->paired_with)
                                                   : nlohmann::json()},
               {"waiting_for_partner", report->waiting_for_partner},
               {"waiting_for_device", report->waiting_for_device},
               {"linked_device", report->linked_device ? nlohmann::json(*report->linked_device) : nlohmann::json()},
               {"relay_rolled_back", report->relay_rolled_back},
               {"held_back", report->held_back ? nlohmann::json(*report->held_back)
                                               : nlohmann::json()},
               {"unpaired_at", nullptr}});
  } else {
    if (report->paired_with) {
      std::printf("paired with %s\n", ForTerminal(*report->paired_with).c_str());
      std::printf("safety number: %s\n", safety->c_str());
      std::printf("compare it with %s in person: it must be the same on both devices\n",
                  ForTerminal(*report->paired_with).c_str());
    }
    if (report->linked) std::printf("this device is %s's now; it has the keys and the history\n", ForTerminal(d.name()).c_str());
    if (report->linked_device)
      std::printf("linked your device '%s': it has the keys now\n", ForTerminal(*report->linked_device).c_str());
    if (report->relay_rolled_back)
      std::printf("not synced: the relay is behind this device\n");
    else if (report->waiting_for_device)
      std::printf("waiting for your other device to send the keys: run `duet sync` there, then here again\n");
    else if (report->waiting_for_partner)
      std::printf("your invite is open; waiting for your partner to join\n");
    else if (report->not_paired)
      std::printf("not paired yet; run `duet invite`, or `duet join CODE` with your partner's code\n");
    else if (report->held_back)
      std::printf("synced: sent %zu, received %zu; %s\n", report->pushed, report->pulled,
                  ForTerminal(*report->held_back).c_str());
    else
      std::printf("synced: sent %zu, received %zu\n", report->pushed, report->pulled);
  }
  // A quota needs the relay's owner, so a script is told; pacing passes.
  return report->refused == 0 && !report->relay_rolled_back && report->new_chain_findings == 0 &&
                 !report->over_quota
             ? 0
             : 1;
}

}  // namespace

void SetupSync(CLI::App& root, Cli& cli) {
  auto* sub = root.add_subcommand("sync", "send what is queued and fetch what is new");
  sub->callback([&cli] { cli.run = [&cli] { return RunSync(cli); }; });
}

}  // namespace duet::client::cli
