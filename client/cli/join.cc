// duet join CODE [--name NAME]
#include <unistd.h>

#include "client/cli/cli.h"
#include "client/pairing.h"

namespace duet::client::cli {
namespace {

// `duet join CODE --name NAME` on a fresh home: the code names the relay and
// its key, so the joiner need not run `duet init` with them first.
Status SetUpFromCode(const Cli& cli, const std::string& code_text, const std::string& name) {
  if (auto problem = NameProblem(name); !problem.empty())
    return MakeError(ErrorKind::kInvalidInput, "--name " + problem);
  auto code = ParseInviteCode(code_text);
  if (!code.ok()) return code.error();
  auto relays = net::ParseEndpoints(code->relay_address);
  if (!relays.ok())
    return MakeError(ErrorKind::kInvalidInput, "malformed invite code: its relay address is not valid");
  auto home = ResolveHome(cli.home);
  if (!home.ok()) return home.error();
  if (::access(home->key_file.c_str(), F_OK) == 0)
    return MakeError(ErrorKind::kInvalidInput,
                     "this device is set up already; leave out --name (or use another --home)");
  auto device = Device::Create(home.value(), name, relays.value(), code->relay_key);
  if (!device.ok()) return device.error();
  return Status::Ok();
}

int RunJoin(const Cli& cli, const std::string& code, const std::string& name) {
  if (!name.empty())
    if (auto set_up = SetUpFromCode(cli, code, name); !set_up.ok()) return Fail(set_up.error());
  if (auto home = ResolveHome(cli.home); home.ok() && ::access(home->key_file.c_str(), F_OK) != 0)
    return Fail(MakeError(ErrorKind::kNotFound,
                          "this device is not set up yet: run `duet join CODE --name YOUR-NAME`"));
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
  auto name = std::make_shared<std::string>();
  auto* sub = root.add_subcommand("join", "pair with the partner who gave you an invite code");
  sub->add_option("code", *code, "the invite code (starts with duet1-)")->required();
  sub->add_option("--name", *name,
                  "on a device not set up yet: how your partner will see you (the code names the relay)");
  sub->callback([&cli, code, name] { cli.run = [&cli, code, name] { return RunJoin(cli, *code, *name); }; });
}

}  // namespace duet::client::cli
