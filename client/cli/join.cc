// duet join CODE
#include "client/cli/cli.h"

namespace duet::client::cli {
namespace {

int RunJoin(const Cli& cli, const std::string& code) {
  auto device = OpenDevice(cli);
  if (!device.ok()) return Fail(device.error());
  auto joined = JoinInvite(*device.value(), code);
  if (!joined.ok()) return Fail(joined.error());
  if (cli.json) {
    PrintJson({{"partner", joined->partner_name},
               {"safety_number", joined->safety_number},
               {"verified", false}});
    return 0;
  }
  std::printf("paired with %s\n", ForTerminal(joined->partner_name).c_str());
  std::printf("safety number: %s\n", joined->safety_number.c_str());
  std::printf("compare it with %s in person: it must be the same on both devices\n",
              ForTerminal(joined->partner_name).c_str());
  return 0;
}

}  // namespace

void SetupJoin(CLI::App& root, Cli& cli) {
  auto code = std::make_shared<std::string>();
  auto* sub = root.add_subcommand("join", "pair with the partner who gave you an invite code");
  sub->add_option("code", *code, "the invite code (starts with duet1-)")->required();
  sub->callback([&cli, code] { cli.run = [&cli, code] { return RunJoin(cli, *code); }; });
}

}  // namespace duet::client::cli
