// duet device link [--ttl MINUTES] [--no-wait] | join CODE [--label L] [--wait SECONDS] | list | revoke ID
// Several devices of one partner (docs/protocol.md §5.1).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <thread>

#include "client/cli/cli.h"
#include "client/linking.h"
#include "client/pairing.h"
#include "client/relay_session.h"

namespace duet::client::cli {
namespace {

std::string HostLabel() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "another device";
  std::string label(host);
  if (NameProblem(label).empty()) return label;
  return "another device";
}

// At a terminal: the person compares the fingerprint the new device shows.
bool AskIsMine(const model::v1::PairingIdentity& added) {
  std::printf("a device answered: '%s', fingerprint %s\ndoes your new device show exactly this fingerprint? [y/N] ",
              ForTerminal(added.name()).c_str(), DeviceFingerprint(added.sign_key()).c_str());
  std::fflush(stdout);
  std::string answer;
  return std::getline(std::cin, answer) && (answer == "y" || answer == "Y" || answer == "yes");
}

// Prints what became of a link; returns whether it was completed.
bool SayLinked(const Cli& cli, const std::string& code, const std::optional<model::v1::PairingIdentity>& added) {
  if (!added) return false;
  if (cli.json) {
    PrintJson({{"code", code}, {"linked", added->name()}, {"fingerprint", DeviceFingerprint(added->sign_key())}});
  } else {
    std::printf("linked '%s' (fingerprint %s): it has the keys and receives the history now\n",
                ForTerminal(added->name()).c_str(), DeviceFingerprint(added->sign_key()).c_str());
  }
  return true;
}

int RunLink(const Cli& cli, std::uint32_t minutes, bool wait, bool yes) {
  if (minutes < 1 || minutes > 60)
    return Fail(MakeError(ErrorKind::kInvalidInput, "--ttl is minutes from 1 to 60 (a link code is for right now)"));
  // Whoever answers first gets every key: a person compares fingerprints
  // first, a script says so up front.
  const bool ask = !yes;
  if (ask && wait && (cli.json || !::isatty(STDIN_FILENO)))
    return Fail(MakeError(ErrorKind::kInvalidInput,
                          "at a terminal duet asks you to compare the new device's fingerprint; from a script add "
                          "--yes to hand the keys to whichever device uses the code"));
  auto device = OpenDevice(cli);
  if (!device.ok()) return Fail(device.error());
  Device& d = *device.value();
  const ConfirmDevice confirm = ask ? ConfirmDevice(AskIsMine) : ConfirmDevice();
  // A device that answered an earlier code comes first.
  if (auto pending = d.pending_link(); pending && pending->role == PairingRole::kCreator && wait) {
    auto session = OpenRelay(d, kDefaultTimeout);
    if (!session.ok()) return Fail(session.error());
    SyncReport report;
    auto added = ContinueLink(d, *session.value(), report, confirm);
    if (!added.ok()) return Fail(added.error());
    for (const auto& warning : report.warnings) Warn(ForTerminal(warning));
    if (SayLinked(cli, "", added.value())) return 0;
    // Declined (and shut out) or given up: said above; a new code waits
    // until the person asks for one.
    if (!d.pending_link()) return 0;
  }
  auto code = StartLink(d, minutes * 60, yes);
  if (!code.ok()) return Fail(code.error());
  if (cli.json && !wait) {
    PrintJson({{"code", code->code}, {"expires_at", code->expires_at}});
    return 0;
  }
  if (!cli.json) {
    std::printf("on your new device, after `duet init`, run:\n  duet device join %s\n", code->code.c_str());
    std::printf("the code works once, for %u minute%s; keep it to yourself: it makes a device yours\n", minutes,
                minutes == 1 ? "" : "s");
    std::fflush(stdout);
  }
  if (!wait) {
    if (!cli.json)
      std::printf(yes ? "then run `duet sync` here to hand the new device its keys\n"
                      : "then run `duet device link` here again to compare its fingerprint and hand it the keys\n");
    return 0;
  }
  // Waits for the new device, then hands it the keys; `duet sync` does the
  // same later if this is stopped.
  auto session = OpenRelay(d, kDefaultTimeout);
  if (!session.ok()) return Fail(session.error());
  for (;;) {
    SyncReport report;
    auto added = ContinueLink(d, *session.value(), report, confirm);
    if (!added.ok()) return Fail(added.error());
    for (const auto& warning : report.warnings) Warn(ForTerminal(warning));
    if (SayLinked(cli, code->code, added.value())) return 0;
    if (!d.pending_link())
      return Fail(MakeError(ErrorKind::kRefused, "no device was linked; make a new code when you are ready"));
    if (report.held_back) {
      Warn(ForTerminal(*report.held_back));
      return Fail(MakeError(ErrorKind::kRefused, "the new device gets its keys once `duet sync` here has sent what "
                                                 "is queued"));
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

int RunJoinDevice(const Cli& cli, const std::string& code, const std::string& label_flag, std::uint32_t wait) {
  const std::string label = label_flag.empty() ? HostLabel() : label_flag;
  if (auto problem = NameProblem(label); !problem.empty())
    return Fail(MakeError(ErrorKind::kInvalidInput, "--label " + problem));
  if (wait > 3600) return Fail(MakeError(ErrorKind::kInvalidInput, "--wait is seconds from 0 to 3600"));
  auto device = OpenDevice(cli);
  if (!device.ok()) return Fail(device.error());
  Device& d = *device.value();
  auto joined = JoinAsDevice(d, code, label, std::chrono::seconds(wait));
  if (!joined.ok()) return Fail(joined.error());
  const std::string fingerprint = DeviceFingerprint(d.device_key());
  if (cli.json) {
    PrintJson({{"name", joined->name}, {"complete", joined->complete}, {"fingerprint", fingerprint}});
    return 0;
  }
  if (!joined->complete) {
    std::printf("joined as '%s' (fingerprint %s); waiting for the keys: run `duet sync` on your other device, then "
                "`duet sync` here\n",
                ForTerminal(label).c_str(), fingerprint.c_str());
    return 0;
  }
  std::printf("this device is %s's now, as '%s' (fingerprint %s); the history is here\n",
              ForTerminal(joined->name).c_str(), ForTerminal(label).c_str(), fingerprint.c_str());
  return 0;
}

nlohmann::json DevicesJson(const std::vector<model::v1::DeviceIdentity>& devices, const std::string& me) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& dev : devices)
    out.push_back({{"label", dev.label()},
                   {"id", crypto::Hex(dev.sign_key()).substr(0, 8)},
                   {"fingerprint", DeviceFingerprint(dev.sign_key())},
                   {"revoked", Device::Revoked(dev)},
                   {"this_device", dev.sign_key() == me}});
  return out;
}

int RunRevoke(const Cli& cli, const std::string& id, bool yes) {
  auto device = OpenDevice(cli);
  if (!device.ok()) return Fail(device.error());
  Device& d = *device.value();
  const auto mine = d.Devices(true);
  std::vector<std::string> keys;
  for (const auto& dev : mine) keys.push_back(dev.sign_key());
  auto key = ResolveId(id, keys, "device of yours", "duet device list");
  if (!key.ok()) return Fail(key.error());
  const auto& target = *std::find_if(mine.begin(), mine.end(), [&](const auto& dev) { return dev.sign_key() == key.value(); });
  if (!yes) {
    if (cli.json || !::isatty(STDIN_FILENO))
      return Fail(MakeError(ErrorKind::kInvalidInput, "revoking cannot be undone; add --yes to confirm"));
    std::printf("revoke '%s' (fingerprint %s)? It will read nothing written from now on, and what it writes no "
                "longer counts; what it already holds stays on it. [y/N] ",
                ForTerminal(target.label()).c_str(), DeviceFingerprint(target.sign_key()).c_str());
    std::fflush(stdout);
    std::string answer;
    if (!std::getline(std::cin, answer) || (answer != "y" && answer != "yes")) {
      std::printf("nothing changed\n");
      return 1;
    }
  }
  auto revoked = d.RevokeDevice(target.sign_key());
  if (!revoked.ok()) return Fail(revoked.error());
  // The relay hears of it at once when it can; otherwise the next sync tells it.
  auto synced = Sync(d);
  const bool told = synced.ok() && d.RevokesOwed().empty();
  if (cli.json) {
    PrintJson({{"revoked", target.label()}, {"relay_told", told}});
    return 0;
  }
  std::printf("revoked '%s': a new couple key it never learns is in use; what it writes no longer counts\n",
              ForTerminal(target.label()).c_str());
  if (!told)
    std::printf("the relay has not heard yet (%s); run `duet sync` once it can be reached\n",
                synced.ok() ? "what is queued goes first" : synced.error().message.c_str());
  return 0;
}

int RunDeviceList(const Cli& cli) {
  auto device = OpenDevice(cli);
  if (!device.ok()) return Fail(device.error());
  Device& d = *device.value();
  const auto mine = d.Devices(true);
  if (cli.json) {
    PrintJson({{"devices", DevicesJson(mine, d.device_key())}});
    return 0;
  }
  std::printf("your devices:\n");
  for (const auto& dev : mine)
    std::printf("  %s  %-20s fingerprint %s%s%s\n", crypto::Hex(dev.sign_key()).substr(0, 8).c_str(),
                ForTerminal(dev.label()).c_str(), DeviceFingerprint(dev.sign_key()).c_str(),
                dev.sign_key() == d.device_key() ? "  (this one)" : "", Device::Revoked(dev) ? "  revoked" : "");
  if (d.revoked_at())
    std::printf("this device was revoked by another of yours: it shows what it has and syncs nothing more\n");
  if (mine.size() == 1) std::printf("to use duet on another device too: duet device link\n");
  return 0;
}

}  // namespace

void SetupDevice(CLI::App& root, Cli& cli) {
  auto* device = root.add_subcommand("device", "use duet on several devices of your own");
  device->require_subcommand(1);

  auto minutes = std::make_shared<std::uint32_t>(10);
  auto no_wait = std::make_shared<bool>(false);
  auto link_yes = std::make_shared<bool>(false);
  auto* link = device->add_subcommand("link", "make a one-time code that makes another device yours");
  link->add_option("--ttl", *minutes, "minutes the code works (1-60; default 10)");
  link->add_flag("--no-wait", *no_wait, "print the code and return; the link is finished later");
  link->add_flag("--yes", *link_yes,
                 "hand the keys to whichever device uses the code, without comparing fingerprints (for scripts)");
  link->callback([&cli, minutes, no_wait, link_yes] {
    cli.run = [&cli, minutes, no_wait, link_yes] { return RunLink(cli, *minutes, !*no_wait, *link_yes); };
  });

  auto code = std::make_shared<std::string>();
  auto label = std::make_shared<std::string>();
  auto wait = std::make_shared<std::uint32_t>(120);
  auto* join = device->add_subcommand("join", "make this new device one of yours, with a code from `duet device link`");
  join->add_option("code", *code, "the link code from your other device")->required();
  join->add_option("--label", *label, "what to call this device (default: its host name)");
  join->add_option("--wait", *wait, "seconds to wait for the keys from your other device (default 120)");
  join->callback([&cli, code, label, wait] {
    cli.run = [&cli, code, label, wait] { return RunJoinDevice(cli, *code, *label, *wait); };
  });

  auto* list = device->add_subcommand("list", "your devices, with their fingerprints");
  list->callback([&cli] { cli.run = [&cli] { return RunDeviceList(cli); }; });

  auto id = std::make_shared<std::string>();
  auto yes = std::make_shared<bool>(false);
  auto* revoke = device->add_subcommand("revoke", "stop a device of yours (a lost one) from reading or writing anything new");
  revoke->add_option("id", *id, "the device's id, as `duet device list` shows it")->required();
  revoke->add_flag("--yes", *yes, "do not ask (for scripts)");
  revoke->callback([&cli, id, yes] { cli.run = [&cli, id, yes] { return RunRevoke(cli, *id, *yes); }; });
}

}  // namespace duet::client::cli
