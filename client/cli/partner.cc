// duet partner [verify [--yes]]
#include <unistd.h>

#include <iostream>

#include "client/cli/cli.h"
#include "client/pairing.h"

namespace duet::client::cli {
namespace {

// Asks on the terminal; only "y" or "yes" is a yes.
bool AskYes(const std::string& question) {
  std::printf("%s [y/N] ", question.c_str());
  std::fflush(stdout);
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes" || answer == "Yes";
}

int RunPartner(const Cli& cli, bool verify, bool yes) {
  auto device = OpenDevice(cli);
  if (!device.ok()) return Fail(device.error());
  Device& d = *device.value();
  auto partner = d.partner();
  if (!d.paired() || !partner) {
    if (d.pending_invite())
      return Fail(MakeError(ErrorKind::kNotFound,
                            "not paired yet: your invite is open; run `duet sync` once your "
                            "partner has joined"));
    return Fail(MakeError(ErrorKind::kNotFound,
                          "not paired yet; run `duet invite`, or `duet join CODE` with your "
                          "partner's code"));
  }
  const std::string safety = d.safety_number();
  const std::string who = ForTerminal(partner->name);
  const auto ended = d.unpaired_at();
  if (ended && verify) {
    auto zone = CliZone(cli);
    return Fail(MakeError(ErrorKind::kInvalidInput,
                          UnpairedLine(d, zone.ok() ? zone.value() : RecordZone("UTC"), *ended)));
  }
  const bool already = d.safety_number_verified();
  if (verify && !already) {
    // Recording a comparison that never happened would make the check
    // worthless: a person says the numbers match, a script says --yes.
    if (!yes && (cli.json || !::isatty(STDIN_FILENO)))
      return Fail(MakeError(ErrorKind::kInvalidInput,
                            "compare the safety number with " + who +
                                " first; then, from a script, `duet partner verify --yes`"));
    if (!yes) {
      std::printf("safety number: %s\n", safety.c_str());
      if (!AskYes("does " + who + "'s duet show exactly these numbers?")) {
        std::printf("not recorded. If the numbers differ, someone may stand between you: share nothing "
                    "more and pair again (duet invite)\n");
        return 1;
      }
    }
    if (Status saved = d.MarkSafetyNumberVerified(); !saved.ok()) return Fail(saved.error());
  }
  const bool verified = d.safety_number_verified();
  if (cli.json) {
    nlohmann::json devices = nlohmann::json::array();
    for (const auto& dev : d.Devices(false))
      devices.push_back({{"label", dev.label()},
                         {"id", crypto::Hex(dev.sign_key()).substr(0, 8)},
                         {"fingerprint", DeviceFingerprint(dev.sign_key())},
                         {"revoked", Device::Revoked(dev)}});
    PrintJson({{"name", partner->name},
               {"devices", devices},
               {"safety_number", safety},
               {"verified", verified},
               {"unpaired_at", ended ? nlohmann::json(*ended) : nlohmann::json()}});
    return 0;
  }
  if (ended) {
    auto zone = CliZone(cli);
    if (!zone.ok()) return Fail(zone.error());
    std::printf("partner: %s\n%s\n", ForTerminal(partner->name).c_str(), UnpairedLine(d, zone.value(), *ended).c_str());
    return 0;
  }
  if (verify && already) std::printf("already verified: you compared the safety number with %s before\n", who.c_str());
  else if (verify) std::printf("recorded: you and %s compared the safety number in person\n", who.c_str());
  std::printf("partner: %s\n", ForTerminal(partner->name).c_str());
  std::printf("safety number: %s\n", safety.c_str());
  // More than one device: each is listed, so a new one never goes unseen.
  if (const auto devices = d.Devices(false); devices.size() > 1) {
    std::printf("%s's devices:\n", who.c_str());
    for (const auto& dev : devices)
      std::printf("  %s  %-20s fingerprint %s%s\n", crypto::Hex(dev.sign_key()).substr(0, 8).c_str(),
                  ForTerminal(dev.label()).c_str(), DeviceFingerprint(dev.sign_key()).c_str(),
                  Device::Revoked(dev) ? "  revoked" : "");
  }
  if (verified)
    std::printf("verified: you compared it in person\n");
  else
    std::printf("not verified yet: compare it with %s in person, then run `duet partner verify`\n",
                ForTerminal(partner->name).c_str());
  return 0;
}

}  // namespace

void SetupPartner(CLI::App& root, Cli& cli) {
  auto* sub = root.add_subcommand("partner", "show your partner and the safety number");
  auto* verify = sub->add_subcommand(
      "verify", "compare the safety number in person, and record that the numbers matched");
  auto yes = std::make_shared<bool>(false);
  verify->add_flag("--yes", *yes, "they matched: record it without asking (for scripts)");
  sub->require_subcommand(0, 1);
  sub->callback([&cli, verify, yes] {
    const bool verifying = verify->parsed();
    cli.run = [&cli, verifying, yes] { return RunPartner(cli, verifying, *yes); };
  });
}

}  // namespace duet::client::cli
