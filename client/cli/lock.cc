// duet lock
#include "client/cli/cli.h"
#include "crypto/crypto.h"

namespace duet::client::cli {
namespace {

int RunLock(const Cli& cli) {
  auto device = OpenDevice(cli);
  if (!device.ok()) return Fail(device.error());
  if (device.value()->locked())
    return Fail(MakeError(ErrorKind::kInvalidInput, "the key file is locked already"));
  auto passphrase = NewPassphrase();
  if (!passphrase.ok()) return Fail(passphrase.error());
  Status locked = device.value()->Lock(passphrase.value());
  crypto::WipeString(passphrase.value());
  if (!locked.ok()) return Fail(locked.error());
  if (cli.json)
    PrintJson({{"locked", true}});
  else
    std::printf("key file locked: duet asks for the passphrase (or reads DUET_PASSPHRASE) from now on\n");
  return 0;
}

}  // namespace

void SetupLock(CLI::App& root, Cli& cli) {
  auto* sub = root.add_subcommand("lock", "seal this device's key file with a passphrase");
  sub->callback([&cli] { cli.run = [&cli] { return RunLock(cli); }; });
}

}  // namespace duet::client::cli
