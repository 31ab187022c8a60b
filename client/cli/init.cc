// duet init --name NAME --relay HOST:PORT[,HOST:PORT...] [--relay-key KEY] [--relay-token TOKEN]
#include "base/utf8.h"
#include "client/cli/cli.h"
#include "crypto/crypto.h"

namespace duet::client::cli {
namespace {

struct InitOptions {
  std::string name;
  std::string relay;
  std::string relay_key;
  std::string relay_token;
  bool passphrase = false;
};


int RunInit(const Cli& cli, const InitOptions& options) {
  if (auto problem = NameProblem(options.name); !problem.empty())
    return Fail(MakeError(ErrorKind::kInvalidInput, "--name " + problem));
  auto relays = net::ParseEndpoints(options.relay);
  if (!relays.ok()) return Fail(relays.error());
  const std::string relay_text = net::EndpointsToString(relays.value());
  std::optional<std::string> relay_key;
  if (!options.relay_key.empty()) {
    auto decoded = crypto::Base64UrlDecode(options.relay_key);
    if (!decoded || decoded->size() != 32)
      return Fail(MakeError(ErrorKind::kInvalidInput,
                            "--relay-key '" + options.relay_key +
                                "' is not a relay key (43 characters, as duetd prints it)"));
    relay_key = *decoded;
  }
  if (auto problem = RelayTokenProblem(options.relay_token); !problem.empty())
    return Fail(MakeError(ErrorKind::kInvalidInput, problem));
  std::optional<std::string> passphrase;
  if (options.passphrase) {
    auto given = NewPassphrase(options.name);
    if (!given.ok()) return Fail(given.error());
    passphrase = std::move(given).value();
  }
  auto home = ResolveHome(cli.home);
  if (!home.ok()) return Fail(home.error());
  auto device = Device::Create(home.value(), options.name, relays.value(), relay_key, passphrase);
  if (passphrase) crypto::WipeString(*passphrase);
  if (!device.ok()) return Fail(device.error());
  if (!options.relay_token.empty()) {
    if (auto saved = device.value()->SetRelayToken(options.relay_token); !saved.ok())
      return Fail(MakeError(saved.error().kind, saved.error().message +
                                                    "; give the token to `duet invite --relay-token`"));
  }
  if (cli.json) {
    PrintJson({{"name", options.name},
               {"relay", relay_text},
               {"home", home->data_dir},
               {"device_key", crypto::Base64UrlEncode(device.value()->my_key())}});
  } else {
    std::printf("duet is set up for %s (relay %s, files in %s)\n", options.name.c_str(),
                relay_text.c_str(), home->data_dir.c_str());
    std::printf("next: `duet invite` to invite your partner, or `duet join CODE` with theirs (or, to make this\n"
                "another device of yours, `duet device join CODE` with a code from `duet device link`)\n");
  }
  return 0;
}

}  // namespace

std::string NameProblem(const std::string& name) {
  if (!IsValidUtf8(name)) return "is not valid UTF-8 text; type it again";
  if (name.empty() || name.size() > 64) return "must be 1 to 64 characters";
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f) return "must not contain control characters";
  return {};
}

void SetupInit(CLI::App& root, Cli& cli) {
  auto options = std::make_shared<InitOptions>();
  auto* sub = root.add_subcommand("init", "set up this device: its keys and local database");
  sub->add_option("--name", options->name, "how your partner will see you")->required();
  sub->add_option("--relay", options->relay,
                  "the relay to sync through, HOST:PORT; several relays sharing one store: HOST:PORT,HOST:PORT")
      ->required();
  sub->add_option("--relay-key", options->relay_key,
                  "the relay's key as duetd prints it (otherwise trusted on first contact)");
  sub->add_option("--relay-token", options->relay_token,
                  "a one-time token from the relay's owner, for an invite-only relay");
  sub->add_flag("--passphrase", options->passphrase,
                "seal the key file with a passphrase (asked, or from DUET_PASSPHRASE)");
  sub->callback([&cli, options] { cli.run = [&cli, options] { return RunInit(cli, *options); }; });
}

}  // namespace duet::client::cli
