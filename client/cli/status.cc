// duet status: what this device knows, without waiting for the network.
#include "client/cli/cli.h"

namespace duet::client::cli {
namespace {

int RunStatus(const Cli& cli) {
  auto device = OpenDevice(cli);
  if (!device.ok()) return Fail(device.error());
  Device& d = *device.value();
  auto partner = d.partner();
  const bool paired = d.paired() && partner.has_value();
  const bool verified = paired && d.safety_number_verified();
  auto queued = d.store().Outbox();
  if (!queued.ok()) return Fail(queued.error());
  auto refused = d.store().Rejected();
  if (!refused.ok()) return Fail(refused.error());
  auto last_sync = d.store().GetMeta("sync.last");
  std::int64_t last_sync_s = 0;
  if (last_sync.ok() && last_sync.value()) last_sync_s = std::strtoll(last_sync.value()->c_str(), nullptr, 10);
  std::vector<std::string> findings;
  if (paired) {
    auto chains = d.CheckChains();
    if (!chains.ok()) return Fail(chains.error());
    findings = chains->findings;
  }

  if (cli.json) {
    nlohmann::json refused_list = nlohmann::json::array();
    for (const auto& r : refused.value())
      refused_list.push_back({{"relay_seq", r.seq}, {"reason", r.reason}});
    PrintJson({{"name", d.name()},
               {"partner", paired ? nlohmann::json(partner->name) : nlohmann::json()},
               {"verified", verified},
               {"invite_open", !paired && d.pending_invite().has_value()},
               {"last_sync", last_sync_s == 0 ? nlohmann::json() : nlohmann::json(last_sync_s)},
               {"queued", queued->size()},
               {"refused", refused_list},
               {"findings", findings}});
    return 0;
  }
  if (!paired) {
    std::printf("%s\n", d.pending_invite() ? "not paired yet: your invite is open (`duet sync` once your partner joined)"
                                           : "not paired yet: `duet invite`, or `duet join CODE`");
  } else {
    std::printf("partner: %s (safety number %s)\n", ForTerminal(partner->name).c_str(),
                verified ? "verified" : "not verified: compare it, then `duet partner verify`");
  }
  std::printf("last sync: %s\n", last_sync_s == 0 ? "never" : FormatLocalTime(last_sync_s * 1000).c_str());
  std::printf("queued: %zu change(s)\n", queued->size());
  if (!refused->empty())
    std::printf("refused: %zu record(s) from the relay failed verification\n", refused->size());
  if (paired) {
    if (findings.empty()) std::printf("log: both chains complete and in order\n");
    for (const auto& f : findings) std::printf("log: %s\n", ForTerminal(f).c_str());
  }
  return 0;
}

}  // namespace

void SetupStatus(CLI::App& root, Cli& cli) {
  auto* sub = root.add_subcommand("status", "this device's state: partner, queue, log checks");
  sub->callback([&cli] { cli.run = [&cli] { return RunStatus(cli); }; });
}

}  // namespace duet::client::cli
