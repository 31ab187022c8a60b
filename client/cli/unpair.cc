// duet unpair [--yes]: ends the pairing, from either side, without the
// other's consent (docs/protocol.md §4, Unpair). What was written before is
// sent and fetched first; then nothing new flows either way, both keep what
// they can read, and the partner learns only that it ended, and when.
#include <unistd.h>

#include <iostream>

#include "client/cli/cli.h"

namespace duet::client::cli {
namespace {

int RunUnpair(const Cli& cli, bool yes) {
  auto zone = CliZone(cli);
  if (!zone.ok()) return Fail(zone.error());
  auto device = OpenDevice(cli);
  if (!device.ok()) return Fail(device.error());
  Device& d = *device.value();
  if (auto ended = d.unpaired_at())
    return Fail(MakeError(ErrorKind::kInvalidInput, UnpairedLine(d, zone.value(), *ended)));
  if (!d.paired()) return Fail(NotPairedYet(d, "there is no pairing to end"));
  const std::string who = PartnerLabel(d);
  if (!yes) {
    if (cli.json || !::isatty(STDIN_FILENO))
      return Fail(MakeError(ErrorKind::kInvalidInput, "unpairing cannot be undone; add --yes to confirm"));
    std::printf("end your pairing with %s? Nothing new will flow either way; you both keep what you can read "
                "now, and %s sees only that you are unpaired and since when. This cannot be undone. [y/N] ",
                who.c_str(), who.c_str());
    std::fflush(stdout);
    std::string answer;
    if (!std::getline(std::cin, answer) || (answer != "y" && answer != "yes")) {
      std::printf("nothing changed\n");
      return 1;
    }
  }
  auto ended = Unpair(d);
  if (!ended.ok()) {
    if (ended.error().kind == ErrorKind::kNetwork)
      return Fail(MakeError(ErrorKind::kNetwork, ended.error().message +
                                                     "; the relay must hear of it: run `duet unpair` again when "
                                                     "it can be reached"));
    return Fail(ended.error());
  }
  if (cli.json) {
    PrintJson({{"unpaired_at", ended->ended_at}, {"partner_first", ended->partner_first}});
    return 0;
  }
  std::printf("%s\n", UnpairedLine(d, zone.value(), ended->ended_at).c_str());
  std::printf("to pair again, start a new home: duet export --out FILE keeps a copy, then duet wipe and duet init\n");
  return 0;
}

}  // namespace

void SetupUnpair(CLI::App& root, Cli& cli) {
  auto yes = std::make_shared<bool>(false);
  auto* sub = root.add_subcommand("unpair", "end the pairing, from either side; both keep what they can read");
  sub->add_flag("--yes", *yes, "do not ask (for scripts)");
  sub->callback([&cli, yes] { cli.run = [&cli, yes] { return RunUnpair(cli, *yes); }; });
}

}  // namespace duet::client::cli
