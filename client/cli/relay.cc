// duet relay [move|set ADDRESS... [--relay-key KEY]]: which relay this
// device syncs through, and following it to new addresses (several relays
// sharing one store) or a new key without re-pairing (docs/protocol.md §3.1).
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
    nlohmann::json addresses = nlohmann::json::array();
    for (const auto& relay : d.relays()) addresses.push_back(relay.ToString());
    PrintJson({{"address", net::EndpointsToString(d.relays())},
               {"addresses", addresses},
               {"relay_key", pinned.empty() ? nlohmann::json() : nlohmann::json(pinned)},
               {"next_relay_key", next.empty() ? nlohmann::json() : nlohmann::json(next)}});
    return 0;
  }
  std::printf("relay: %s\n", net::EndpointsToString(d.relays()).c_str());
  std::printf("relay key: %s\n", pinned.empty() ? "(not pinned yet: the first sync pins it)" : pinned.c_str());
  if (!next.empty())
    std::printf("next key: %s (the relay announced it; trusted when it switches)\n", next.c_str());
  return 0;
}

int RunRelayMove(const Cli& cli, const std::vector<std::string>& addresses, const std::string& key_text) {
  std::string joined;
  for (const auto& address : addresses) joined += (joined.empty() ? "" : ",") + address;
  auto endpoints = net::ParseEndpoints(joined);
  if (!endpoints.ok()) return Fail(endpoints.error());
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
  // Every address must answer as the same relay, holding this couple:
  // a typo would otherwise surface only on the day the others are down.
  std::string relay_key;
  std::string next_relay_key;
  for (const auto& endpoint : endpoints.value()) {
    auto session = RelaySession::Open(d, endpoint, expected, kDefaultTimeout);
    if (!session.ok())
      return Fail(MakeError(session.error().kind, session.error().message + "; nothing was changed"));
    const RelaySession& s = *session.value();
    if (d.paired() && s.couple_id() != d.couple_id().value_or(""))
      return Fail(MakeError(ErrorKind::kInvalidInput,
                            "the relay at " + endpoint.ToString() +
                                " does not hold your couple's mailbox; nothing was changed (a moved "
                                "relay keeps its database and key file)"));
    if (!relay_key.empty() && s.relay_key() != relay_key)
      return Fail(MakeError(ErrorKind::kInvalidInput,
                            "the relays at " + endpoints->front().ToString() + " and " + endpoint.ToString() +
                                " have different keys: relays sharing a store serve with one key file; nothing "
                                "was changed"));
    relay_key = s.relay_key();
    next_relay_key = s.next_relay_key();
  }
  if (auto pinned = d.PinRelay(endpoints.value(), relay_key); !pinned.ok()) return Fail(pinned.error());
  if (!next_relay_key.empty())
    if (auto next = d.SetNextRelayKey(next_relay_key); !next.ok()) return Fail(next.error());
  const std::string where = net::EndpointsToString(endpoints.value());
  if (cli.json) {
    PrintJson({{"address", where}, {"relay_key", RelayKeyText(relay_key)}});
  } else {
    std::printf("relay: now %s (key %s)\n", where.c_str(), RelayKeyText(relay_key).c_str());
  }
  return 0;
}

}  // namespace

void SetupRelay(CLI::App& root, Cli& cli) {
  auto* sub = root.add_subcommand("relay", "the relay this device syncs through; follow it when it moves");
  sub->callback([&cli, sub] {
    if (sub->get_subcommands().empty()) cli.run = [&cli] { return RunRelayShow(cli); };
  });
  auto address = std::make_shared<std::vector<std::string>>();
  auto key = std::make_shared<std::string>();
  auto* move = sub->add_subcommand(
      "move", "sync through the relay at new addresses (same key), or with a new key you checked with its owner");
  move->alias("set");
  move->add_option("address", *address,
                   "HOST:PORT of the relay now; several (or HOST:PORT,HOST:PORT) for relays that share one store")
      ->required();
  move->add_option("--relay-key", *key, "the relay's new key, as its owner gave it to you");
  move->callback([&cli, address, key] {
    cli.run = [&cli, address, key] { return RunRelayMove(cli, *address, *key); };
  });
}

}  // namespace duet::client::cli
