// duet relay [move ADDRESS [--relay-key KEY]]: which relay this device
// syncs through, and following it to a new address or a new key without
// re-pairing (docs/protocol.md §3.1).
#include "client/cli/cli.h"
#include "client/relay_session.h"
#include "crypto/crypto.h"

namespace duet::client::cli {
namespace {

int RunRelayShow(const Cli& cli) {
  auto device = OpenDevice(cli);
  if (!device.ok()) return Fail(device.error());
  Device& d = *device.value();
  const std::string pinned = d.pinned_relay_key() ? RelayKeyText(*d.pinned_relay_key()) : "";
  const std::string next = d.next_relay_key() ? RelayKeyText(*d.next_relay_key()) : "";
  if (cli.json) {
    PrintJson({{"address", d.relay().ToString()},
               {"relay_key", pinned.empty() ? nlohmann::json() : nlohmann::json(pinned)},
               {"next_relay_key", next.empty() ? nlohmann::json() : nlohmann::json(next)}});
    return 0;
  }
  std::printf("relay: %s\n", d.relay().ToString().c_str());
  std::printf("relay key: %s\n", pinned.empty() ? "(not pinned yet: the first sync pins it)" : pinned.c_str());
  if (!next.empty())
    std::printf("next key: %s (the relay announced it; trusted when it switches)\n", next.c_str());
  return 0;
}

int RunRelayMove(const Cli& cli, const std::string& address, const std::string& key_text) {
  auto endpoint = net::ParseEndpoint(address);
  if (!endpoint.ok()) return Fail(endpoint.error());
  std::optional<std::string> given_key;
  if (!key_text.empty()) {
    auto decoded = crypto::Base64UrlDecode(key_text);
    if (!decoded || decoded->size() != 32)
      return Fail(MakeError(ErrorKind::kInvalidInput,
                            "--relay-key '" + key_text + "' is not a relay key (43 characters, as duetd prints it)"));
    given_key = *decoded;
  }
  auto device = OpenDevice(cli);
  if (!device.ok()) return Fail(device.error());
  Device& d = *device.value();
  // The keys this device trusts, unless its user vouches for another.
  const crypto::PinnedRelayKeys expected =
      given_key ? crypto::PinnedRelayKeys(*given_key)
                : crypto::PinnedRelayKeys(d.pinned_relay_key().value_or(""), d.next_relay_key().value_or(""));
  auto session = RelaySession::Open(d, endpoint.value(), expected, kDefaultTimeout);
  if (!session.ok()) return Fail(session.error());
  const RelaySession& s = *session.value();
  if (d.paired() && s.couple_id() != d.couple_id().value_or(""))
    return Fail(MakeError(ErrorKind::kInvalidInput,
                          "the relay at " + endpoint->ToString() +
                              " does not hold your couple's mailbox; nothing was changed (a moved "
                              "relay keeps its database and key file)"));
  if (auto pinned = d.PinRelay(endpoint.value(), s.relay_key()); !pinned.ok()) return Fail(pinned.error());
  if (!s.next_relay_key().empty())
    if (auto next = d.SetNextRelayKey(s.next_relay_key()); !next.ok()) return Fail(next.error());
  if (cli.json) {
    PrintJson({{"address", endpoint->ToString()}, {"relay_key", RelayKeyText(s.relay_key())}});
  } else {
    std::printf("relay: now %s (key %s)\n", endpoint->ToString().c_str(), RelayKeyText(s.relay_key()).c_str());
  }
  return 0;
}

}  // namespace

void SetupRelay(CLI::App& root, Cli& cli) {
  auto* sub = root.add_subcommand("relay", "the relay this device syncs through; follow it when it moves");
  sub->callback([&cli, sub] {
    if (sub->get_subcommands().empty()) cli.run = [&cli] { return RunRelayShow(cli); };
  });
  auto address = std::make_shared<std::string>();
  auto key = std::make_shared<std::string>();
  auto* move = sub->add_subcommand(
      "move", "sync through the relay at a new address (same key), or with a new key you checked with its owner");
  move->add_option("address", *address, "HOST:PORT of the relay now")->required();
  move->add_option("--relay-key", *key, "the relay's new key, as its owner gave it to you");
  move->callback([&cli, address, key] {
    cli.run = [&cli, address, key] { return RunRelayMove(cli, *address, *key); };
  });
}

}  // namespace duet::client::cli
