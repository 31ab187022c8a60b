// duet partner [verify]
#include "client/cli/cli.h"

namespace duet::client::cli {
namespace {

int RunPartner(const Cli& cli, bool verify) {
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
  if (verify) {
    if (Status saved = d.MarkSafetyNumberVerified(); !saved.ok()) return Fail(saved.error());
  }
  const bool verified = d.safety_number_verified();
  if (cli.json) {
    PrintJson({{"name", partner->name}, {"safety_number", safety}, {"verified", verified}});
    return 0;
  }
  if (verify) std::printf("recorded: you and %s compared the safety number in person\n", ForTerminal(partner->name).c_str());
  std::printf("partner: %s\n", ForTerminal(partner->name).c_str());
  std::printf("safety number: %s\n", safety.c_str());
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
      "verify", "record that the two of you compared the safety number in person");
  sub->require_subcommand(0, 1);
  sub->callback([&cli, verify] {
    const bool verifying = verify->parsed();
    cli.run = [&cli, verifying] { return RunPartner(cli, verifying); };
  });
}

}  // namespace duet::client::cli
