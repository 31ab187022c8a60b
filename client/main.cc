// duet: the client. One table of commands, as wg has; each lives in cli/.
#include <cstdio>

#include "client/cli/cli.h"
#include "crypto/crypto.h"

namespace {

constexpr duet::client::cli::CommandSetup kCommands[] = {
    duet::client::cli::SetupInit,     duet::client::cli::SetupInvite,
    duet::client::cli::SetupJoin,     duet::client::cli::SetupPartner,
    duet::client::cli::SetupCheckin,  duet::client::cli::SetupCheckins,
    duet::client::cli::SetupSync,
};

}  // namespace

int main(int argc, char** argv) {
  if (!duet::crypto::Init()) {
    std::fprintf(stderr, "duet: libsodium could not start\n");
    return 2;
  }
  duet::client::cli::Cli cli;
  CLI::App app{"duet: check-ins, boundaries and talk times, shared end-to-end encrypted with your partner"};
  app.set_help_all_flag("--help-all", "show help for every command");
  app.add_option("--home", cli.home, "folder for this device's keys and data (or DUET_HOME)");
  app.add_flag("--json", cli.json, "machine-readable output");
  app.require_subcommand(1);
  app.fallthrough();  // --home and --json may come after the command too
  for (auto setup : kCommands) setup(app, cli);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    std::string message = e.what();
    if (message.find('\n') != std::string::npos) message = message.substr(0, message.find('\n'));
    if (message.rfind("A subcommand is required", 0) == 0 || message.find("subcommand") != std::string::npos)
      message = "no command given";
    std::fprintf(stderr, "duet: %s\nhint: `duet --help` lists the commands\n", message.c_str());
    return 2;
  }
  return cli.run ? cli.run() : 2;
}
