// duet partner
#include "client/cli/cli.h"

namespace duet::client::cli {
namespace {

int RunPartner(const Cli& cli) {
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
  const std::string safety = SafetyNumber(d.my_key(), partner->sign_key);
  if (cli.json) {
    PrintJson({{"name", partner->name}, {"safety_number", safety}, {"verified", false}});
    return 0;
  }
  std::printf("partner: %s\n", partner->name.c_str());
  std::printf("safety number: %s\n", safety.c_str());
  std::printf("not verified yet: compare it with %s in person\n", partner->name.c_str());
  return 0;
}

}  // namespace

void SetupPartner(CLI::App& root, Cli& cli) {
  auto* sub = root.add_subcommand("partner", "show your partner and the safety number");
  sub->callback([&cli] { cli.run = [&cli] { return RunPartner(cli); }; });
}

}  // namespace duet::client::cli
