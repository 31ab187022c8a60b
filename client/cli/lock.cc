// duet lock, duet unlock [--for 8h], duet passphrase change|remove: the
// passphrase that seals this device's key file, and how long a login
// session may keep it open (client/key_cache.h).
#include "client/cli/cli.h"
#include "client/key_cache.h"
#include "client/model/timeplan.h"
#include "crypto/crypto.h"

namespace duet::client::cli {
namespace {

constexpr std::int64_t kLongestUnlock = 7 * 86400;

Result<HomePaths> Home(const Cli& cli) { return ResolveHome(cli.home); }

// Opens a device whose key file has a passphrase, with the passphrase
// itself, never a remembered key: who changes the passphrase or keeps the
// file open must know it. `no_passphrase` is the error for a file without.
Result<std::unique_ptr<Device>> OpenWithPassphrase(const HomePaths& home, const std::string& no_passphrase) {
  auto locked = KeyFileLocked(home.key_file);
  if (!locked.ok()) return locked.error();
  if (!locked.value()) return MakeError(ErrorKind::kInvalidInput, no_passphrase);
  auto device = Device::Open(home, [] { return ReadPassphrase(); });
  // Its passphrase may have been removed a moment ago, by another duet.
  if (device.ok() && !device.value()->locked()) return MakeError(ErrorKind::kInvalidInput, no_passphrase);
  return device;
}

int RunLock(const Cli& cli) {
  auto home = Home(cli);
  if (!home.ok()) return Fail(home.error());
  auto locked = KeyFileLocked(home->key_file);
  if (!locked.ok()) return Fail(locked.error());
  if (locked.value()) {
    // Locked already: lock it now for this login session too.
    const bool forgot = ForgetUnlockedKey(home->key_file);
    if (cli.json)
      PrintJson({{"locked", true}, {"was_unlocked", forgot}});
    else
      std::printf("%s\n", forgot ? "locked: duet asks for the passphrase again (`duet unlock` to keep it open)"
                                 : "locked already: duet asks for the passphrase");
    return 0;
  }
  auto device = OpenDevice(cli);
  if (!device.ok()) return Fail(device.error());
  auto passphrase = NewPassphrase(device.value()->name());
  if (!passphrase.ok()) return Fail(passphrase.error());
  Status sealed = device.value()->Lock(passphrase.value());
  crypto::WipeString(passphrase.value());
  if (!sealed.ok()) return Fail(sealed.error());
  if (cli.json)
    PrintJson({{"locked", true}, {"was_unlocked", false}});
  else
    std::printf("key file locked: duet asks for the passphrase (or reads DUET_PASSPHRASE) from now on; "
                "`duet unlock` keeps it open for a while\n");
  return 0;
}

int RunUnlock(const Cli& cli, const std::string& for_text) {
  auto zone = CliZone(cli);
  if (!zone.ok()) return Fail(zone.error());
  const auto seconds = ParseDuration(for_text);
  if (!seconds || *seconds < 60 || *seconds > kLongestUnlock)
    return Fail(MakeError(ErrorKind::kInvalidInput, "--for '" + for_text +
                                                        "' is not a time from 1m to 7d (for example 30m, 8h, 2d)"));
  auto home = Home(cli);
  if (!home.ok()) return Fail(home.error());
  auto device = OpenWithPassphrase(
      home.value(), "this device has no passphrase, so there is nothing to unlock (`duet lock` sets one)");
  if (!device.ok()) return Fail(device.error());
  const std::int64_t now = NowSeconds();
  Status kept = RememberUnlockedKey(home->key_file, *device.value()->keys().lock, std::chrono::seconds(*seconds), now);
  if (!kept.ok()) return Fail(kept.error());
  const std::int64_t until = now + *seconds;
  if (cli.json)
    PrintJson({{"unlocked_until", until}});
  else
    std::printf("unlocked until %s: duet does not ask for the passphrase in this login session until then, "
                "or until `duet lock`\n",
                model::FormatLocalDayTime(until, zone.value()).c_str());
  return 0;
}

int RunChange(const Cli& cli, bool remove) {
  auto home = Home(cli);
  if (!home.ok()) return Fail(home.error());
  auto device = OpenWithPassphrase(home.value(), "this device has no passphrase to " +
                                                     std::string(remove ? "remove" : "change") +
                                                     " (`duet lock` sets one)");
  if (!device.ok()) return Fail(device.error());
  std::optional<std::string> passphrase;
  if (!remove) {
    auto chosen = NewPassphrase(device.value()->name(), "DUET_NEW_PASSPHRASE");
    if (!chosen.ok()) return Fail(chosen.error());
    passphrase = std::move(chosen).value();
  }
  Status changed = device.value()->ChangePassphrase(passphrase);
  if (passphrase) crypto::WipeString(*passphrase);
  if (!changed.ok()) return Fail(changed.error());
  // A key kept for the old passphrase opens nothing now; drop it at once.
  ForgetUnlockedKey(home->key_file);
  if (cli.json)
    PrintJson({{"locked", !remove}});
  else if (remove)
    std::printf("passphrase removed: the key file opens without one, so anyone who can read your files can "
                "read what duet holds (`duet lock` sets a passphrase again)\n");
  else
    std::printf("passphrase changed: the old one no longer opens the key file\n");
  return 0;
}

}  // namespace

void SetupLock(CLI::App& root, Cli& cli) {
  auto* lock = root.add_subcommand(
      "lock", "seal this device's key file with a passphrase; if it has one, forget `duet unlock`");
  lock->callback([&cli] { cli.run = [&cli] { return RunLock(cli); }; });

  auto for_text = std::make_shared<std::string>("8h");
  auto* unlock = root.add_subcommand(
      "unlock", "keep the key file open for this login session, so duet stops asking for the passphrase");
  unlock->add_option("--for", *for_text, "how long: 30m, 8h (the default), 2d; at most 7d");
  unlock->callback([&cli, for_text] { cli.run = [&cli, for_text] { return RunUnlock(cli, *for_text); }; });

  auto* passphrase = root.add_subcommand("passphrase", "change or remove the key file's passphrase");
  passphrase->require_subcommand(1);
  passphrase
      ->add_subcommand("change", "seal the key file with a new passphrase (scripts: DUET_PASSPHRASE, then "
                                 "DUET_NEW_PASSPHRASE)")
      ->callback([&cli] { cli.run = [&cli] { return RunChange(cli, /*remove=*/false); }; });
  passphrase->add_subcommand("remove", "keep the key file without a passphrase")
      ->callback([&cli] { cli.run = [&cli] { return RunChange(cli, /*remove=*/true); }; });
}

}  // namespace duet::client::cli
