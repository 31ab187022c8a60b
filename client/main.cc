// duet: the client. One table of commands, as wg has; each lives in cli/.
#include <cstdio>
#include <string>

#include "client/cli/cli.h"
#include "crypto/crypto.h"
#include "proto/protobuf_log.h"

namespace {

constexpr duet::client::cli::CommandSetup kCommands[] = {
    duet::client::cli::SetupInit,     duet::client::cli::SetupInvite,
    duet::client::cli::SetupJoin,     duet::client::cli::SetupPartner,
    duet::client::cli::SetupDevice,
    duet::client::cli::SetupCheckin,  duet::client::cli::SetupCheckins,
    duet::client::cli::SetupShare,    duet::client::cli::SetupOpen,     duet::client::cli::SetupDelete,
    duet::client::cli::SetupSync,     duet::client::cli::SetupLock,
    duet::client::cli::SetupStatus,   duet::client::cli::SetupRekey,
    duet::client::cli::SetupAvailability, duet::client::cli::SetupTalk,
    duet::client::cli::SetupWatch,    duet::client::cli::SetupBoundary,
    duet::client::cli::SetupReady,    duet::client::cli::SetupThanks,
    duet::client::cli::SetupPrompt,   duet::client::cli::SetupHistory,
    duet::client::cli::SetupRecap,
    duet::client::cli::SetupRelay,    duet::client::cli::SetupNews,
    duet::client::cli::SetupExport,   duet::client::cli::SetupWipe,
    duet::client::cli::SetupUnpair,   duet::client::cli::SetupImport,
    duet::client::cli::SetupHelp,
    duet::client::cli::SetupCompletion,
};

// The first argument that is not a global option: what the user meant as
// the command.
std::string FirstWord(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--home" || arg == "--tz") {
      ++i;
      continue;
    }
    if (arg.rfind("--home=", 0) == 0 || arg.rfind("--tz=", 0) == 0 || arg == "--json") continue;
    return arg;
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  duet::proto::RouteProtobufLog("duet");
  if (!duet::crypto::Init()) {
    std::fprintf(stderr, "duet: libsodium could not start\n");
    return 2;
  }
  duet::client::cli::Cli cli;
  CLI::App app{"duet: check-ins, boundaries and talk times, shared end-to-end encrypted with your partner", "duet"};
  app.set_help_all_flag("--help-all", "show help for every command");
  app.add_option("--home", cli.home, "folder for this device's keys and data (or DUET_HOME)");
  app.add_flag("--json", cli.json, "machine-readable output");
  app.add_option("--tz", cli.time_zone,
                 "IANA time zone for the times you type and see (default: TZ, or the system's)");
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", "duet " DUET_VERSION " (protocol 1)");
  app.fallthrough();  // --home and --json may come after the command too
  for (auto setup : kCommands) setup(app, cli);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    std::string message = e.what();
    if (message.find('\n') != std::string::npos) message = message.substr(0, message.find('\n'));
    // The deepest command typed: "duet talk" alone should list what follows.
    const CLI::App* deepest = &app;
    std::string path = "duet";
    while (!deepest->get_subcommands().empty()) {
      deepest = deepest->get_subcommands().front();
      path += " " + deepest->get_name();
    }
    if (deepest != &app && !deepest->get_subcommands({}).empty() &&
        message.find("subcommand is required") != std::string::npos) {
      std::string names;
      for (const auto* sub : deepest->get_subcommands({})) names += (names.empty() ? "" : ", ") + sub->get_name();
      std::fprintf(stderr, "duet: `%s` needs one of: %s; `%s --help` says more\n", path.c_str(),
                   names.c_str(), path.c_str());
      return 2;
    }
    if (app.get_subcommands().empty()) {
      // No known command matched: name what was typed, if anything.
      const std::string typed = argc > 1 ? FirstWord(argc, argv) : "";
      message = typed.empty() ? "no command given" : "unknown command '" + typed + "'";
      const std::string nearest = typed.empty() ? "" : duet::client::cli::NearestCommand(app, typed);
      if (!nearest.empty()) message += "; did you mean `duet " + nearest + "`?";
      std::fprintf(stderr, "duet: %s; `duet --help` lists the commands and options\n",
                   message.c_str());
      return 2;
    }
    // The command's own help says what it takes.
    std::fprintf(stderr, "duet: %s; `%s --help` says more\n",
                 duet::client::cli::InDuetVoice(message, *deepest).c_str(), path.c_str());
    return 2;
  }
  const int code = cli.run ? cli.run() : duet::client::cli::RunDashboard(cli);
  if (duet::crypto::MemoryLockFailed())
    std::fprintf(stderr,
                 "duet: warning: memory for keys could not be locked (see ulimit -l); keys may "
                 "reach swap\n");
  return code;
}
