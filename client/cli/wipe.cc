// duet wipe [--yes]: removes this device's keys and database. Needs no
// passphrase (anyone who can delete the files can delete them anyway); says
// first what only this device holds, and asks.
#include <unistd.h>

#include <iostream>

#include "client/cli/cli.h"
#include "storage/replica_store.h"

namespace duet::client::cli {
namespace {

// What would be lost with the device: records kept only here, and changes
// not yet sent. Counted from the database alone, without the keys.
std::string WhatIsLost(const HomePaths& home) {
  auto store = storage::ReplicaStore::Open(home.database, /*create=*/false);
  if (!store.ok()) return "";
  auto records = store.value()->AllRecords();
  auto outbox = store.value()->Outbox();
  if (!records.ok() || !outbox.ok()) return "";
  std::size_t kept = 0;
  for (const auto& r : records.value()) kept += !r.shared;
  std::string lost;
  // Sealed under the local key, their kinds cannot be told without it.
  if (kept > 0)
    lost += Counted(kept, "record", "records") + (kept == 1 ? " that exists" : " that exist") +
            " only here (kept check-ins and the like)";
  if (!outbox->empty())
    lost += (lost.empty() ? "" : " and ") + Counted(outbox->size(), "change", "changes") + " not yet sent";
  return lost;
}

int RunWipe(const Cli& cli, bool yes) {
  auto home = ResolveHome(cli.home);
  if (!home.ok()) return Fail(home.error());
  if (::access(home->key_file.c_str(), F_OK) != 0 && ::access(home->database.c_str(), F_OK) != 0)
    return Fail(MakeError(ErrorKind::kNotFound, "there is no duet device at " + home->key_dir + " to wipe"));
  const std::string lost = WhatIsLost(home.value());
  if (!yes) {
    if (cli.json || !::isatty(STDIN_FILENO))
      return Fail(MakeError(ErrorKind::kInvalidInput,
                            "wipe deletes this device's keys and everything it holds; add --yes to confirm"));
    std::printf("this deletes this device's keys and every record it holds (%s)%s.\n"
                "Your partner keeps what you shared. Type wipe to go ahead: ",
                home->key_dir.c_str(), lost.empty() ? "" : (", with " + lost).c_str());
    std::fflush(stdout);
    std::string answer;
    if (!std::getline(std::cin, answer) || answer != "wipe") {
      std::printf("nothing was deleted\n");
      return 1;
    }
  }
  if (Status wiped = WipeHome(home.value()); !wiped.ok()) return Fail(wiped.error());
  if (cli.json)
    PrintJson({{"wiped", home->key_dir}, {"lost", TextOrNull(lost)}});
  else
    std::printf("wiped: the keys were overwritten and deleted, and the database deleted%s. Your partner keeps "
                "what you shared; to start again: duet init\n",
                lost.empty() ? "" : (", with " + lost).c_str());
  return 0;
}

}  // namespace

void SetupWipe(CLI::App& root, Cli& cli) {
  auto yes = std::make_shared<bool>(false);
  auto* sub = root.add_subcommand("wipe", "delete this device's keys and everything it holds");
  sub->add_flag("--yes", *yes, "do not ask (for scripts)");
  sub->callback([&cli, yes] { cli.run = [&cli, yes] { return RunWipe(cli, *yes); }; });
}

}  // namespace duet::client::cli
