// duet rekey
#include "client/cli/cli.h"
#include "crypto/crypto.h"

namespace duet::client::cli {
namespace {

int RunRekey(const Cli& cli) {
  auto device = OpenDevice(cli);
  if (!device.ok()) return Fail(device.error());
  auto id = device.value()->Rekey();
  if (!id.ok()) return Fail(id.error());
  if (!cli.json)
    std::printf("new couple key made: records from now on use it, older ones stay readable\n");
  return SyncAfterChange(*device.value(), cli, {{"id", crypto::Hex(id.value())}});
}

}  // namespace

void SetupRekey(CLI::App& root, Cli& cli) {
  auto* sub = root.add_subcommand("rekey", "start a new couple key for the records to come");
  sub->callback([&cli] { cli.run = [&cli] { return RunRekey(cli); }; });
}

}  // namespace duet::client::cli
