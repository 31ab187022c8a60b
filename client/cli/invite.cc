// duet invite [--expires 24h] [--replace] [--relay-token TOKEN]
#include "client/cli/cli.h"
#include "client/model/timeplan.h"

namespace duet::client::cli {
namespace {

constexpr std::int64_t kMinExpiry = 60;
constexpr std::int64_t kMaxExpiry = 7 * 86400;

int RunInvite(const Cli& cli, const std::string& expires, bool replace, const std::string& token) {
  if (auto problem = RelayTokenProblem(token); !problem.empty())
    return Fail(MakeError(ErrorKind::kInvalidInput, problem));
  auto seconds = ParseDuration(expires);
  if (!seconds || *seconds < kMinExpiry || *seconds > kMaxExpiry)
    return Fail(MakeError(ErrorKind::kInvalidInput,
                          "--expires '" + expires + "' must be a duration from 1m to 7d, e.g. 2h"));
  auto zone = CliZone(cli);
  if (!zone.ok()) return Fail(zone.error());
  auto device = OpenDevice(cli);
  if (!device.ok()) return Fail(device.error());
  if (!token.empty()) {
    if (auto saved = device.value()->SetRelayToken(token); !saved.ok()) return Fail(saved.error());
  }
  auto invite = CreateInvite(*device.value(), static_cast<std::uint32_t>(*seconds), replace);
  if (!invite.ok()) return Fail(invite.error());
  if (cli.json) {
    PrintJson({{"code", invite->code}, {"expires_at", invite->expires_at}});
  } else {
    std::printf("%s\n", invite->code.c_str());
    std::fprintf(stderr,
                 "give this code to your partner for `duet join`; it works once, until %s; "
                 "then run `duet sync`\n",
                 model::FormatLocalTime(invite->expires_at, zone.value()).c_str());
  }
  return 0;
}

}  // namespace

void SetupInvite(CLI::App& root, Cli& cli) {
  auto expires = std::make_shared<std::string>("24h");
  auto replace = std::make_shared<bool>(false);
  auto* sub = root.add_subcommand("invite", "print a one-time code your partner joins with");
  sub->add_option("--expires", *expires, "how long the code stays valid (1m to 7d)")
      ->capture_default_str();
  auto token = std::make_shared<std::string>();
  sub->add_flag("--replace", *replace, "make a new code even though one is still open (the old code then stops working)");
  sub->add_option("--relay-token", *token,
                  "a one-time token from the relay's owner, for an invite-only relay (kept for "
                  "later invites)");
  sub->callback([&cli, expires, replace, token] {
    cli.run = [&cli, expires, replace, token] { return RunInvite(cli, *expires, *replace, *token); };
  });
}

}  // namespace duet::client::cli
